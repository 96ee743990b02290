"""The collector's settings for a started bot (`bot.core.heap`), in a process of its own:
freezing is for the whole process, so it is not tried in the test run's."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from bot.core import heap


def test_settle_freezes_what_start_up_left_and_widens_the_young_generation() -> None:
    script = textwrap.dedent("""
        import gc
        from bot.core import heap

        class Node:
            def __init__(self):
                self.me = self

        before = gc.get_threshold()
        alive = [Node() for _ in range(10)]
        Node()  # a cycle nobody holds: collected by settle(), not frozen
        assert heap.settle() is True
        frozen = gc.get_freeze_count()
        assert frozen > 1000, frozen
        assert gc.get_threshold() == (heap.YOUNG, before[1], before[2])
        # Once per process: a second call changes nothing.
        assert heap.settle() is False and gc.get_freeze_count() == frozen
        # What is made afterwards is still collected.
        for _ in range(3):
            Node()
        assert gc.collect() >= 3
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert heap.YOUNG > 700

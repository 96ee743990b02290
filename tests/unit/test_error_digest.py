"""The office's error reports (issue 11, row 3): one digest per period, each fault counted."""

from __future__ import annotations

from bot.core.digest import ErrorDigest, fault_key


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fault(message: str = "boom") -> RuntimeError:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def _other() -> KeyError:
    empty: dict[str, int] = {}
    try:
        empty["x"]
    except KeyError as exc:
        return exc
    raise AssertionError


def test_sixty_faults_make_one_digest_line_counted() -> None:
    ticks = Ticks()
    digest = ErrorDigest(gather_seconds=30, period_seconds=600, clock=ticks)
    delays = [digest.note(_fault(f"update {n}")) for n in range(60)]
    assert delays[0] == 30 and delays[1:] == [None] * 59  # one digest scheduled
    sent = digest.drain()
    assert sent is not None and sent.total == 60
    assert [line.count for line in sent.lines] == [60]
    assert "RuntimeError: update 0" in sent.lines[0].summary
    assert "test_error_digest.py" in sent.lines[0].summary


def test_distinct_faults_are_named_apart() -> None:
    digest = ErrorDigest(gather_seconds=0, period_seconds=600, clock=Ticks())
    for _ in range(3):
        digest.note(_fault())
    digest.note(_other())
    sent = digest.drain()
    assert sent is not None
    assert [line.count for line in sent.lines] == [3, 1]
    assert sent.lines[1].summary.startswith("KeyError")


def test_after_a_digest_the_next_waits_for_the_period() -> None:
    ticks = Ticks()
    digest = ErrorDigest(gather_seconds=30, period_seconds=600, clock=ticks)
    digest.note(_fault())
    ticks.now = 30
    assert digest.drain() is not None
    ticks.now = 100
    assert digest.note(_fault()) == 530  # not before 600 s after the last one
    assert digest.drain() is not None
    assert digest.drain() is None  # nothing new: nothing sent


def test_the_summary_is_redacted_and_short() -> None:
    digest = ErrorDigest(gather_seconds=0, period_seconds=1,
                         redact=lambda text: text.replace("13800138000", "<phone>"))
    digest.note(_fault("call 13800138000 " + "x" * 500))
    sent = digest.drain()
    assert sent is not None
    summary = sent.lines[0].summary
    assert "13800138000" not in summary and len(summary) < 260


def test_where_is_our_innermost_frame() -> None:
    kind, where = fault_key(_fault())
    assert kind == "RuntimeError" and where.startswith("unit/test_error_digest.py:")

"""`python -m bench [NAME …]`: run the benchmarks one after another, each in its own process.

Each prints its own figures; docs/<name>.md records them with the command that produced
them. Without names, all run (about a quarter of an hour on a two-core machine).
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("tables", "reminders", "evidence", "reports", "quiz", "drill", "indicators",
              "demo", "outgoing", "storage", "backup", "updates", "startup", "ops",
              "workers")


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    failed = 0
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        # A process each: peak-memory figures must not inherit another benchmark's heap.
        failed += subprocess.call([sys.executable, "-m", f"bench.{name}"]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

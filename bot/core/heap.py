"""The garbage collector, set for a process that starts once and then handles updates for
months.

CPython's cycle collector runs a young collection every 700 new container objects and,
now and then, a full one that walks every object the process holds. A started bot holds
about 110,000 of them (modules, the application, SQLAlchemy's mappers and compiled
statements), all alive until it stops, and one county-wide `/summary` makes some 20,000
short-lived ones. Measured on the leader's summary (`bench.reports --handler`, 10,000
tasks, 2,000 units): 17 % of the CPU went to the collector, each full collection paused
the event loop for about 100 ms, and every update paid for walking objects that can never
be garbage.

`settle()` is called once the bot has started. It collects what starting left behind,
moves everything still alive out of the collector's sight (`gc.freeze`), and lets the
young generation grow to `YOUNG` objects before it is collected. Objects made after that
are collected as before; reference counting frees everything that is not in a cycle at
once, as always.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

# New container objects between young collections (CPython's default: 700). A larger
# young generation means fewer collections, each a few milliseconds at most, and at most
# this many objects of cyclic garbage waiting.
YOUNG = 20_000

_settled = False


def settle() -> bool:
    """Freeze what is alive after start-up and widen the young generation; once per
    process (later calls do nothing and return False)."""
    global _settled
    if _settled:
        return False
    _settled = True
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
    log.info("heap settled: %d objects frozen", gc.get_freeze_count())
    return True

"""Deterministic fault injection: latency, server errors, dropped connections, 429s."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum


class Fault(Enum):
    NONE = "none"
    ERROR_500 = "error_500"
    ERROR_502 = "error_502"
    DROP = "drop"
    FLOOD = "flood"


@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_share: float = 0.0
    drop_share: float = 0.0
    flood_share: float = 0.0
    flood_retry_after: int = 1
    seed: int = 0
    # Bot API method names (any case); empty means every method, getUpdates included
    methods: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        total = self.error_share + self.drop_share + self.flood_share
        if min(self.error_share, self.drop_share, self.flood_share) < 0 or total > 1:
            raise ValueError("fault shares must be non-negative and add up to at most 1")
        self.methods = frozenset(m.lower() for m in self.methods)


@dataclass(frozen=True)
class FaultDecision:
    fault: Fault
    delay: float


class FaultInjector:
    """Draws one decision per Bot API request from a seeded generator.

    The same seed and the same sequence of requests give the same faults, which is
    what makes a flaky-network benchmark repeatable.
    """

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def reconfigure(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def decide(self, method: str) -> FaultDecision:
        cfg = self.config
        if cfg.methods and method.lower() not in cfg.methods:
            return FaultDecision(Fault.NONE, 0.0)
        delay = cfg.latency_ms
        if cfg.latency_jitter_ms:
            delay += self._rng.uniform(0, cfg.latency_jitter_ms)
        roll = self._rng.random()
        fault = Fault.NONE
        if roll < cfg.drop_share:
            fault = Fault.DROP
        elif roll < cfg.drop_share + cfg.error_share:
            fault = self._rng.choice((Fault.ERROR_500, Fault.ERROR_502))
        elif roll < cfg.drop_share + cfg.error_share + cfg.flood_share:
            fault = Fault.FLOOD
        return FaultDecision(fault, delay / 1000.0)

"""Per-run settings of a sandbox server."""

from __future__ import annotations

from dataclasses import dataclass, field

from .faults import FaultConfig
from .limits import RateLimitConfig

MB = 1024 * 1024


@dataclass
class SandboxConfig:
    token: str = "123456:SANDBOX-TOKEN"
    bot_first_name: str = "迎检助手"
    bot_username: str = "sandbox_inspect_bot"
    host: str = "127.0.0.1"
    port: int = 0
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Telegram's default: in groups a bot only sees commands, replies to it and mentions
    group_privacy: bool = True
    get_file_limit: int = 20 * MB
    upload_limit: int = 50 * MB
    webhook_retry_delays: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 5.0)

    def __post_init__(self) -> None:
        head, _, secret = self.token.partition(":")
        if not head.isdigit() or not secret:
            raise ValueError("a bot token looks like '<digits>:<secret>'")

    @property
    def bot_id(self) -> int:
        return int(self.token.partition(":")[0])

"""A local Telegram Bot API server with simulated people, a web chat and a test client.

Nothing here imports the bot itself: the sandbox stands in for Telegram and
knows the bot only through the Bot API.
"""

from .app import SandboxServer
from .client import SandboxClient
from .config import SandboxConfig
from .faults import FaultConfig
from .limits import RateLimitConfig
from .simulated import SimGroup, SimUser
from .views import Button, CallbackAnswer, ChatMessage, SandboxRequestError, SandboxTimeout

__all__ = [
    "Button",
    "CallbackAnswer",
    "ChatMessage",
    "FaultConfig",
    "RateLimitConfig",
    "SandboxClient",
    "SandboxConfig",
    "SandboxRequestError",
    "SandboxServer",
    "SandboxTimeout",
    "SimGroup",
    "SimUser",
]

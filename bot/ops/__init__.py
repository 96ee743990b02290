"""Operations: the health check and the HTTP surface (/healthz, /metrics, the webhook).

`bot.ops.health` is plain checks over the database and the scheduler; `bot.ops.server`
serves them, and is imported only by a process that serves HTTP.
"""


class CannotListen(OSError):
    """The HTTP server's address is taken or not this machine's: say which, and stop."""

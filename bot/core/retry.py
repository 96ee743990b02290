"""How long a reply to someone waiting may keep trying when Telegram does not take it.

A person who pressed a button is looking at the chat: a reply that arrives two seconds
late is fine, one that arrives a minute late (or an error message about a send that failed
for a moment) is not. So transient failures (a dropped connection, a timeout, a 5xx) are
tried again a few times within a few seconds, a short flood wait (`retry_after`) is waited
out, and anything longer is given up quietly: the change the person made is committed
already, and the next thing they do is answered normally.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries, how far apart, and how long all the waiting may take."""

    tries: int
    backoff: tuple[float, ...]  # waits before the second, third, … try
    budget: float  # seconds of waiting in all, flood waits included
    longest_flood_wait: float  # a retry_after longer than this is not waited out

    def wait_before_retry(
        self, failed: int, waited: float, retry_after: float | None = None
    ) -> float | None:
        """Seconds to wait before the next try after `failed` tries, or None to give up.

        `waited` is the time already spent waiting; `retry_after` is Telegram's flood
        wait when the last try was refused for flooding.
        """
        if failed >= self.tries:
            return None
        if retry_after is not None:
            wait = max(0.0, retry_after)
            if wait > self.longest_flood_wait:
                return None
        else:
            wait = self.backoff[min(failed, len(self.backoff)) - 1] if self.backoff else 0.0
        return wait if waited + wait <= self.budget else None


# A reply, a card, an edit: three tries within about five seconds.
INTERACTIVE = RetryPolicy(tries=3, backoff=(0.5, 1.5), budget=5.0, longest_flood_wait=5.0)

# One chunk of an album the person asked for: Telegram counts each item against the chat's
# pace, so the next chunk often has to wait about as many seconds as the last one had items.
ALBUM = RetryPolicy(tries=4, backoff=(0.5, 1.5, 3.0), budget=40.0, longest_flood_wait=15.0)

# Fetching a file someone just sent (getFile and the download): Telegram's file servers
# answer a 5xx or drop the connection now and then, and the sender is waiting for the
# answer, so four tries within about six seconds; after that the file waits for the
# sender's "download again" (the answer says so), never silently for a restart.
DOWNLOAD = RetryPolicy(tries=4, backoff=(0.5, 1.5, 4.0), budget=8.0, longest_flood_wait=5.0)

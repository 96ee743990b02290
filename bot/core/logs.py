"""Logging for the bot and the command line: levels, and what never reaches a log line.

A log is read by more people than the office (whoever keeps the server, whoever is sent
an excerpt), so three things never appear in it, at any level: secrets (the bot token, the
webhook secret, the object store's secret key and session token: `AppConfig.secrets`),
live invite codes, and phone numbers. SQL parameters are hidden at the
engine (`db.session`); everything else passes one filter on every handler, which rewrites
the message and any traceback before it is formatted.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.core.onboarding import CODE_ALPHABET, CODE_LENGTH

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_CODE_CHARS = re.escape(CODE_ALPHABET)
# An invite code: CODE_LENGTH characters of the code alphabet standing alone (not part of a
# longer word, a file id or a URL path segment), with at least one letter so a number is
# not mistaken for one. A 12-letter English word made of the same letters is redacted too:
# a false positive costs a word in a debug line, a miss would cost an account.
INVITE_CODE = re.compile(
    rf"(?<![A-Za-z0-9_\-])(?=[{_CODE_CHARS}]*[A-Za-z])[{_CODE_CHARS}]{{{CODE_LENGTH}}}"
    rf"(?![A-Za-z0-9_\-])"
)
# A named phone field (Bot API JSON, a dict or object repr, key=value): whatever its value.
PHONE_FIELD = re.compile(
    r"""(phone(?:_number)?['"]?\s*[:=]\s*['"]?)[^'"\s,;&)}]+""", re.IGNORECASE
)
PHONE = re.compile(
    "|".join((
        # A mainland mobile number, with or without +86, plain or in groups.
        r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])",
        # An international number written with its plus sign.
        r"(?<![0-9A-Za-z])\+[1-9][0-9 ()-]{6,18}[0-9]",
        # A landline with its area code: 0571-88888888.
        r"(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])",
    ))
)


class Redactor(logging.Filter):
    """Rewrites a record so no secret, invite code or phone number is ever formatted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        text = INVITE_CODE.sub("<code>", text)
        text = PHONE_FIELD.sub(r"\1<phone>", text)
        return PHONE.sub("<phone>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # The formatter would render the traceback later, unfiltered: render it now.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


# Loggers whose records carry a payload worth nothing to an operator, at any level.
_QUIET = {
    "httpx": logging.WARNING,  # every request URL, token included, at INFO
    "httpcore": logging.INFO,  # connection states of every request at DEBUG
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
    "jieba": logging.WARNING,  # its dictionary loading, through a handler of its own
    # Every statement with its parameters at DEBUG, beside SQLAlchemy's own log.
    "aiosqlite": logging.INFO,
}


_OURS = "_inspectbot_handler"


def setup_logging(
    *, verbose: bool, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """One handler on the root logger, its level, and the redacting filter on it.

    `-v` shows SQL statements (SQLAlchemy's INFO), never their parameters: the engine is
    built with `hide_parameters` (`db.session`).
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    redactor = Redactor(secrets)
    for each in root.handlers:
        each.addFilter(redactor)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO if verbose else logging.WARNING)
    return handler

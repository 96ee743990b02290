"""A chat's backlog of one kind of message, sent as lists.

A kind with a `Merger` (`Outbox.add_merger`) is not sent one message per row when several
wait for the same chat: the dispatcher gathers up to `LIST_ROWS` of them (those it holds
and those due in the outbox), asks each one's guard, and sends the ones still true as one
message, a header and a line each, as many as fit in Telegram's 4,096 characters. Every
row keeps its own key and is settled as sent by that one message, so "once per key" and
the guards hold as for single messages. A group's chat is allowed 20 messages a minute:
after a bulk load a leading group's chat owed tens of thousands of escalations, one a
message, which was days of that chat's sending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.keyboard import Keyboard
from bot.core.textfit import MAX_TEXT, visible_length
from bot.delivery.outbox import ListItem
from db.models import OutboxMessage

# Rows gathered for one list: about as many one-line items as fit in a message.
LIST_ROWS = 50
# Buttons under a list: the first items', one a row, as a list of new tasks has them.
LIST_BUTTONS = 10


def mergeable(row: OutboxMessage) -> bool:
    """An attachment belongs to its message; a button is replaced by its item's."""
    return not (row.photo_path or row.document_path)


def fitting(header: Callable[[int], str], lines: Sequence[str], limit: int = MAX_TEXT) -> int:
    """How many of `lines`, from the first, fit under their header in one message; at
    least one, and a list of one is sent as that row's own message."""
    used = 0
    count = 0
    for line in lines:
        width = visible_length(line) + 1  # the line break before it
        if count and used + width + visible_length(header(count + 1)) > limit:
            break
        used += width
        count += 1
    return max(1, count)


def compose(header: Callable[[int], str], items: Sequence[ListItem]) -> tuple[str, str | None]:
    """The list's HTML and its keyboard's JSON (None: no buttons)."""
    text = "\n".join([header(len(items)), *(item.line for item in items)])
    buttons = [item.button for item in items if item.button is not None][:LIST_BUTTONS]
    return text, Keyboard.column(buttons).to_json() if buttons else None

"""Handler groups, in the order python-telegram-bot offers every update to them.

Within a group the first handler whose filters match takes the update; every later group
still sees it unless a handler raises `ApplicationHandlerStop`. So a group is the place
for a decision that must come before (or after) every feature's own handlers.
"""

from __future__ import annotations

from enum import IntEnum


class Group(IntEnum):
    # A sender over their budget stops here, before anything else is done for them.
    FLOOD = -20
    # Unknown accounts stop here, before any feature sees the update.
    GATE = -10
    # In a group chat only the few commands that reveal nothing go on.
    CHATS = -9
    # An admin's spreadsheet that is the county's data workbook (recognised by its content)
    # is imported here and stops; any other spreadsheet goes on to the breakdown table.
    OFFICE_DATA = -2
    # An admin's plain spreadsheet is a breakdown table and stops here; everyone else's
    # file goes on to the evidence handlers.
    OFFICE_FILES = -1
    # Commands, buttons, photos and documents: one handler per update.
    FEATURES = 0
    # A text that replies to a task card (or its prompt) is a note or a blocking reason.
    CARD_REPLIES = 1
    # A private text while a drill waits for an answer is that answer.
    DRILL_ANSWERS = 3
    # Observes every update after the features, never answers: a person who had blocked
    # the bot and writes again can be reached again.
    BOOKKEEPING = 90

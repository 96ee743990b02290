"""Poll rules shared by sendPoll/stopPoll and by people voting."""

from __future__ import annotations

import asyncio
import hashlib

from .errors import ActionError
from .models import PollOptionRecord, PollRecord, SimUserRecord
from .serialize import poll_json, user_json
from .state import SandboxState, now


def option_records(poll_id: str, texts: list[str]) -> list[PollOptionRecord]:
    return [
        PollOptionRecord(
            text=text,
            persistent_id=hashlib.sha256(f"{poll_id}:{index}".encode()).hexdigest()[:10],
        )
        for index, text in enumerate(texts)
    ]


def schedule_close(st: SandboxState, poll: PollRecord) -> None:
    if poll.open_period:
        delay = float(poll.open_period)
    elif poll.close_date:
        delay = max(0.0, poll.close_date - now())
    else:
        return
    loop = asyncio.get_running_loop()
    st.timers.append(loop.call_later(delay, close_poll, st, poll))


def close_poll(st: SandboxState, poll: PollRecord) -> None:
    if poll.is_closed:
        return
    poll.is_closed = True
    _announce(st, poll)


def _announce(st: SandboxState, poll: PollRecord) -> None:
    # bots get `poll` updates only about polls they sent themselves, which all of these are
    st.updates.push("poll", poll_json(poll))
    msg = st.chats[poll.chat_id].messages[poll.message_id]
    st.publish_message("message_edited", msg)


def vote(st: SandboxState, poll: PollRecord, user: SimUserRecord, option_ids: list[int]) -> None:
    """Record a person's answer; an empty list retracts a vote where Telegram allows it."""
    if poll.is_closed:
        raise ActionError("poll is closed")
    if any(not 0 <= index < len(poll.options) for index in option_ids):
        raise ActionError("option index out of range")
    if len(set(option_ids)) != len(option_ids):
        raise ActionError("an option can be chosen once")
    if len(option_ids) > 1 and not poll.allows_multiple_answers:
        raise ActionError("this poll allows one answer")
    previous = poll.votes.get(user.id, [])
    if previous and not poll.allows_revoting:
        raise ActionError("this poll does not allow changing the answer")
    if not previous and not option_ids:
        raise ActionError("there is no vote to retract")
    for index in previous:
        poll.options[index].voters.discard(user.id)
    for index in option_ids:
        poll.options[index].voters.add(user.id)
    poll.votes[user.id] = list(option_ids)
    if not poll.is_anonymous:
        st.updates.push(
            "poll_answer",
            {
                "poll_id": poll.id,
                "user": user_json(user),
                "option_ids": list(option_ids),
                "option_persistent_ids": [poll.options[i].persistent_id for i in option_ids],
            },
        )
    _announce(st, poll)

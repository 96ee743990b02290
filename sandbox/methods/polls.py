"""sendPoll and stopPoll."""

from __future__ import annotations

from typing import Any

from ..errors import MESSAGE_CANT_BE_EDITED, bad_request
from ..models import PollRecord
from ..params import Params
from ..polls import close_poll, option_records, schedule_close
from ..serialize import message_json, poll_json
from ..state import SandboxState
from ..textfmt import format_text
from .common import Handler, markup, reply_target, take_quota, target_chat

JSON = dict[str, Any]


def _option_texts(p: Params) -> list[str]:
    raw = p.parsed("options", "poll options")
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    texts = [item.get("text", "") if isinstance(item, dict) else str(item) for item in raw]
    if len(texts) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(texts) > 12:
        raise bad_request("poll can't have more than 12 options")
    if any(not 1 <= len(text) <= 100 for text in texts):
        raise bad_request("poll options length must not exceed 100")
    return texts


def _correct_ids(p: Params, option_count: int) -> list[int]:
    raw = p.parsed("correct_option_ids")
    if raw is None and p.has("correct_option_id"):
        raw = [p.integer("correct_option_id")]
    if not raw:
        raise bad_request("QUIZ_CORRECT_ANSWERS_EMPTY")
    ids = [int(value) for value in raw]
    if any(not 0 <= index < option_count for index in ids) or ids != sorted(set(ids)):
        raise bad_request("QUIZ_CORRECT_ANSWER_INVALID")
    return ids


async def send_poll(st: SandboxState, p: Params) -> JSON:
    chat = target_chat(st, p)
    question = p.text("question") or ""
    if not question.strip():
        raise bad_request("poll question must be non-empty")
    if len(question) > 300:
        raise bad_request("poll question length must not exceed 300")
    texts = _option_texts(p)
    kind = p.text("type") or "regular"
    if kind not in {"regular", "quiz"}:
        raise bad_request("wrong poll type specified")
    correct = _correct_ids(p, len(texts)) if kind == "quiz" else []
    explanation: str | None = None
    explanation_entities: list[JSON] = []
    if p.has("explanation"):
        explanation, explanation_entities = format_text(
            p.req_text("explanation"),
            p.text("explanation_parse_mode"),
            p.parsed("explanation_entities"),
        )
        if len(explanation) > 200:
            raise bad_request("explanation length must not exceed 200")
    reply_to = reply_target(st, chat, p)
    keyboard = markup(p)
    take_quota(st, chat)
    poll_id = str(5_300_000_000_000_000_000 + st.next_serial())
    poll = PollRecord(
        id=poll_id,
        chat_id=chat.id,
        message_id=0,
        question=question,
        options=option_records(poll_id, texts),
        type="quiz" if kind == "quiz" else "regular",
        is_anonymous=p.flag("is_anonymous", default=True),
        # Since Bot API 9.6 a quiz may have several correct options and accept several.
        allows_multiple_answers=p.flag("allows_multiple_answers"),
        allows_revoting=p.flag("allows_revoting", default=kind == "regular"),
        correct_option_ids=correct,
        explanation=explanation,
        explanation_entities=explanation_entities,
        open_period=p.integer("open_period"),
        close_date=p.integer("close_date"),
        is_closed=p.flag("is_closed"),
    )
    st.polls[poll_id] = poll
    msg = st.add_message(
        chat,
        st.config.bot_id,
        poll_id=poll_id,
        reply_to=reply_to,
        inline_keyboard=keyboard.inline_keyboard,
        reply_keyboard=keyboard.reply_keyboard,
    )
    poll.message_id = msg.message_id
    schedule_close(st, poll)
    return message_json(st, msg)


async def stop_poll(st: SandboxState, p: Params) -> JSON:
    chat = st.chat_for_bot(p.chat_id())
    msg = st.find_message(chat.id, p.req_integer("message_id"))
    if msg is None or msg.poll_id is None:
        raise bad_request("message with poll to stop not found")
    if msg.sender_id != st.config.bot_id:
        raise bad_request(MESSAGE_CANT_BE_EDITED)
    poll = st.polls[msg.poll_id]
    if poll.is_closed:
        raise bad_request("poll has already been closed")
    msg.inline_keyboard = markup(p).inline_keyboard
    close_poll(st, poll)
    return poll_json(poll)


METHODS: dict[str, Handler] = {"sendPoll": send_poll, "stopPoll": stop_poll}

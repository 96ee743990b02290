"""Photos, documents, albums and getFile."""

from __future__ import annotations

from typing import Any

from ..errors import FILE_TOO_BIG, URL_CONTENT, bad_request
from ..models import MessageRecord, StoredFile
from ..params import Params, Upload
from ..serialize import file_json, message_json
from ..state import SandboxState
from ..textfmt import format_text
from .common import Handler, caption, checked_caption, markup, reply_target, take_quota, target_chat

JSON = dict[str, Any]


def _input_file(p: Params, name: str, value: Any = None) -> Upload | str:
    """A part uploaded under ``name``, an ``attach://`` reference, a file_id or a URL."""
    if value is None:
        if name in p.files:
            return p.files[name]
        value = p.text(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {name} in the request")
    if value.startswith("attach://"):
        attached = p.files.get(value.removeprefix("attach://"))
        if attached is None:
            raise bad_request(f'can\'t find attached file "{value.removeprefix("attach://")}"')
        return attached
    if value.startswith(("http://", "https://")):
        # the sandbox is offline by design and never fetches URLs
        raise bad_request(URL_CONTENT)
    return value


def _photo(st: SandboxState, source: Upload | str) -> list[StoredFile]:
    if isinstance(source, Upload):
        return st.media.store_photo(source.data)
    return st.media.reuse_photo(source)


def _document(st: SandboxState, source: Upload | str) -> StoredFile:
    if isinstance(source, Upload):
        return st.media.store_document(
            source.data, file_name=source.filename, mime_type=source.content_type
        )
    return st.media.reuse_document(source)


async def _send_file(st: SandboxState, p: Params, field: str) -> JSON:
    """sendPhoto and sendDocument: the same checks, in Telegram's order, then one message."""
    chat = target_chat(st, p)
    source = _input_file(p, field)
    text, entities = caption(p)
    reply_to = reply_target(st, chat, p)
    keyboard = markup(p)
    stored: dict[str, Any] = (
        {"photo": _photo(st, source)} if field == "photo" else {"document": _document(st, source)}
    )
    take_quota(st, chat)
    msg = st.add_message(
        chat,
        st.config.bot_id,
        caption=text,
        caption_entities=entities,
        reply_to=reply_to,
        inline_keyboard=keyboard.inline_keyboard,
        reply_keyboard=keyboard.reply_keyboard,
        **stored,
    )
    return message_json(st, msg)


async def send_photo(st: SandboxState, p: Params) -> JSON:
    return await _send_file(st, p, "photo")


async def send_document(st: SandboxState, p: Params) -> JSON:
    return await _send_file(st, p, "document")


async def send_media_group(st: SandboxState, p: Params) -> list[JSON]:
    chat = target_chat(st, p)
    items = p.parsed("media", "InputMedia")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media in the media group, must be 2-10")
    kinds = {item.get("type") for item in items if isinstance(item, dict)}
    if not kinds <= {"photo", "document"} or len(kinds) != 1:
        # albums of documents cannot be mixed with other media
        raise bad_request("can't parse InputMedia: media group must be all photos or all documents")
    reply_to = reply_target(st, chat, p)
    prepared: list[dict[str, Any]] = []
    for item in items:
        source = _input_file(p, "media", item.get("media"))
        text: str | None = None
        entities: list[JSON] = []
        if item.get("caption"):
            text, entities = format_text(
                item["caption"], item.get("parse_mode"), item.get("caption_entities")
            )
            checked_caption(text)
        media: dict[str, Any] = (
            {"photo": _photo(st, source)}
            if item["type"] == "photo"
            else {"document": _document(st, source)}
        )
        prepared.append({**media, "caption": text, "caption_entities": entities})
    take_quota(st, chat, count=len(prepared))
    group_id = str(13_000_000_000_000_000 + st.next_serial())
    sent: list[MessageRecord] = [
        st.add_message(chat, st.config.bot_id, reply_to=reply_to, media_group_id=group_id, **fields)
        for fields in prepared
    ]
    return [message_json(st, msg) for msg in sent]


async def get_file(st: SandboxState, p: Params) -> JSON:
    stored = st.media.get(p.req_text("file_id"))
    if stored.size > st.config.get_file_limit:
        raise bad_request(FILE_TOO_BIG)
    return file_json(stored)


METHODS: dict[str, Handler] = {
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendMediaGroup": send_media_group,
    "getFile": get_file,
}

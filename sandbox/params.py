"""Bot API parameters from a query string, a form, multipart or a JSON body.

Like Telegram, non-string values sent as form fields are JSON-encoded text
(that is what python-telegram-bot sends), so every getter accepts both shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import ApiError, bad_request


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    content_type: str | None


@dataclass
class Params:
    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def req_text(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def req_integer(self, name: str) -> int:
        value = self.integer(name, required=True)
        assert value is not None
        return value

    def number(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, str):
            return value.lower() in {"true", "1", "yes"}
        return bool(value)

    def parsed(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def chat_id(self) -> int | str:
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int):
            return value
        text = str(value)
        try:
            return int(text)
        except ValueError:
            return text


async def read_params(request: web.Request, max_size: int) -> Params:
    """Collect parameters the way the Bot API does, whatever the body encoding."""
    params = Params(values=dict(request.query))
    content_type = request.content_type
    if request.method != "POST" or not request.can_read_body:
        return params
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        params.values.update(body)
    elif content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = await part.read(decode=True)
            if len(data) > max_size:
                raise ApiError(413, "Request Entity Too Large")
            if part.filename is not None:
                params.files[part.name] = Upload(
                    data=bytes(data),
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type"),
                )
            else:
                params.values[part.name] = bytes(data).decode("utf-8")
    elif content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        params.values.update({key: value for key, value in form.items() if isinstance(value, str)})
    return params

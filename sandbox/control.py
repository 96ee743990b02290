"""The control API under /sandbox: people, their actions, chat history, live events, knobs.

The web chat and the test client both go through these routes, so whatever a
test can do, a person at the web chat can do too.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from . import actions
from .errors import ActionError, ApiError
from .faults import FaultConfig
from .limits import RateLimitConfig
from .methods.bot import resolve_commands
from .models import ChatRecord, SimUserRecord
from .state import SandboxState

JSON = dict[str, Any]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
SOCKETS_KEY = web.AppKey("sandbox_sockets", set[web.WebSocketResponse])


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _guarded(route: Route) -> Route:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await route(request)
        except _Refusal as exc:
            return web.json_response({"error": str(exc)}, status=exc.status)
        except ActionError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except ApiError as exc:
            return web.json_response({"error": exc.description}, status=400)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)

    return wrapper


async def _body(request: web.Request) -> JSON:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise _Refusal(400, "expected a JSON object")
    return data


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Refusal(400, f"{name} must be an integer") from None


def _opt_int(value: Any, name: str) -> int | None:
    return None if value in (None, "") else _int(value, name)


class _Control:
    def __init__(self, st: SandboxState) -> None:
        self.st = st

    def _user(self, request: web.Request) -> SimUserRecord:
        user = self.st.users.get(_int(request.match_info["user_id"], "user_id"))
        if user is None:
            raise _Refusal(404, f"no user {request.match_info['user_id']}")
        return user

    def _chat(self, chat_id: Any) -> ChatRecord:
        chat = self.st.chats.get(_int(chat_id, "chat_id"))
        if chat is None:
            raise _Refusal(404, f"no chat {chat_id}")
        return chat

    async def info(self, request: web.Request) -> web.Response:
        cfg = self.st.config
        return web.json_response(
            {
                "bot": {
                    "id": cfg.bot_id,
                    "first_name": cfg.bot_first_name,
                    "username": cfg.bot_username,
                },
                "group_privacy": cfg.group_privacy,
                "version": self.st.events.version,
                "webhook": self.st.updates.webhook.url if self.st.updates.webhook else None,
                "pending_updates": len(self.st.updates.pending),
            }
        )

    async def list_users(self, request: web.Request) -> web.Response:
        return web.json_response([self.st.user_view(u) for u in self.st.users.values()])

    async def add_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self.st.add_user(
            str(body["first_name"]),
            user_id=_opt_int(body.get("user_id"), "user_id"),
            last_name=body.get("last_name"),
            username=body.get("username"),
            language_code=body.get("language_code", "zh-hans"),
            role=body.get("role"),
            started=bool(body.get("started", False)),
        )
        return web.json_response(self.st.user_view(user), status=201)

    async def list_chats(self, request: web.Request) -> web.Response:
        return web.json_response([self.st.chat_view(c) for c in self.st.chats.values()])

    async def add_group(self, request: web.Request) -> web.Response:
        body = await _body(request)
        chat = self.st.add_group(
            str(body["title"]),
            [_int(uid, "members") for uid in body.get("members", [])],
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
            chat_type=body.get("type", "supergroup"),
        )
        return web.json_response(self.st.chat_view(chat), status=201)

    async def messages(self, request: web.Request) -> web.Response:
        chat = self._chat(request.match_info["chat_id"])
        include_deleted = request.query.get("include_deleted") in {"1", "true"}
        version = self.st.events.version
        views = [
            self.st.message_view(msg)
            for msg in chat.messages.values()
            if include_deleted or not msg.deleted
        ]
        return web.json_response(
            {"version": version, "chat": self.st.chat_view(chat), "messages": views}
        )

    async def commands(self, request: web.Request) -> web.Response:
        chat = self._chat(request.match_info["chat_id"])
        user_id = _opt_int(request.query.get("user_id"), "user_id") or chat.user_id or 0
        user = self.st.users.get(user_id)
        language = (user.language_code if user else None) or ""
        return web.json_response(resolve_commands(self.st, chat.id, user_id, language))

    async def send(self, request: web.Request) -> web.Response:
        user, body = self._user(request), await _body(request)
        msg = actions.send_text(
            self.st,
            user.id,
            str(body.get("text", "")),
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
            reply_to=_opt_int(body.get("reply_to"), "reply_to"),
        )
        return web.json_response({"message": self.st.message_view(msg)})

    async def edit(self, request: web.Request) -> web.Response:
        user, body = self._user(request), await _body(request)
        msg = actions.edit_text(
            self.st,
            user.id,
            _int(body.get("chat_id", user.id), "chat_id"),
            _int(body.get("message_id"), "message_id"),
            str(body.get("text", "")),
        )
        return web.json_response({"message": self.st.message_view(msg)})

    async def media(self, request: web.Request) -> web.Response:
        """Multipart with ``photo``/``document`` file parts, or JSON with base64 items."""
        user = self._user(request)
        items: list[actions.Attachment] = []
        fields: dict[str, str] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = bytes(await part.read(decode=True))
                if part.filename is None:
                    fields[part.name] = data.decode()
                else:
                    items.append(
                        actions.Attachment(
                            part.name, data, part.filename, part.headers.get("Content-Type")
                        )
                    )
        else:
            body = await _body(request)
            fields = {k: str(v) for k, v in body.items() if k != "items" and v is not None}
            for item in body.get("items", []):
                items.append(
                    actions.Attachment(
                        str(item["kind"]),
                        base64.b64decode(item["data"]),
                        str(item.get("file_name") or "file"),
                        item.get("mime_type"),
                    )
                )
        sent = actions.send_media(
            self.st,
            user.id,
            items,
            caption=fields.get("caption") or None,
            chat_id=_opt_int(fields.get("chat_id"), "chat_id"),
            reply_to=_opt_int(fields.get("reply_to"), "reply_to"),
        )
        return web.json_response({"messages": [self.st.message_view(m) for m in sent]})

    async def press(self, request: web.Request) -> web.Response:
        user, body = self._user(request), await _body(request)
        query = actions.press_button(
            self.st,
            user.id,
            _int(body.get("chat_id", user.id), "chat_id"),
            _int(body.get("message_id"), "message_id"),
            text=body.get("text"),
            callback_data=body.get("callback_data"),
        )
        return web.json_response({"query_id": query.id, "data": query.data})

    async def callback(self, request: web.Request) -> web.Response:
        query = self.st.callbacks.get(request.match_info["query_id"])
        if query is None:
            raise _Refusal(404, "no such callback query")
        return web.json_response(
            {"query_id": query.id, "answered": query.answered, "answer": query.answer}
        )

    async def poll_answer(self, request: web.Request) -> web.Response:
        user, body = self._user(request), await _body(request)
        chat_id = _int(body.get("chat_id", user.id), "chat_id")
        message_id = _int(body.get("message_id"), "message_id")
        actions.answer_poll(
            self.st,
            user.id,
            chat_id,
            message_id,
            [_int(i, "option_ids") for i in body.get("option_ids", [])],
        )
        msg = self.st.chats[chat_id].messages[message_id]
        return web.json_response({"message": self.st.message_view(msg)})

    def _blocking(self, blocked: bool) -> Route:
        async def route(request: web.Request) -> web.Response:
            user = self._user(request)
            actions.set_blocked(self.st, user.id, blocked)
            return web.json_response(self.st.user_view(user))

        return route

    async def file(self, request: web.Request) -> web.Response:
        stored = self.st.media.files.get(request.match_info["file_id"])
        if stored is None:
            raise _Refusal(404, "no such file")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def wait(self, request: web.Request) -> web.Response:
        after = _int(request.query.get("after", "0"), "after")
        seconds = min(float(request.query.get("timeout", "10")), 60.0)
        return web.json_response({"version": await self.st.events.wait_after(after, seconds)})

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(_fault_json(self.st.faults.config))

    async def put_faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        merged = {**_fault_json(self.st.faults.config), **body}
        config = FaultConfig(**{**merged, "methods": frozenset(merged.get("methods") or ())})
        self.st.faults.reconfigure(config)
        self.st.config.faults = config
        return web.json_response(_fault_json(config))

    async def get_limits(self, request: web.Request) -> web.Response:
        return web.json_response(dataclasses.asdict(self.st.limiter.config))

    async def put_limits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        config = RateLimitConfig(**{**dataclasses.asdict(self.st.limiter.config), **body})
        self.st.limiter.reconfigure(config)
        self.st.config.rate_limits = config
        return web.json_response(dataclasses.asdict(config))

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.st.stats.as_json())

    async def reset_stats(self, request: web.Request) -> web.Response:
        self.st.stats.reset()
        return web.json_response(self.st.stats.as_json())

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        request.app[SOCKETS_KEY].add(ws)
        queue = self.st.events.subscribe()
        sender = asyncio.get_running_loop().create_task(_forward(queue, ws))
        try:
            async for message in ws:
                if message.type in {WSMsgType.ERROR, WSMsgType.CLOSE}:
                    break
        finally:
            request.app[SOCKETS_KEY].discard(ws)
            sender.cancel()
            self.st.events.unsubscribe(queue)
        return ws


async def _forward(queue: asyncio.Queue[JSON], ws: web.WebSocketResponse) -> None:
    while not ws.closed:
        await ws.send_json(await queue.get())


def _fault_json(config: FaultConfig) -> JSON:
    data = dataclasses.asdict(config)
    data["methods"] = sorted(config.methods)
    return data


def add_routes(app: web.Application, st: SandboxState) -> None:
    c = _Control(st)
    app[SOCKETS_KEY] = set()
    routes: list[tuple[str, str, Route]] = [
        ("GET", "/sandbox/info", c.info),
        ("GET", "/sandbox/users", c.list_users),
        ("POST", "/sandbox/users", c.add_user),
        ("GET", "/sandbox/chats", c.list_chats),
        ("POST", "/sandbox/groups", c.add_group),
        ("GET", "/sandbox/chats/{chat_id}/messages", c.messages),
        ("GET", "/sandbox/chats/{chat_id}/commands", c.commands),
        ("POST", "/sandbox/users/{user_id}/send", c.send),
        ("POST", "/sandbox/users/{user_id}/edit", c.edit),
        ("POST", "/sandbox/users/{user_id}/media", c.media),
        ("POST", "/sandbox/users/{user_id}/press", c.press),
        ("POST", "/sandbox/users/{user_id}/poll_answer", c.poll_answer),
        ("POST", "/sandbox/users/{user_id}/block", c._blocking(True)),
        ("POST", "/sandbox/users/{user_id}/unblock", c._blocking(False)),
        ("GET", "/sandbox/callbacks/{query_id}", c.callback),
        ("GET", "/sandbox/files/{file_id}", c.file),
        ("GET", "/sandbox/wait", c.wait),
        ("GET", "/sandbox/faults", c.get_faults),
        ("PUT", "/sandbox/faults", c.put_faults),
        ("GET", "/sandbox/rate_limits", c.get_limits),
        ("PUT", "/sandbox/rate_limits", c.put_limits),
        ("GET", "/sandbox/stats", c.stats),
        ("POST", "/sandbox/stats/reset", c.reset_stats),
    ]
    for method, path, route in routes:
        app.router.add_route(method, path, _guarded(route))
    app.router.add_get("/sandbox/ws", c.websocket)


async def close_sockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[SOCKETS_KEY]
    for ws in tuple(sockets):
        await ws.close()

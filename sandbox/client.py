"""An async test client for the control API that lets an end-to-end test read like a story.

alice = await sandbox.add_user("张三", user_id=1001)
await alice.send("/start")
welcome = await alice.expect_message(contains="欢迎")
await alice.press(welcome, "开始")

The people and groups it hands out are in `sandbox.simulated`; what a test expects to see
in their chats, in `sandbox.expectations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from .simulated import SimGroup, SimUser
from .views import ChatMessage, SandboxRequestError

if TYPE_CHECKING:
    from .app import SandboxServer

JSON = dict[str, Any]


class SandboxClient:
    """The control API: people, groups, chats, knobs and counters of one sandbox server."""

    def __init__(
        self, url: str, *, token: str | None = None, server: SandboxServer | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.server = server
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def for_server(cls, server: SandboxServer) -> SandboxClient:
        return cls(server.url, token=server.token, server=server)

    @property
    def base_url(self) -> str:
        """What to pass to ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(method, f"{self.url}/sandbox{path}", **kwargs) as response:
            body = await response.json()
            if response.status >= 400:
                raise SandboxRequestError(f"{method} {path}: {body.get('error', body)}")
            return body

    # people and chats

    async def add_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        role: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """A new person; ``started=False`` means the bot may not write first, as on Telegram."""
        info = await self.request(
            "POST",
            "/users",
            json={
                "first_name": first_name,
                "user_id": user_id,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "role": role,
                "started": started,
            },
        )
        return SimUser(self, info)

    async def add_group(
        self,
        title: str,
        members: Sequence[SimUser | int],
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
    ) -> SimGroup:
        member_ids = [m.id if isinstance(m, SimUser) else int(m) for m in members]
        info = await self.request(
            "POST",
            "/groups",
            json={"title": title, "members": member_ids, "chat_id": chat_id, "type": chat_type},
        )
        return SimGroup(self, info)

    async def users(self) -> list[JSON]:
        return list(await self.request("GET", "/users"))

    async def chats(self) -> list[JSON]:
        return list(await self.request("GET", "/chats"))

    async def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        return (await self.snapshot(chat_id, include_deleted=include_deleted))[1]

    async def snapshot(
        self, chat_id: int, *, include_deleted: bool = False
    ) -> tuple[int, list[ChatMessage]]:
        query = {"include_deleted": "1"} if include_deleted else {}
        body = await self.request("GET", f"/chats/{chat_id}/messages", params=query)
        return int(body["version"]), [ChatMessage(view) for view in body["messages"]]

    async def wait_change(self, version: int, seconds: float) -> int:
        """Block until the sandbox changes after ``version`` (or ``seconds`` pass)."""
        body = await self.request(
            "GET", "/wait", params={"after": str(version), "timeout": f"{seconds:.3f}"}
        )
        return int(body["version"])

    # knobs and counters

    async def set_faults(self, **settings: Any) -> JSON:
        """E.g. ``set_faults(error_share=0.1, latency_ms=50, seed=7)``; unnamed keys keep their value."""
        return dict(await self.request("PUT", "/faults", json=settings))

    async def set_rate_limits(self, **settings: Any) -> JSON:
        return dict(await self.request("PUT", "/rate_limits", json=settings))

    async def stats(self) -> JSON:
        return dict(await self.request("GET", "/stats"))

    async def reset_stats(self) -> JSON:
        return dict(await self.request("POST", "/stats/reset"))

"""The HTTP face of the sandbox: Bot API routes, file downloads, control API, web chat."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

from aiohttp import web

from . import control, webchat
from .config import SandboxConfig
from .errors import NOT_FOUND, UNAUTHORIZED, ApiError, too_many_requests
from .faults import Fault
from .methods import method_table
from .params import Params, read_params
from .state import SandboxState

log = logging.getLogger(__name__)

_BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
STATE_KEY = web.AppKey("sandbox_state", SandboxState)


def _api_error(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.code)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _BotApi:
    def __init__(self, st: SandboxState) -> None:
        self.st = st
        self.methods = method_table()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        st = self.st
        method = request.match_info["method"]
        st.stats.requests[method] += 1
        decision = st.faults.decide(method)
        # The request is read as it arrives; the latency is the wait for the answer. What
        # has arrived is acted on even when the client is gone by the time it is answered,
        # as at Telegram: a bot killed while it waits has still sent its message.
        params: Params | ApiError
        try:
            params = await read_params(request, st.config.upload_limit)
        except ApiError as error:
            params = error
        except web.HTTPRequestEntityTooLarge:
            params = ApiError(413, "Request Entity Too Large")
        except ConnectionResetError:
            # The client went away before the whole request arrived: nothing to act on.
            st.stats.errors[499] += 1
            return web.Response(status=499)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.fault is not Fault.NONE:
            st.stats.faults[decision.fault.value] += 1
            return self._fault(request, decision.fault)
        try:
            if request.match_info["token"] != st.config.token:
                raise UNAUTHORIZED
            handler = self.methods.get(method.lower())
            if handler is None:
                raise NOT_FOUND
            if isinstance(params, ApiError):
                raise params
            result = await handler(st, params)
        except ApiError as error:
            st.stats.errors[error.code] += 1
            return _api_error(error)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _fault(self, request: web.Request, fault: Fault) -> web.Response:
        if fault is Fault.DROP:
            # the client sees the connection die without any answer
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)  # never written: the transport is gone
        if fault is Fault.ERROR_502:
            return web.Response(status=502, text=_BAD_GATEWAY_PAGE, content_type="text/html")
        if fault is Fault.ERROR_500:
            return _api_error(ApiError(500, "Internal Server Error"))
        return _api_error(too_many_requests(self.st.config.faults.flood_retry_after))

    async def download(self, request: web.Request) -> web.StreamResponse:
        st = self.st
        if request.match_info["token"] != st.config.token:
            return _api_error(UNAUTHORIZED)
        stored = st.media.by_path.get(request.match_info["path"])
        if stored is None or stored.size > st.config.get_file_limit:
            return _api_error(NOT_FOUND)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )


def build_app(st: SandboxState) -> web.Application:
    app = web.Application(client_max_size=st.config.upload_limit + 1024 * 1024)
    app[STATE_KEY] = st
    api = _BotApi(st)
    app.router.add_route("*", "/bot{token}/{method}", api.handle)
    app.router.add_get("/file/bot{token}/{path:.+}", api.download)
    control.add_routes(app, st)
    webchat.add_routes(app)
    return app


class SandboxServer:
    """A local Bot API server; give PTB ``base_url`` and ``base_file_url``.

    >>> async with SandboxServer() as server:
    ...     bot = telegram.Bot(server.token, base_url=server.base_url,
    ...                        base_file_url=server.base_file_url)
    """

    def __init__(self, config: SandboxConfig | None = None, **overrides: Any) -> None:
        self.config = dataclasses.replace(config or SandboxConfig(), **overrides)
        self._state: SandboxState | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def state(self) -> SandboxState:
        if self._state is None:
            raise RuntimeError("the sandbox server is not running")
        return self._state

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox server is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._state = SandboxState(self.config)
        self._runner = web.AppRunner(build_app(self._state), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError:
            # The port is taken (or the host is not ours): leave nothing half started, so
            # the caller can report it and try again.
            runner, self._runner, self._state = self._runner, None, None
            await runner.cleanup()
            raise
        self._port = int(self._runner.addresses[0][1])
        log.info("sandbox Bot API server listening on %s", self.url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        state = self.state
        for timer in state.timers:
            timer.cancel()
        await state.updates.close()
        await control.close_sockets(self._runner.app)
        await self._runner.cleanup()
        self._runner = None
        self._port = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

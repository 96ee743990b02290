"""The Bot API over aiohttp: python-telegram-bot's `BaseRequest`, cheaper per request.

PTB's default transport, `HTTPXRequest`, costs about 1.5 ms of CPU for each request on the
development machine; the same request through aiohttp's client costs about 0.2 ms
(`python -m bench.transport`). Every update the bot answers makes two or three requests
(the answer to a button, the edit, the reply), and the outbox sends up to 30 a second, so
this is CPU the bot gives back to people and reminders. PTB documents `BaseRequest` as the
place for another HTTP library; this follows `HTTPXRequest`'s behaviour:

- form fields as PTB encodes them (`RequestData.json_parameters`), multipart when there
  are files (`RequestData.multipart_data`), a GET for file downloads;
- PTB's timeouts: `connect` (including the wait for a free connection, which aiohttp does
  not time apart), `read` (between bytes of the answer), and the defaults given here when
  a call does not name its own; a write timeout has no counterpart in aiohttp and is
  covered by `read`;
- a timeout raises `TimedOut`, any other transport failure `NetworkError` — whose text
  never carries the URL, as the URL holds the bot's token;
- at most `connection_pool_size` connections, kept alive between requests;
- the proxy named by `HTTPS_PROXY` / `HTTP_PROXY` (and `NO_PROXY`), read once at start as
  httpx would read it. (aiohttp's own `trust_env` also looks for a `.netrc` in a thread on
  every request, which costs more than the request.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    import aiohttp

_TOKEN_IN_URL = re.compile(r"/(file/)?bot[^/\s]+")


def _scrubbed(text: str) -> str:
    """An error's text without the bot's token, should a library put the URL in it."""
    return _TOKEN_IN_URL.sub(lambda m: f"/{m.group(1) or ''}bot<token>", text)


class AiohttpRequest(BaseRequest):
    """`BaseRequest` on one `aiohttp.ClientSession` (created by `initialize`)."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_read_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_read_timeout = media_read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._bypass: Callable[[str, dict[str, str]], bool] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is not None and not self._session.closed:
            return
        # Here, not at import: `inspectbot --help` has no use for them.
        import urllib.request

        import aiohttp

        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            headers={"User-Agent": self.USER_AGENT},
            raise_for_status=False,
        )
        self._proxies = urllib.request.getproxies()
        # `proxy_bypass_environment` is urllib's reading of NO_PROXY (not in its stubs).
        self._bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009

    async def shutdown(self) -> None:
        if self._session is None or self._session.closed:
            return
        await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        import aiohttp

        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._media_read_timeout if files else self._read_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = None
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        # Uploading counts against the read timeout too: aiohttp has no write timeout.
        reading = _longest(read_timeout, write_timeout) if files else read_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_sum(connect_timeout, pool_timeout),
            sock_connect=connect_timeout,
            sock_read=reading,
        )
        data = _body(request_data)
        try:
            async with session.request(method, url, data=data, timeout=timeout,
                                       proxy=self._proxy_for(url)) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts are (asyncio's) TimeoutErrors
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_scrubbed(str(err))}") from err
        except OSError as err:
            raise NetworkError(f"{type(err).__name__}: {_scrubbed(str(err))}") from err

    def _proxy_for(self, url: str) -> str | None:
        if not self._proxies or self._bypass is None:
            return None
        parts = urlsplit(url)
        if self._bypass(parts.hostname or "", self._proxies):
            return None
        return self._proxies.get(parts.scheme) or self._proxies.get("all")


def _body(request_data: RequestData | None) -> Any:
    """Form fields, or multipart when the request carries files (as `HTTPXRequest`)."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    import aiohttp

    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, part in files.items():
        file_name, content, mime_type = part
        form.add_field(name, content, filename=file_name, content_type=mime_type)
    return form


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _longest(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a, b)


"""The default transport: httpx's interface, aiohttp's connection pool underneath.

httpx stays the client's API (its requests, responses, timeouts and errors; MockTransport in
tests); aiohttp moves the bytes, at a fraction of httpcore's CPU per request once many are in
flight. ``AsyncHotglue(transport="httpx")`` selects plain httpx.

Failures keep the meaning the launch engine relies on (see ``_exceptions._NOT_SENT``):

* not sent — ``httpx.ConnectError`` (refused, DNS, TLS handshake or certificate),
  ``httpx.ConnectTimeout`` (connect timeout), ``httpx.PoolTimeout`` (no free connection
  within the pool timeout);
* maybe sent — ``httpx.ReadTimeout`` (no answer within the read timeout),
  ``httpx.RemoteProtocolError`` (the connection closed or reset after the request was
  written, or a malformed answer), ``httpx.ReadError`` (any other error once connected).

aiohttp has no write timeout (bodies here are small); proxies come from ``HTTP(S)_PROXY`` /
``NO_PROXY``, read once when the pool opens, as with httpx's ``trust_env`` (no ~/.netrc login
for the API host: the API key is the only credential sent); TLS uses the system's
certificates (httpx uses certifi's).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
from typing import Any

import aiohttp
import httpx

__all__ = ["AiohttpTransport", "make_transport"]

#: the longest header line read (aiohttp's own limit is 8,190 bytes; httpx's h11 reads a
#: header block of up to 16 KB, so anything httpx reads is read here too)
HEADER_LIMIT = 65_536


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through one ``aiohttp.ClientSession`` (one event loop)."""

    def __init__(self, max_connections: int = 100, *, trust_env: bool = True) -> None:
        self._size = max_connections
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop
        self._slots: asyncio.Semaphore | None = None
        self._proxies = _Proxies(False)

    def _open(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        if self._session is None or self._session.closed or self._slots is None:
            connector = aiohttp.TCPConnector(limit=self._size, limit_per_host=self._size)
            # trust_env stays off in aiohttp: it would read ~/.netrc and the proxy settings in
            # a worker thread on every request (two thread hand-offs each); _Proxies reads the
            # environment once, when the pool opens, as httpx does.
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                max_line_size=HEADER_LIMIT, max_field_size=HEADER_LIMIT,
            )  # fmt: skip
            _OPEN[id(self)] = self._session
            self._proxies = _Proxies(self._trust_env)
            self._slots = asyncio.Semaphore(self._size)
            self._loop = asyncio.get_running_loop()
        return self._session, self._slots

    def __del__(self) -> None:
        # A client left open (usual in a notebook) must not make aiohttp print "Unclosed
        # client session" when it is collected. The session is held by _OPEN, never in a
        # garbage cycle with this transport, so it is still open here; closing its connector
        # closes the sockets at once (the session then reads closed), on the loop's thread.
        session = _OPEN.pop(id(self), None)
        if session is None or session.closed or session.connector is None:
            return
        loop, connector = self._loop, session.connector
        if loop.is_closed() or _running_loop() is loop:
            connector._close()
            return
        with contextlib.suppress(RuntimeError):  # the callback keeps the session until then
            loop.call_soon_threadsafe(lambda: (connector._close(), session))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = list(request.headers.multi_items())
        timeouts = request.extensions.get("timeout") or {}
        status, raw_headers, content = await self.fetch(
            request.method, str(request.url), headers, request.content or None, timeouts,
            request=request,
        )  # fmt: skip
        return httpx.Response(
            status, headers=raw_headers, content=content, request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )  # fmt: skip

    async def fetch(
        self,
        method: str,
        url: str,
        headers: Any,
        body: bytes | None,
        timeouts: dict[str, Any],
        *,
        request: httpx.Request | None = None,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One exchange without httpx objects (the client's hot path): status, raw headers,
        body; failures raised as the httpx errors listed above."""
        session, slots = self._open()
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection within the pool timeout") from None
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeouts.get("connect"), sock_read=timeouts.get("read")
        )
        proxy, proxy_auth = self._proxies.get(url)
        try:
            async with session.request(
                method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout,
                proxy=proxy, proxy_auth=proxy_auth,
            ) as answer:  # fmt: skip
                return answer.status, list(answer.raw_headers), await answer.read()
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc, request) from exc
        except TimeoutError as exc:  # asyncio's, from a socket read
            raise httpx.ReadTimeout(str(exc) or "read timeout", request=request) from exc
        finally:
            slots.release()

    async def aclose(self) -> None:
        _OPEN.pop(id(self), None)
        if self._session is not None:
            await self._session.close()
            self._session = None


#: the open sessions, by id of their transport (see ``AiohttpTransport.__del__``)
_OPEN: dict[int, aiohttp.ClientSession] = {}


@atexit.register
def _close_orphans() -> None:
    """Sessions still open at exit (a client never closed): the process is ending, so their
    connectors are closed from here, silently, whichever thread their loop ran on."""
    for key, session in list(_OPEN.items()):
        if session.connector is not None:
            with contextlib.suppress(Exception):
                session.connector._close()
        _OPEN.pop(key, None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _Proxies:
    """The proxy for each origin, from ``HTTP(S)_PROXY`` / ``NO_PROXY`` read once (aiohttp's
    own reading of them, user:password in the proxy URL or ~/.netrc for the proxy host)."""

    def __init__(self, trust_env: bool) -> None:
        self._env = aiohttp.helpers.proxies_from_env() if trust_env else {}
        self._by_origin: dict[str, tuple[str | None, aiohttp.BasicAuth | None]] = {}

    def get(self, url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
        if not self._env:
            return None, None
        end = url.find("/", url.find("://") + 3)
        origin = url if end < 0 else url[:end]
        found = self._by_origin.get(origin)
        if found is None:
            found = self._by_origin[origin] = self._lookup(origin)
        return found

    def _lookup(self, origin: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
        import urllib.request

        scheme, _, host = origin.partition("://")
        info = self._env.get(scheme)
        if info is None or urllib.request.proxy_bypass(host.rpartition("@")[2]):
            return None, None
        return str(info.proxy), info.proxy_auth


def _httpx_error(exc: aiohttp.ClientError, request: httpx.Request | None) -> httpx.TransportError:
    """aiohttp's error as the httpx error that says whether the request may have been sent."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):  # DNS, refused, TLS: never connected
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(text, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(text, request=request)
    return httpx.ReadError(text, request=request)


def make_transport(choice: Any, max_connections: int) -> httpx.AsyncBaseTransport | None:
    """The transport for ``AsyncHotglue(transport=...)``: "aiohttp" (default), "httpx" (None:
    httpx's own pool) or a ready httpx transport (``httpx.MockTransport`` in tests)."""
    if choice is None or choice == "aiohttp":
        return AiohttpTransport(max_connections)
    if choice == "httpx":
        return None
    if isinstance(choice, httpx.AsyncBaseTransport):
        return choice
    raise TypeError(choice)

"""The connection pool: one httpx client per event loop (an httpx client belongs to the
loop that first used it, and a client may be used from Jupyter's loop and from hotglue_nb's
loop thread alike). A user's own ``http_client`` is used as given."""

from __future__ import annotations

import asyncio
import copy
import weakref
from typing import Any

import httpx

from .._config import Credentials
from .._version import __version__

__all__ = ["Pool", "headers"]


class Pool:
    """The connection pool of a client and its siblings, one httpx client per event loop."""

    def __init__(
        self, creds: Credentials, size: int, transport: Any, given: httpx.AsyncClient | None
    ) -> None:
        self.size = size
        self._settings = (creds.base_url, creds.api_key, transport)
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._by_loop = weakref.WeakKeyDictionary()
        self.given = given
        self.prefix = creds.base_url if given is not None else ""  # the given one has none
        self.headers = headers(creds.api_key) if given is not None else None
        #: the methods answered with success so far, shared by every sibling (a copy keeps
        #: the same set): a 403 on one route while others answer is the route, not the key
        self.answered: set[str] = set()

    def resized(self, size: int) -> Pool:
        pool = copy.copy(self)
        pool.size, pool._by_loop = size, weakref.WeakKeyDictionary()
        return pool

    def fast(self) -> Any:
        """The aiohttp transport of this loop when requests may skip httpx's objects (the
        default transport, no user client), else None."""
        if self.given is not None or self._settings[2] not in (None, "aiohttp"):
            return None
        return self.get()._transport

    def get(self) -> httpx.AsyncClient:
        if self.given is not None:
            return self.given
        loop = asyncio.get_running_loop()
        http = self._by_loop.get(loop)
        if http is None or http.is_closed:
            http = self._by_loop[loop] = self._open()
        return http

    def _open(self) -> httpx.AsyncClient:
        from ._transport import make_transport  # aiohttp loads on the first request

        base_url, key, choice = self._settings
        return httpx.AsyncClient(
            base_url=base_url,
            headers=headers(key),
            limits=httpx.Limits(max_connections=self.size, max_keepalive_connections=self.size),
            transport=make_transport(choice, self.size),
        )

    async def aclose(self) -> None:
        here = asyncio.get_running_loop()
        for loop, http in list(self._by_loop.items()):
            if loop is here:
                await http.aclose()
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(http.aclose(), loop)
        self._by_loop.clear()


def headers(key: str) -> dict[str, str]:
    """The headers of every request: the key and who is asking."""
    return {"x-api-key": key, "user-agent": f"hotglue-nb/{__version__}"}

"""Run the sandbox on 127.0.0.1 with uvicorn in a background thread."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypedDict

import uvicorn
from starlette.applications import Starlette

from ._app import create_app
from ._jobs import DEFAULT_TIME_SCALE
from ._state import AnswerLost, SandboxState
from ._wire import Wire
from ._world import World

__all__ = ["Sandbox", "SandboxCredentials", "serve", "start"]

START_TIMEOUT = 10.0


class SandboxCredentials(TypedDict):
    """The connection keywords of a sandbox, typed key by key (so ``**sb.credentials``
    type-checks against any function that takes them)."""

    api_key: str
    env_id: str
    base_url: str


@dataclass
class Sandbox:
    """A running sandbox: where it is, how to call it, and its live state."""

    base_url: str
    app: Starlette
    state: SandboxState
    _stack: contextlib.ExitStack | None = field(default=None, repr=False)

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def api_key(self) -> str:
        return self.world.api_key

    @property
    def env_id(self) -> str:
        return self.world.env_id

    @property
    def flow_id(self) -> str:
        """The first flow; every demo tenant has linked it."""
        return self.world.flow_ids[0]

    @property
    def flows(self) -> list[str]:
        return self.world.flow_ids

    @property
    def v2_flow_id(self) -> str | None:
        """The first two-way (V2) flow, if the world has one (the demo world does)."""
        return self.world.v2_flow_ids[0] if self.world.v2_flows else None

    def connected_tenants(self, flow_id: str | None = None) -> dict[str, str]:
        """Tenants that linked a connector in a two-way flow -> their connector_id."""
        flow = flow_id or self.v2_flow_id or ""
        return {
            tenant: linked[0]["connector_id"]
            for tenant in self.world.tenants
            if (linked := self.world.connectors(tenant, flow))
        }

    @property
    def tenants(self) -> list[str]:
        return list(self.world.tenants)

    @property
    def credentials(self) -> SandboxCredentials:
        """``api_key``, ``env_id``, ``base_url``: pass as ``**sb.credentials``."""
        return {"api_key": self.api_key, "env_id": self.env_id, "base_url": self.base_url}

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self.base_url!r}, env_id={self.env_id!r}, api_key='********')"

    def stop(self) -> None:
        """Stop a sandbox made by ``start()`` (a no-op for one made by ``serve()``)."""
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _DropDeliberateErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, AnswerLost)


@contextmanager
def serve(
    world: World | dict[str, Any] | str | None = None,
    *,
    seed: int = 0,
    faults: Any = None,
    clock: Callable[[], float] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    history_days: int = 0,
    wire: Wire | dict[str, Any] | None = None,
    port: int = 0,
    log_level: str = "warning",
) -> Iterator[Sandbox]:
    """Serve a fresh sandbox on 127.0.0.1 (a free port by default) until the block ends.

    ``wire`` sets how strictly it plays the wire's open questions (``Wire``: job lists
    capped at 5 newest first, V2 job reads only where hotglue's widget makes them, API
    Gateway's 403 for routes hotglue does not have); e.g. ``wire={"list_cap": None}``.

    Usage:
        >>> with serve() as sb:
        ...     hg.Hotglue(**sb.credentials).list_tenants()
    """
    app = create_app(
        world, seed=seed, faults=faults, clock=clock, time_scale=time_scale,
        history_days=history_days, wire=wire,
    )  # fmt: skip
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = _server(app, log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        host, bound = sock.getsockname()[:2]
        yield Sandbox(base_url=f"http://{host}:{bound}", app=app, state=app.state.sandbox)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
        sock.close()


def _server(app: Starlette, log_level: str) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_DropDeliberateErrors())
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)


def start(world: World | dict[str, Any] | str | None = None, **options: Any) -> Sandbox:
    """Like ``serve()``, without a ``with`` block (handy across notebook cells); call
    ``sb.stop()`` when done."""
    stack = contextlib.ExitStack()
    sandbox = stack.enter_context(serve(world, **options))
    sandbox._stack = stack
    return sandbox

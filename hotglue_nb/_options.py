"""The keyword arguments of the fan-out functions, checked once into frozen configs.

``launch_jobs(**options)`` -> ``LaunchConfig`` (+ ``WaitConfig`` for ``wait=True``);
``wait_for_jobs(**options)`` -> ``WaitConfig``. Both carry a ``Connection`` (a ready client,
or the credentials to build one) and the run's clock and sleep (injectable in tests).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from ._client import AsyncHotglue, Hotglue
from ._client._pacing import Pacer
from ._config import DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, resolve_target
from ._endpoints import LAUNCH_FIELDS, BodyOptions, V2BodyOptions
from ._exceptions import ConfigError
from ._keywords import unexpected_keyword
from ._types import Clock, ProgressChoice, Sleep, StoreChoice

__all__ = [
    "DEFAULT_MAX_POLL_INTERVAL", "DEFAULT_POLL_INTERVAL", "Connection", "ConnectionOptions",
    "Display", "HistoryOptions", "LaunchConfig", "LaunchOptions", "ReadOptions", "RunClients",
    "RunOptions", "WaitConfig", "WaitOptions", "launch_config", "wait_config",
]  # fmt: skip

DEFAULT_WAIT_CONCURRENCY = 16
DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_MAX_POLL_INTERVAL = 30.0
RECONCILE_DELAY = 1.0
PREFLIGHT_KINDS = ("not_linked", "disconnected", "running", "dormant")


class ConnectionOptions(TypedDict, total=False):
    """Where and as whom: each falls back to its ``HOTGLUE_*`` variable, or a ready client."""

    api_key: str
    env_id: str
    base_url: str
    client: AsyncHotglue | Hotglue


class RunOptions(ConnectionOptions, total=False):
    """What every fan-out takes besides the connection: its pace, its display, its time."""

    concurrency: int
    rate_limit: float | None
    progress: ProgressChoice
    clock: Clock
    sleep: Sleep


class ReadOptions(RunOptions, total=False):
    """Options of the fleet reads (``job_history``, ``latest_jobs``, ``check_tenants``)."""

    connector_id: str  # a two-way (V2) flow: read through this connector (or a column)


class HistoryOptions(ReadOptions, total=False):
    """Options of ``job_history``."""

    store: StoreChoice  # sync this store, then read the long history from it


class WaitOptions(RunOptions, total=False):
    """Options of ``wait_for_jobs``."""

    poll_interval: float
    max_poll_interval: float
    timeout: float | None
    journal: str | Path | None
    store: StoreChoice  # keep the run's results in this store


class LaunchOptions(BodyOptions, V2BodyOptions, RunOptions, total=False):
    """Options of ``launch_jobs``; any request-body field is also a default for every row
    (a row with a ``connector_id`` is a two-way (V2) job, see ``V2BodyOptions``)."""

    flow_id: str
    store: StoreChoice  # keep the run's results in this store
    max_attempts: int
    timeout: float
    journal: str | Path | bool | None
    resume: str | Path | None
    dry_run: bool
    on_invalid: str
    reconcile_delay: float
    preflight: bool
    preflight_allow: Iterable[str]
    backup_state: bool | str | Path
    nest_asyncio: bool
    wait: bool
    poll_interval: float
    max_poll_interval: float
    wait_timeout: float | None


@dataclass(frozen=True)
class Connection:
    """A ready client, or the credentials to build one (each falls back to HOTGLUE_*)."""

    api_key: str | None = field(default=None, repr=False)
    env_id: str | None = None
    base_url: str | None = None
    client: AsyncHotglue | None = None

    @classmethod
    def take(cls, options: dict[str, Any]) -> Connection:
        client = options.pop("client", None)
        if client is not None and not isinstance(client, (AsyncHotglue, Hotglue)):
            raise ConfigError(f"client must be hg.Hotglue or hg.AsyncHotglue, got {client!r}.")
        return cls(
            api_key=options.pop("api_key", None),
            env_id=options.pop("env_id", None),
            base_url=options.pop("base_url", None),
            client=client.aio if isinstance(client, Hotglue) else client,
        )

    def target_env(self) -> str:
        """The default env id, without needing a key (a dry run sends nothing)."""
        if self.client is not None and self.env_id is None:
            return self.client.env_id
        return resolve_target(self.env_id, self.base_url)[0]


@dataclass(frozen=True)
class LaunchConfig:
    """Everything ``launch_jobs`` was told, checked."""

    connection: Connection
    flow_id: str | None
    body: Mapping[str, Any]
    concurrency: int = DEFAULT_CONCURRENCY
    rate_limit: float | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: float | None = None
    journal: str | Path | bool | None = None
    resume: str | Path | None = None
    dry_run: bool = False
    on_invalid: str = "raise"
    reconcile_delay: float = RECONCILE_DELAY
    preflight: bool = False
    preflight_allow: Iterable[str] = ()
    backup_state: bool | str | Path = False
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep


@dataclass(frozen=True)
class WaitConfig:
    """Everything ``wait_for_jobs`` was told, checked."""

    connection: Connection
    concurrency: int = DEFAULT_WAIT_CONCURRENCY
    rate_limit: float | None = None
    poll_interval: float = DEFAULT_POLL_INTERVAL
    max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL
    timeout: float | None = None
    journal: str | Path | None = None
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep


@dataclass(frozen=True)
class Display:
    progress: ProgressChoice = True
    nest_asyncio: bool = False
    wait: bool = False


_LAUNCH_KEYS = {f.name for f in dataclasses.fields(LaunchConfig)} - {"connection", "body"}
_DISPLAY_KEYS = {"progress", "nest_asyncio", "wait"}
_SHARED = {"concurrency", "rate_limit", "clock", "sleep"}  # launch's, unless wait's own
_WAIT_ONLY = {"poll_interval", "max_poll_interval", "wait_timeout"}


def launch_config(
    options: dict[str, Any], function: str = "launch_jobs"
) -> tuple[LaunchConfig, Display, WaitConfig]:
    """Sort launch_jobs' keywords by who uses them, and check them."""
    opts = dict(options)
    connection = Connection.take(opts)
    display = Display(**{k: opts.pop(k) for k in _DISPLAY_KEYS & opts.keys()})
    waiting = {k: opts.pop(k) for k in _WAIT_ONLY & opts.keys()}
    run = {k: opts.pop(k) for k in _LAUNCH_KEYS & opts.keys()}
    for name in opts:
        if name not in LAUNCH_FIELDS:
            keys = _LAUNCH_KEYS | _DISPLAY_KEYS | _WAIT_ONLY
            raise ConfigError(unexpected_keyword(function, name, keys, body=True))
    config = LaunchConfig(connection, run.pop("flow_id", None), body=opts, **run)
    _check_launch(config)
    if "wait_timeout" in waiting:
        waiting["timeout"] = waiting.pop("wait_timeout")
    shared: dict[str, Any] = {k: run[k] for k in _SHARED & run.keys()}
    return config, display, _wait(connection, {**shared, **waiting}, function)


def wait_config(options: dict[str, Any], function: str = "wait_for_jobs") -> tuple[WaitConfig, Any]:
    """Check wait_for_jobs' (or a fleet read's) keywords; also returns ``progress``."""
    opts = dict(options)
    connection = Connection.take(opts)
    progress = opts.pop("progress", True)
    return _wait(connection, opts, function), progress


def _wait(connection: Connection, opts: dict[str, Any], function: str) -> WaitConfig:
    known = {f.name for f in dataclasses.fields(WaitConfig)} - {"connection"}
    for name in sorted(set(opts) - known):
        raise ConfigError(unexpected_keyword(function, name, {*known, "progress"}))
    if "poll_interval" in opts and "max_poll_interval" not in opts:
        opts["max_poll_interval"] = max(DEFAULT_MAX_POLL_INTERVAL, opts["poll_interval"])
    config = WaitConfig(connection, **opts)
    _whole(config.concurrency, "concurrency")
    _rate(config.rate_limit)
    base, cap = config.poll_interval, config.max_poll_interval
    if not _positive(base) or not _positive(cap) or cap < base:
        raise ConfigError("poll_interval must be > 0 and max_poll_interval >= poll_interval.")
    if config.timeout is not None and not _positive(config.timeout):
        raise ConfigError(f"timeout must be seconds > 0 or None, got {config.timeout!r}.")
    return config


def _check_launch(config: LaunchConfig) -> None:
    _whole(config.concurrency, "concurrency")
    _rate(config.rate_limit)
    _whole(config.max_attempts, "max_attempts")
    if config.timeout is not None and not _positive(config.timeout):
        raise ConfigError(f"timeout must be seconds > 0, got {config.timeout!r}.")
    if config.on_invalid not in ("raise", "skip"):
        raise ConfigError(f"on_invalid must be 'raise' or 'skip', got {config.on_invalid!r}.")
    if config.dry_run and config.resume is not None:
        raise ConfigError("dry_run=True cannot be combined with resume=.")
    unknown = set(config.preflight_allow) - set(PREFLIGHT_KINDS)
    if unknown or isinstance(config.preflight_allow, str):
        raise ConfigError(
            f"preflight_allow= takes a list of {', '.join(PREFLIGHT_KINDS)}, got "
            f"{config.preflight_allow!r}."
        )
    if not isinstance(config.backup_state, (bool, str, os.PathLike)):
        raise ConfigError(f"backup_state= is True, False or a folder, got {config.backup_state!r}.")
    if not _positive(config.reconcile_delay) and config.reconcile_delay != 0:
        raise ConfigError(f"reconcile_delay must be seconds >= 0, got {config.reconcile_delay!r}.")


def _whole(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}.")


def _rate(value: Any) -> None:
    if value is not None and not _positive(value):
        raise ConfigError(f"rate_limit must be requests/second > 0 or None, got {value!r}.")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


class RunClients:
    """A run's clients: per env, a sibling of the given (or a new) client, paced by the
    run's ``Pacer``; at the end it closes only what the run opened. A missing key is
    raised here, before anything is sent."""

    def __init__(self, connection: Connection, config: LaunchConfig | WaitConfig, pacer: Pacer):
        self.owned = connection.client is None
        self.root = connection.client or AsyncHotglue(
            connection.api_key, connection.env_id, connection.base_url,
            max_connections=config.concurrency,
        )  # fmt: skip
        options: dict[str, Any] = {"max_connections": config.concurrency, "sleep": config.sleep}
        if isinstance(config, LaunchConfig) and config.timeout is not None:
            options["timeout"] = config.timeout  # per request (a wait's is overall)
        self.base = self.root.with_options(**options)  # a pool of its own only if larger
        self.pacer = pacer
        self._made: dict[tuple[str, int | None, bool], AsyncHotglue] = {}

    def get(
        self, env_id: str, *, max_retries: int | None = None, paced: bool = True
    ) -> AsyncHotglue:
        """The sibling for ``env_id``; ``paced=False`` for a caller that takes its rate slot
        itself (the launch, which must not journal an intent before its slot)."""
        key = (env_id, max_retries, paced)
        if key not in self._made:
            pacer = self.pacer if paced else None
            twin = self.base.with_options(env_id=env_id, max_retries=max_retries, pacer=pacer)
            self._made[key] = twin
        return self._made[key]

    async def aclose(self) -> None:
        await self.base.aclose()
        if self.owned:
            await self.root.aclose()

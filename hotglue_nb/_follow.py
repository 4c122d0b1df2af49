"""wait_for_jobs: from a results frame to the same frame with final statuses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from ._client import AsyncHotglue, Hotglue
from ._config import Credentials, resolve_credentials
from ._exceptions import ConfigError
from ._journal import DEFAULT_RUNS_DIR, Journal
from ._plan import to_python
from ._results import RESULT_COLUMNS, WAIT_COLUMNS, apply_dtypes
from ._wait import (
    DEFAULT_MAX_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    Event,
    Follow,
    WaitSettings,
    follow_jobs,
    follows_from,
    wait_fields,
)

__all__ = ["WaitOptions", "WaitSpec", "execute_wait", "prepare_wait"]


class WaitOptions(TypedDict, total=False):
    """Options of ``wait_for_jobs``."""

    api_key: str
    env_id: str
    base_url: str
    client: AsyncHotglue | Hotglue
    concurrency: int
    poll_interval: float
    max_poll_interval: float
    timeout: float | None
    journal: str | Path | None
    progress: Any
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]


@dataclass
class WaitSpec:
    results: pd.DataFrame
    follows: list[Follow]
    credentials: Credentials
    transport: Any
    settings: WaitSettings
    journal_path: Path | None


WAIT_RUN_KEYS = frozenset(WaitOptions.__annotations__) - {"progress"}


def prepare_wait(results: pd.DataFrame, **options: Any) -> WaitSpec:
    """Check arguments and pick the rows to follow. Sends nothing."""
    unknown = set(options) - WAIT_RUN_KEYS
    if unknown:
        raise ConfigError(f"Unknown wait_for_jobs argument(s): {', '.join(sorted(unknown))}.")
    if not isinstance(results, pd.DataFrame) or "outcome" not in results:
        raise ConfigError("wait_for_jobs needs the results frame returned by launch_jobs.")
    settings = _settings(options)
    client = options.get("client")
    aclient = client.aio if isinstance(client, Hotglue) else client
    follows = follows_from(results)
    creds = _credentials(aclient, options, results, follows)
    return WaitSpec(
        results=results,
        follows=follows,
        credentials=creds,
        transport=aclient._transport if aclient is not None else None,
        settings=settings,
        journal_path=_journal_path(options.get("journal"), results),
    )


def _settings(options: dict[str, Any]) -> WaitSettings:
    concurrency = options.get("concurrency", 16)
    base = options.get("poll_interval", DEFAULT_POLL_INTERVAL)
    cap = options.get("max_poll_interval", max(DEFAULT_MAX_POLL_INTERVAL, base))
    timeout = options.get("timeout")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency must be a whole number >= 1, got {concurrency!r}.")
    if not isinstance(base, (int, float)) or base <= 0 or cap < base:
        raise ConfigError("poll_interval must be > 0 and max_poll_interval >= poll_interval.")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ConfigError(f"timeout must be seconds > 0 or None, got {timeout!r}.")
    return WaitSettings(
        concurrency=concurrency,
        poll_interval=float(base),
        max_poll_interval=float(cap),
        timeout=timeout,
        clock=options.get("clock", time.monotonic),
        sleep=options.get("sleep") or asyncio.sleep,
    )


def _credentials(
    client: AsyncHotglue | None,
    options: dict[str, Any],
    results: pd.DataFrame,
    follows: list[Follow],
) -> Credentials:
    if client is not None:
        return client.credentials
    env = options.get("env_id") or (follows[0].env_id if follows else None)
    if not follows and options.get("api_key") is None:  # nothing to poll: no key needed
        return Credentials(api_key="unused", env_id=env or "unused", base_url="https://unused")
    return resolve_credentials(options.get("api_key"), env, options.get("base_url"))


def _journal_path(journal: str | Path | None, results: pd.DataFrame) -> Path | None:
    if journal is not None:
        return Path(journal)
    hinted = results.attrs.get("journal")
    if hinted and Path(hinted).exists():
        return Path(hinted)
    run_ids: list[Any] = list(results["run_id"].dropna().unique()) if "run_id" in results else []
    if len(run_ids) == 1:
        default = DEFAULT_RUNS_DIR / f"{run_ids[0]}.jsonl"
        if default.exists():
            return default
    return None


async def execute_wait(spec: WaitSpec, on_event: Event | None = None) -> pd.DataFrame:
    """Follow the jobs; return a copy of the results with the wait columns filled."""
    spec.settings.on_event = on_event
    clients = {
        env: AsyncHotglue(
            spec.credentials.api_key,
            env,
            spec.credentials.base_url,
            max_connections=spec.settings.concurrency,
            transport=spec.transport,
        )
        for env in {f.env_id for f in spec.follows}
    }
    try:
        await follow_jobs(spec.follows, clients, spec.settings)
    finally:
        for client in clients.values():
            await client.aclose()
    out = merge_wait(spec.results, spec.follows)
    await _journal_statuses(spec, out)
    return out


def merge_wait(results: pd.DataFrame, follows: list[Follow]) -> pd.DataFrame:
    by_row = {f.row: wait_fields(f) for f in follows}
    records = results.to_dict("records")
    for row, record in enumerate(records):
        record.update(by_row.get(row, {}))
    frame = pd.DataFrame.from_records(records, columns=[*RESULT_COLUMNS, *WAIT_COLUMNS])
    frame.index = results.index
    frame.attrs.update(results.attrs)
    return apply_dtypes(frame, {**RESULT_COLUMNS, **WAIT_COLUMNS})


async def _journal_statuses(spec: WaitSpec, out: pd.DataFrame) -> None:
    if spec.journal_path is None or not spec.follows:
        return
    journal = Journal(spec.journal_path)
    for follow in spec.follows:
        fields = {str(k): _json_value(v) for k, v in out.iloc[follow.row].items()}
        journal.later({"kind": "status", "row": follow.row, **fields})
    await journal.aclose()


def _json_value(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return to_python(value)

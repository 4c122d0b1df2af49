"""The async public API, for ``await`` in notebooks and async code.

Usage:
    >>> results = await hg.aio.launch_jobs(tenants, flow_id="l8odS2mce", concurrency=16)
    >>> results = await hg.aio.wait_for_jobs(results)
"""

from __future__ import annotations

from typing import Unpack

import pandas as pd

from ._config import DORMANT_DAYS
from ._exceptions import APIError, LaunchInterrupted
from ._fleet import Call, check_call, execute_reads, history_call, latest_call, warn_cut_short
from ._jobs import (
    DEFAULT_MAX_BYTES,
    execute_launch,
    execute_wait,
    interrupted_write,
    prepare_launch,
    prepare_wait,
    with_batches,
    write_plan,
)
from ._last_run import warn_notices
from ._options import (
    LaunchOptions,
    ReadOptions,
    WaitConfig,
    WaitOptions,
    launch_config,
    wait_config,
)
from ._progress import Progress
from ._signatures import LAUNCH_DEFAULTS, READ_DEFAULTS, WAIT_DEFAULTS, with_keywords
from ._store import keeps_runs
from ._types import Tenants, When

__all__ = [
    "check_tenants", "job_history", "latest_jobs", "launch_jobs", "wait_for_jobs", "write_records",
]  # fmt: skip


@with_keywords(LaunchOptions, LAUNCH_DEFAULTS)
@keeps_runs
async def launch_jobs(tenants: Tenants, **options: Unpack[LaunchOptions]) -> pd.DataFrame:
    """Async twin of ``hg.launch_jobs`` (same options); runs on the caller's event loop."""
    config, display, waiting = launch_config(dict(options))
    run = prepare_launch(tenants, config)
    with Progress(display.progress) as progress:
        results = await execute_launch(run, progress.phase("launch", run.total).event)
        if display.wait:
            results = await _wait(results, waiting, progress)
    return warn_notices(results)


@with_keywords(LaunchOptions, LAUNCH_DEFAULTS)
@keeps_runs
async def write_records(
    records: pd.DataFrame,
    *,
    object: str,
    tenant: str | Tenants | None = None,
    batch_size: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **options: Unpack[LaunchOptions],
) -> pd.DataFrame:
    """Async twin of ``hg.write_records`` (same arguments)."""
    frame, launch = write_plan(records, object, tenant, batch_size, max_bytes, options)
    try:
        results = await launch_jobs(frame, **launch)
    except (LaunchInterrupted, APIError) as exc:  # partial results: with their batches
        raise interrupted_write(exc, frame) from None
    return with_batches(results, frame)


@with_keywords(WaitOptions, WAIT_DEFAULTS)
@keeps_runs
async def wait_for_jobs(results: pd.DataFrame, **options: Unpack[WaitOptions]) -> pd.DataFrame:
    """Async twin of ``hg.wait_for_jobs`` (same options)."""
    config, progress = wait_config(dict(options))
    with Progress(progress) as bar:
        return warn_notices(await _wait(results, config, bar))


async def _wait(results: pd.DataFrame, config: WaitConfig, progress: Progress) -> pd.DataFrame:
    run = prepare_wait(results, config)
    return await execute_wait(run, progress.phase("wait", len(run.follows), table=True).event)


@with_keywords(ReadOptions, READ_DEFAULTS)
async def job_history(
    flow_id: str,
    tenants: Tenants | None = None,
    *,
    since: When = None,
    until: When = None,
    now: When = None,
    count: int | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Async twin of ``hg.job_history``."""
    return await _read(history_call(flow_id, tenants, since, until, now, dict(options), count))


@with_keywords(ReadOptions, READ_DEFAULTS)
async def latest_jobs(
    flow_id: str, tenants: Tenants | None = None, **options: Unpack[ReadOptions]
) -> pd.DataFrame:
    """Async twin of ``hg.latest_jobs``."""
    return await _read(latest_call(flow_id, tenants, dict(options)))


@with_keywords(ReadOptions, READ_DEFAULTS)
async def check_tenants(
    tenants: Tenants,
    flow_id: str,
    *,
    now: When = None,
    dormant_days: int = DORMANT_DAYS,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Async twin of ``hg.check_tenants``."""
    return await _read(check_call(tenants, flow_id, now, dormant_days, dict(options)))


async def _read(call: Call) -> pd.DataFrame:
    total = len(call.run.reads) if call.run.reads is not None else 0
    with Progress(call.progress) as progress:
        on_event = progress.phase(call.run.kind, total).event
        frame = await execute_reads(call.run, call.operation, call.build, on_event)
    warn_cut_short(frame)  # at the line that awaited job_history
    return frame

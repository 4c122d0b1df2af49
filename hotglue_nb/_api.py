"""The blocking public functions; they work in scripts, pytest and Jupyter cells alike."""

from __future__ import annotations

import queue
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, Unpack

import pandas as pd

from ._client import run_nested, run_sync
from ._config import DORMANT_DAYS
from ._exceptions import APIError, LaunchInterrupted
from ._fanout import Event
from ._fleet import Call, check_call, execute_reads, history_call, latest_call
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
from ._last_run import interrupted, warn_notices
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
from ._types import Tenants, When

__all__ = [
    "check_tenants", "job_history", "latest_jobs", "launch_jobs", "wait_for_jobs", "write_records",
]  # fmt: skip

T = TypeVar("T")
Start = Callable[[Callable[[Event], None]], Coroutine[Any, Any, T]]


@with_keywords(LaunchOptions, LAUNCH_DEFAULTS)
def launch_jobs(tenants: Tenants, **options: Unpack[LaunchOptions]) -> pd.DataFrame:
    """Launch one job per row of ``tenants``, concurrently; return one result row per row.

    ``tenants`` is a DataFrame with a ``tenant`` column (optional ``flow_id``, ``env_id`` and
    request-body columns; a cell beats the keyword default, an empty cell means the default).

    Options: ``flow_id``, ``env_id``, ``api_key``, ``base_url`` (else ``HOTGLUE_*``) or
    ``client``; ``concurrency`` (in-flight cap, default 8); ``rate_limit`` (requests/s);
    ``max_attempts`` (POSTs per row, default 4); ``timeout`` (s per request);
    ``journal`` (path, or True for ``hotglue-runs/<run_id>.jsonl``); ``resume`` (journal path
    or run id); ``dry_run``; ``on_invalid`` ("raise" or "skip"); ``progress`` (True, False or
    a tqdm class); ``nest_asyncio`` (opt-in re-entrant mode); ``wait`` (then follow the jobs,
    with ``poll_interval``, ``max_poll_interval``, ``wait_timeout``); ``clock``/``sleep``
    (injectable time); plus any body field as a default for every row.

    A POST is re-sent only when the server certainly did not act; after an ambiguous failure
    the row is reconciled by its unique ``job_name``. Per-row failures are data (``outcome``,
    ``error``), never exceptions. Ctrl-C raises ``LaunchInterrupted`` with ``.results``, in
    the launch and the wait phase alike.
    """
    config, display, waiting = launch_config(dict(options))
    run = prepare_launch(tenants, config)
    with Progress(display.progress) as progress:
        progress.phase("launch", run.total)
        start: Start[pd.DataFrame] = lambda post: execute_launch(run, post)  # noqa: E731
        results = _blocking(start, progress, display.nest_asyncio)
        if display.wait:
            results = _wait(results, waiting, progress, display.nest_asyncio)
    return warn_notices(results)


@with_keywords(LaunchOptions, LAUNCH_DEFAULTS)
def write_records(
    records: pd.DataFrame,
    *,
    object: str,
    tenant: str | Tenants | None = None,
    batch_size: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **options: Unpack[LaunchOptions],
) -> pd.DataFrame:
    """Write the rows of ``records`` through a two-way (V2) flow's connector: one write job
    per batch, ``state={object: [records]}``.

    ``tenant`` / ``connector_id`` say where: one tenant, or many (a list of ids, or a frame
    with ``tenant`` and ``connector_id`` columns: each gets all the records); or leave them
    out to use the records' own ``tenant`` / ``connector_id`` columns. A batch holds at most
    ``batch_size`` records (default: as many as fit) and ``max_bytes`` of JSON (default 1 MB).
    Values go as JSON faithfully: ints stay ints, missing values are null, timestamps ISO-8601.
    Every ``launch_jobs`` option applies (``flow_id`` is required; ``wait=True`` follows the
    jobs; ``journal`` / ``resume``: each batch is sent once, as any row);
    ``ignore_parallel_jobs`` defaults to True here, so a tenant's batches run side by side.
    Returns one row per batch: the launch's columns, ``object``, ``batch``, ``first_row``,
    ``record_count``, and after waiting ``success`` / ``fail`` / ``existing`` / ``updated``
    (``hg.failed_records`` gives the refused records back).
    """
    frame, launch = write_plan(records, object, tenant, batch_size, max_bytes, options)
    try:
        results = launch_jobs(frame, **launch)
    except (LaunchInterrupted, APIError) as exc:  # partial results: with their batches
        raise interrupted_write(exc, frame) from None
    return with_batches(results, frame)


@with_keywords(WaitOptions, WAIT_DEFAULTS)
def wait_for_jobs(results: pd.DataFrame, **options: Unpack[WaitOptions]) -> pd.DataFrame:
    """Poll every ``created`` (and ``queued``) job of ``results`` until it ends.

    Returns a copy with final ``status`` and the columns ``finished``, ``succeeded``,
    ``failed_stage``, ``processed_rows``, ``duration_s``, ``last_updated``, ``polls``.
    Options: connection (``api_key``, ``env_id``, ``base_url`` or ``client``),
    ``concurrency`` (GETs in flight, default 16), ``rate_limit`` (requests/s),
    ``poll_interval`` (first wait, default 5 s; then x1.5 per poll up to
    ``max_poll_interval``, default 30 s), ``timeout`` (overall seconds; rows still running
    stay ``finished=False``), ``journal``, ``progress``, ``clock``/``sleep``. Ctrl-C raises
    ``LaunchInterrupted`` whose ``.results`` has every row with the last status seen.
    """
    config, progress = wait_config(dict(options))
    with Progress(progress) as bar:
        return warn_notices(_wait(results, config, bar, False))


def _wait(
    results: pd.DataFrame, config: WaitConfig, progress: Progress, nest: bool
) -> pd.DataFrame:
    run = prepare_wait(results, config)
    progress.phase("wait", len(run.follows), table=True)
    start: Start[pd.DataFrame] = lambda post: execute_wait(run, post)  # noqa: E731
    try:
        return _blocking(start, progress, nest)
    except KeyboardInterrupt:  # interrupted before the wait could start: nothing polled yet
        raise interrupted(results, phase="wait") from None


def _blocking(start: Start[T], progress: Progress, nest: bool) -> T:
    """Run a fan-out on the loop thread, drawing its events from this thread meanwhile."""
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    try:
        if nest:
            return run_nested(start(progress.event))
        return run_sync(start(events.put), on_tick=lambda: progress.drain(events))
    finally:
        progress.drain(events)


@with_keywords(ReadOptions, READ_DEFAULTS)
def job_history(
    flow_id: str,
    tenants: Tenants | None = None,
    *,
    since: When = None,
    until: When = None,
    now: When = None,
    count: int | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Every job of ``tenants`` (default: every tenant of the environment) in a flow: one
    row per job, sorted by tenant then start time.

    ``since``/``until`` take dates, timestamps, ISO text or spans back from ``now`` such as
    ``"7d"`` (filtered client-side: the API has no such parameter [I]). A tenant whose read
    fails is a row of ``hg.read_errors(frame)``; only a refused key raises. Options as for
    ``wait_for_jobs``: connection, ``concurrency`` (default 16), ``rate_limit``, ``progress``.

    The API's job list is short (hotglue's widget shows it as "the last 5 jobs" [I]), so
    this is what the API returned, not the whole past: ``history_complete`` is False on the
    rows of a tenant whose list may have been cut short (as long as the longest list read,
    or 5, and not reaching back to ``since``), with one warning saying how many. ``count``
    asks the API for that many jobs per tenant [I: harmless if it is ignored].
    """
    return _read(history_call(flow_id, tenants, since, until, now, dict(options), count))


@with_keywords(ReadOptions, READ_DEFAULTS)
def latest_jobs(
    flow_id: str, tenants: Tenants | None = None, **options: Unpack[ReadOptions]
) -> pd.DataFrame:
    """Each tenant's last job in a flow (``GET .../jobs/latest``): one row per tenant, the
    job columns of ``job_history``; a tenant with no job yet keeps its row, status missing."""
    return _read(latest_call(flow_id, tenants, dict(options)))


@with_keywords(ReadOptions, READ_DEFAULTS)
def check_tenants(
    tenants: Tenants,
    flow_id: str,
    *,
    now: When = None,
    dormant_days: int = DORMANT_DAYS,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Before a launch, per row: is the flow linked, the source link healthy, a job already
    running, the tenant dormant (no job for ``dormant_days``: a run makes it billable)?
    Columns ``ready`` and ``reason`` (``kind: explanation``, several joined by ``; ``)."""
    return _read(check_call(tenants, flow_id, now, dormant_days, dict(options)))


def _read(call: Call) -> pd.DataFrame:
    total = len(call.run.reads) if call.run.reads is not None else 0
    with Progress(call.progress) as progress:
        progress.phase(call.run.kind, total)
        start: Start[pd.DataFrame] = lambda post: execute_reads(  # noqa: E731
            call.run, call.operation, call.build, post
        )
        return _blocking(start, progress, False)

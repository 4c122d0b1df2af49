"""The blocking fleet reads (``hg.job_history``, ``hg.latest_jobs``, ``hg.check_tenants``,
exported by ``_api``), and ``blocking``: a fan-out run on the loop thread while its progress
is drawn on the caller's thread (every blocking call of the package runs on it)."""

from __future__ import annotations

import queue
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, Unpack

import pandas as pd

from .._client import run_nested, run_sync
from .._config import DORMANT_DAYS
from .._fanout import Event
from .._options import HistoryOptions, ReadOptions
from .._progress import Progress
from .._signatures import READ_DEFAULTS, with_keywords
from .._types import Tenants, When
from ._calls import Call, check_call, history_call, latest_call
from ._reads import execute_reads
from ._tables import warn_cut_short

__all__ = ["Start", "blocking", "check_tenants", "job_history", "latest_jobs", "read_call"]

T = TypeVar("T")
Start = Callable[[Callable[[Event], None]], Coroutine[Any, Any, T]]


@with_keywords(HistoryOptions, READ_DEFAULTS)
def job_history(
    flow_id: str,
    tenants: Tenants | None = None,
    *,
    since: When = None,
    until: When = None,
    now: When = None,
    count: int | None = None,
    **options: Unpack[HistoryOptions],
) -> pd.DataFrame:
    """Every job of ``tenants`` in a flow: one row per job, sorted by tenant then start time.

    ``tenants`` defaults to every tenant of the environment.
    The API's job list is short (hotglue's widget shows it as "the last 5 jobs" [I]), so
    this is what the API returned, not the whole past: ``history_complete`` is False on the
    rows of a tenant whose list may have been cut short (as long as the longest list read,
    or 5, and not reaching back to ``since``), with one warning saying how many. A tenant
    whose read fails is a row of ``hg.read_errors(frame)``.

    Parameters
    ----------
    flow_id : str
        The flow.
    tenants : DataFrame, Series or list of str, optional
        Tenant ids, or a frame with ``tenant`` (and, two-way, ``connector_id``) columns.
    since, until : date, datetime, Timestamp or str, optional
        Dates, timestamps, ISO text or spans back from ``now`` such as ``"7d"`` (filtered
        client-side: the API has no such parameter [I]).
    now : date, datetime, Timestamp or str, optional
        The moment spans count back from (default: now).
    count : int, optional
        Ask the API for that many jobs per tenant [I: harmless if it is ignored].

    Other Parameters
    ----------------
    api_key, env_id, base_url : str
        The connection; each defaults to its ``HOTGLUE_*`` variable.
    client : Hotglue or AsyncHotglue
        A ready client instead of the connection keywords.
    concurrency : int
        Reads in flight (default 16).
    rate_limit : float
        Requests per second (default: no limit).
    progress : bool or callable
        True, False or a tqdm class.
    clock, sleep : callable
        Injectable time.
    connector_id : str
        A two-way (V2) flow: read through this connector (or a ``connector_id`` column).
    store : Store, str or Path
        Keep what is read in this store (``hg.Store``, its file or its PostgreSQL URL),
        then return every job the store holds for the flow (``since``/``until`` applied):
        a history longer than the API's list, ``history_complete`` from what it has seen.

    Returns
    -------
    DataFrame
        ``tenant``, ``flow_id``, ``job_id``, ``status``, ``succeeded``, ``failed_stage``,
        ``start_time``, ``duration_s``, ``records``, ``message``, ``error``, ``tap``,
        ``history_complete``...; the failed reads in ``attrs["errors"]``.

    Raises
    ------
    ConfigError
        A bad argument or option, or missing credentials, before anything is sent.
    AuthenticationError
        The API refused the key (the only failed read that raises).
    APIError
        The environment's tenants could not be listed; or every tenant's read failed (the
        first failure, ``.results`` the frame: check base_url, env_id and flow_id).
    LaunchInterrupted
        Ctrl-C; ``.results`` holds the frame of what was read.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve(history_days=30) as sb:
    ...     history = hg.job_history(sb.flow_id, since="7d", **sb.credentials)
    >>> hg.fleet_health(history)[["tenant", "problem", "failure_streak"]]
    """
    return read_call(history_call(flow_id, tenants, since, until, now, dict(options), count))
    # (store= is taken by _store.reads_store, which hg.job_history is)


@with_keywords(ReadOptions, READ_DEFAULTS)
def latest_jobs(
    flow_id: str, tenants: Tenants | None = None, **options: Unpack[ReadOptions]
) -> pd.DataFrame:
    """Each tenant's last job in a flow (``GET .../jobs/latest``): one row per tenant.

    Parameters
    ----------
    flow_id : str
        The flow.
    tenants : DataFrame, Series or list of str, optional
        As for ``job_history`` (default: every tenant of the environment).

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        The job columns of ``job_history``; a tenant with no job yet keeps its row, status
        missing.

    Raises
    ------
    ConfigError, AuthenticationError, APIError, LaunchInterrupted
        As for ``job_history``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve(history_days=7) as sb:
    ...     latest = hg.latest_jobs(sb.flow_id, sb.tenants, **sb.credentials)
    >>> latest[["tenant", "status", "start_time"]]
    """
    return read_call(latest_call(flow_id, tenants, dict(options)))


@with_keywords(ReadOptions, READ_DEFAULTS)
def check_tenants(
    tenants: Tenants,
    flow_id: str,
    *,
    now: When = None,
    dormant_days: int = DORMANT_DAYS,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Check each row before a launch: flow linked, source healthy, no job running, not dormant.

    Per row: is the flow linked, the source link healthy, a job already running, the tenant
    dormant (no job for ``dormant_days``: a run makes it billable)?
    ``launch_jobs(preflight=True)`` applies the same rules to each row it sends.

    Parameters
    ----------
    tenants : DataFrame, Series or list of str
        The rows to check (one row each, a tenant named twice too).
    flow_id : str
        The flow.
    now : date, datetime, Timestamp or str, optional
        The moment dormancy is measured from (default: now).
    dormant_days : int
        Days without a job that make a tenant dormant (default 30).

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        One row per row: ``ready`` and ``reason`` (``kind: explanation``, several joined by
        ``; ``), and what they were judged from: ``linked``, ``disconnected``,
        ``source_error``, ``running``, ``last_status``, ``days_since_last_job``...

    Raises
    ------
    ConfigError, AuthenticationError, APIError, LaunchInterrupted
        As for ``job_history``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     checked = hg.check_tenants(sb.tenants, sb.flow_id, **sb.credentials)
    ...     results = hg.launch_jobs(checked[checked["ready"]], flow_id=sb.flow_id,
    ...                              **sb.credentials)
    """
    return read_call(check_call(tenants, flow_id, now, dormant_days, dict(options)))


def read_call(call: Call) -> pd.DataFrame:
    """Run a fleet read on the loop thread, its progress drawn here; the frame it builds."""
    total = len(call.run.reads) if call.run.reads is not None else 0
    with Progress(call.progress) as progress:
        progress.phase(call.run.kind, total)
        start: Start[pd.DataFrame] = lambda post: execute_reads(  # noqa: E731
            call.run, call.operation, call.build, post
        )
        frame = blocking(start, progress, False)
    warn_cut_short(frame)  # at the line that called job_history
    return frame


def blocking(start: Start[T], progress: Progress, nest: bool) -> T:
    """Run a fan-out on the loop thread, drawing its events from this thread meanwhile."""
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    try:
        if nest:
            return run_nested(start(progress.event))
        return run_sync(start(events.put), on_tick=lambda: progress.drain(events))
    finally:
        progress.drain(events)

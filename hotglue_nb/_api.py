"""The blocking public functions; they work in scripts, pytest and Jupyter cells alike."""

from __future__ import annotations

import queue
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, Unpack

import pandas as pd

from ._follow import WaitOptions, execute_wait, prepare_wait
from ._launch import execute_launch, prepare_launch
from ._nest import run_nested
from ._options import LaunchOptions, split_options
from ._progress import LiveView, Progress
from ._runner import run_sync

__all__ = ["launch_jobs", "wait_for_jobs"]

T = TypeVar("T")


def launch_jobs(tenants: Any, **options: Unpack[LaunchOptions]) -> pd.DataFrame:
    """Launch one job per row of ``tenants``, concurrently; return one result row per row.

    ``tenants`` is a DataFrame with a ``tenant`` column (optional ``flow_id``, ``env_id`` and
    request-body columns; a cell beats the keyword default, an empty cell means the default).

    Options: ``flow_id``, ``env_id``, ``api_key``, ``base_url`` (else ``HOTGLUE_*``) or
    ``client``; ``concurrency`` (in-flight cap, default 8); ``rate_limit`` (requests/s);
    ``max_attempts`` (POSTs per row, default 4); ``timeout`` (s per request);
    ``journal`` (path, or True for ``hotglue-runs/<run_id>.jsonl``); ``resume`` (journal path
    or run id); ``dry_run``; ``on_invalid`` ("raise" or "skip"); ``progress`` (True, False or
    a tqdm class); ``nest_asyncio`` (opt-in re-entrant mode); ``wait`` (then follow the jobs,
    with ``poll_interval``, ``max_poll_interval``, ``wait_timeout``); plus any body field as
    a default for every row.

    A POST is re-sent only when the server certainly did not act; after an ambiguous failure
    the row is reconciled by its unique ``job_name``. Per-row failures are data (``outcome``,
    ``error``), never exceptions. Ctrl-C raises ``LaunchInterrupted`` with ``.results``.
    """
    run, display, wait_args, body = split_options(dict(options))
    spec = prepare_launch(tenants, **run, body=body)
    progress = display.get("progress", True)
    nest = bool(display.get("nest_asyncio"))
    with Progress(spec.total, "launch", progress) as bar:
        events: queue.SimpleQueue[str] = queue.SimpleQueue()
        try:
            results = _run(execute_launch(spec, events.put), nest, lambda: bar.drain(events))
        finally:
            bar.drain(events)
        if not display.get("wait"):
            return results
        return _wait(results, wait_args, progress, nest, bar=bar)


def wait_for_jobs(results: pd.DataFrame, **options: Unpack[WaitOptions]) -> pd.DataFrame:
    """Poll every ``created`` (and ``queued``) job of ``results`` until it ends.

    Returns a copy with final ``status`` and the columns ``finished``, ``succeeded``,
    ``failed_stage``, ``processed_rows``, ``duration_s``, ``last_updated``, ``polls``.
    Options: connection (``api_key``, ``env_id``, ``base_url`` or ``client``),
    ``concurrency`` (GETs in flight, default 16), ``poll_interval`` (first wait, default 5 s;
    then x1.5 per poll up to ``max_poll_interval``, default 30 s), ``timeout`` (overall
    seconds; rows still running stay ``finished=False``), ``journal``, ``progress``.
    """
    opts = dict(options)
    progress = opts.pop("progress", True)
    return _wait(results, dict(opts), progress, False)


def _wait(
    results: pd.DataFrame,
    options: dict[str, Any],
    progress: Any,
    nest: bool,
    *,
    bar: Progress | None = None,
) -> pd.DataFrame:
    spec = prepare_wait(results, **options)
    view = LiveView(len(spec.follows), progress, bar=bar)
    events: queue.SimpleQueue[tuple[int, str, str | None]] = queue.SimpleQueue()

    def post(row: int, tenant: str, status: str | None) -> None:
        events.put((row, tenant, status))

    try:
        return _run(execute_wait(spec, post), nest, lambda: view.drain(events))
    finally:
        view.drain(events)
        view.close()


def _run(coro: Coroutine[Any, Any, T], nest: bool, on_tick: Callable[[], None]) -> T:
    if nest:
        return run_nested(coro)
    return run_sync(coro, on_tick=on_tick)

"""The blocking public functions; they work in scripts, pytest and Jupyter cells alike."""

from __future__ import annotations

import queue
from collections.abc import Coroutine
from typing import Any, TypeVar, Unpack

import pandas as pd

from ._launch import execute_launch, prepare_launch
from ._nest import run_nested
from ._options import LaunchOptions, split_options
from ._progress import Progress
from ._runner import run_sync

__all__ = ["launch_jobs"]

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
    a tqdm class); ``nest_asyncio`` (opt-in re-entrant mode); plus any body field as default.

    A POST is re-sent only when the server certainly did not act; after an ambiguous failure
    the row is reconciled by its unique ``job_name``. Per-row failures are data (``outcome``,
    ``error``), never exceptions. Ctrl-C raises ``LaunchInterrupted`` with ``.results``.
    """
    run, display, body = split_options(dict(options))
    spec = prepare_launch(tenants, **run, body=body)
    with Progress(spec.total, "launch", display.get("progress", True)) as bar:
        events: queue.SimpleQueue[str] = queue.SimpleQueue()
        coro = execute_launch(spec, events.put)
        try:
            return _run(coro, bool(display.get("nest_asyncio")), lambda: bar.drain(events))
        finally:
            bar.drain(events)


def _run(coro: Coroutine[Any, Any, T], nest: bool, on_tick: Any) -> T:
    if nest:
        return run_nested(coro)
    return run_sync(coro, on_tick=on_tick)

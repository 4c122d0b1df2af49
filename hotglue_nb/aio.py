"""The async public API, for ``await`` in notebooks and async code.

Usage:
    >>> results = await hg.aio.launch_jobs(tenants, flow_id="l8odS2mce", concurrency=16)
    >>> results = await hg.aio.wait_for_jobs(results)
"""

from __future__ import annotations

from typing import Any, Unpack

import pandas as pd

from ._follow import WaitOptions, execute_wait, prepare_wait
from ._launch import execute_launch, prepare_launch
from ._options import LaunchOptions, split_options
from ._progress import LiveView, Progress

__all__ = ["launch_jobs", "wait_for_jobs"]


async def launch_jobs(tenants: Any, **options: Unpack[LaunchOptions]) -> pd.DataFrame:
    """Async twin of ``hg.launch_jobs`` (same options); runs on the caller's event loop."""
    run, display, wait_args, body = split_options(dict(options))
    spec = prepare_launch(tenants, **run, body=body)
    progress = display.get("progress", True)
    with Progress(spec.total, "launch", progress) as bar:
        results = await execute_launch(spec, bar.update)
        if not display.get("wait"):
            return results
        return await _wait(results, wait_args, progress, bar=bar)


async def wait_for_jobs(results: pd.DataFrame, **options: Unpack[WaitOptions]) -> pd.DataFrame:
    """Async twin of ``hg.wait_for_jobs`` (same options)."""
    opts = dict(options)
    progress = opts.pop("progress", True)
    return await _wait(results, opts, progress)


async def _wait(
    results: pd.DataFrame, options: dict[str, Any], progress: Any, *, bar: Progress | None = None
) -> pd.DataFrame:
    spec = prepare_wait(results, **options)
    view = LiveView(len(spec.follows), progress, bar=bar)
    try:
        return await execute_wait(spec, view.event)
    finally:
        view.close()

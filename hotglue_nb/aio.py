"""The async public API, for ``await`` in notebooks and async code.

Usage:
    >>> results = await hg.aio.launch_jobs(tenants, flow_id="l8odS2mce", concurrency=16)
"""

from __future__ import annotations

from typing import Any, Unpack

import pandas as pd

from ._launch import execute_launch, prepare_launch
from ._options import LaunchOptions, split_options
from ._progress import Progress

__all__ = ["launch_jobs"]


async def launch_jobs(tenants: Any, **options: Unpack[LaunchOptions]) -> pd.DataFrame:
    """Async twin of ``hg.launch_jobs`` (same options); runs on the caller's event loop."""
    run, display, body = split_options(dict(options))
    spec = prepare_launch(tenants, **run, body=body)
    with Progress(spec.total, "launch", display.get("progress", True)) as bar:
        return await execute_launch(spec, bar.update)

"""``store=`` on ``launch_jobs``, ``wait_for_jobs`` and ``write_records``: the run's frame
kept in the store when the run ends."""

from __future__ import annotations

import functools
import sqlite3
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pandas as pd

from .._exceptions import HotglueError, HotglueWarning
from ._sqlite import Store

__all__ = ["keeps_runs"]

F = TypeVar("F", bound=Callable[..., pd.DataFrame])


def keeps_runs(function: F) -> F:
    """``store=`` on a launch, a wait or a write: the run's frame is kept in the store once
    the run ends (or stops with its frame). The store never blocks sending, nor loses a job
    id: a store that cannot keep the run warns, and the results (and journal) have it."""

    @functools.wraps(function)
    def run(*args: Any, **options: Any) -> pd.DataFrame:
        store = options.pop("store", None)
        try:
            results = function(*args, **options)
        except HotglueError as exc:
            _keep(store, getattr(exc, "results", None))
            raise
        _keep(store, results)
        return results

    return cast(F, run)


def _keep(store: Any, results: pd.DataFrame | None) -> None:
    if store is None or not isinstance(results, pd.DataFrame) or "run_id" not in results:
        return
    try:
        if not hasattr(store, "save_results"):  # the path of a store: opened for this run
            store = Store(store)
        store.save_results(results)
    except (HotglueError, sqlite3.Error, OSError) as exc:
        warnings.warn(f"The store could not keep this run ({exc}); every job id is in the "
                      "results (and the run's journal): save_results(frame) it later.",
                      HotglueWarning, stacklevel=3)  # fmt: skip

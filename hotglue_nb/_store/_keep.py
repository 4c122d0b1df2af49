"""``store=`` on ``launch_jobs``, ``wait_for_jobs`` and ``write_records``: the run's rows are
recorded in the store as they happen (each batch of its journal, once on disk), and its
whole frame is kept when the run ends."""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd

from .._exceptions import HotglueError, HotglueWarning
from .._journal import JOURNAL_TAP
from ._store import Store

__all__ = ["keeps_runs"]

F = TypeVar("F", bound=Callable[..., pd.DataFrame])


def keeps_runs(function: F) -> F:
    """``store=`` on a launch, a wait or a write. The store never blocks sending, nor loses
    a job id: a store that cannot keep the run warns, and the results (and journal) have it."""

    @functools.wraps(function)
    def run(*args: Any, **options: Any) -> pd.DataFrame:
        recorder = _Recorder.opened(options.pop("store", None))
        if recorder is None:
            return function(*args, **options)
        token = JOURNAL_TAP.set(recorder)
        try:
            results = function(*args, **options)
        except HotglueError as exc:
            recorder.keep(getattr(exc, "results", None))
            raise
        finally:
            JOURNAL_TAP.reset(token)
        recorder.keep(results)
        return results

    return cast(F, run)


class _Recorder:
    """Hands each journal batch of the run to the store; remembers the first failure."""

    def __init__(self, store: Any) -> None:
        self.store, self.error = store, cast("BaseException | None", None)
        self._runs: dict[Path, str | None] = {}

    @classmethod
    def opened(cls, store: Any) -> _Recorder | None:
        if store is None:
            return None
        recorder = cls(None)
        try:  # the path of a store: opened for this run
            recorder.store = store if hasattr(store, "save_results") else Store(store)
        except (HotglueError, OSError) as exc:
            recorder.error = exc
        return recorder

    def __call__(self, path: Path, lines: list[tuple[int, bytes]]) -> None:
        if self.error is not None or not hasattr(self.store, "_record_events"):
            return
        try:
            run_id = self._run_of(path)
            if run_id is not None:
                self.store._record_events(run_id, str(path.resolve()), lines)
        except (HotglueError, OSError, ValueError) as exc:
            self.error = exc  # said once the run ends; sending goes on

    def _run_of(self, path: Path) -> str | None:
        """The run a journal belongs to, from its first line (an operation's is skipped)."""
        if path not in self._runs:
            with path.open("rb") as file:
                head = json.loads(file.readline() or b"{}")
            launch = head.get("kind") == "run" and "operation" not in head
            self._runs[path] = str(head["run_id"]) if launch else None
        return self._runs[path]

    def keep(self, results: pd.DataFrame | None) -> None:
        """The run's whole frame, once it ends; a failure (now or earlier) only warns."""
        if self.error is None and isinstance(results, pd.DataFrame) and "run_id" in results:
            try:
                cast(Store, self.store).save_results(results)
            except (HotglueError, OSError) as exc:
                self.error = exc
        if self.error is not None:
            warnings.warn(f"The store could not keep this run ({self.error}); every job id is "
                          "in the results (and the run's journal): save_results(frame) it "
                          "later.", HotglueWarning, stacklevel=3)  # fmt: skip

"""``store=`` on ``launch_jobs``, ``wait_for_jobs`` and ``write_records`` (blocking and
async): the run's rows are recorded in the store as they happen (each batch of its journal,
once on disk), and its whole frame is kept when the run ends. ``store=`` on ``job_history``:
sync the store, then read the flow's long history from it."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd

from .._exceptions import ConfigError, HotglueError
from .._journal import JOURNAL_TAP
from .._warnings import warn
from ._store import Store

__all__ = ["keeps_runs", "reads_store"]

F = TypeVar("F", bound=Callable[..., Any])


def keeps_runs(function: F) -> F:
    """``store=`` on a launch, a wait or a write. The store never blocks sending, nor loses
    a job id: a store that cannot keep the run warns, and the results (and journal) have it."""
    wait = function.__name__ == "wait_for_jobs"  # (a wait records into its run's journal)
    if inspect.iscoroutinefunction(function):
        return cast(F, _keeps_async_runs(function, wait))

    @functools.wraps(function)
    def run(*args: Any, **options: Any) -> pd.DataFrame:
        recorder = _Recorder.opened(_journaled(options, wait=wait))
        with recorder.tapping():
            try:
                results = function(*args, **options)
            except HotglueError as exc:
                recorder.keep(getattr(exc, "results", None))
                raise
        recorder.keep(results)
        return cast(pd.DataFrame, results)

    return cast(F, run)


def _journaled(options: dict[str, Any], wait: bool) -> Any:
    """Take ``store=`` out of the options; a stored launch or write keeps a journal (the
    store records from it, as it is written) unless the call names one, or ``journal=None``."""
    store = options.pop("store", None)
    if store is not None and not wait and "journal" not in options and "resume" not in options:
        options["journal"] = True
    return store


def _keeps_async_runs(function: Callable[..., Any], wait: bool) -> Callable[..., Any]:
    @functools.wraps(function)
    async def run(*args: Any, **options: Any) -> pd.DataFrame:
        recorder = _Recorder.opened(_journaled(options, wait=wait))
        with recorder.tapping():
            try:
                results = await function(*args, **options)
            except HotglueError as exc:
                recorder.keep(getattr(exc, "results", None))
                raise
        recorder.keep(results)
        return cast(pd.DataFrame, results)

    return run


def reads_store(function: F) -> F:
    """``store=`` on ``job_history``: sync the store with the API's lists, then return the
    store's history of the flow (longer than any list), filtered as asked."""

    @functools.wraps(function)
    def read(flow_id: str, tenants: Any = None, *, since: Any = None, until: Any = None,
             now: Any = None, count: Any = None, **options: Any) -> pd.DataFrame:  # fmt: skip
        store = options.pop("store", None)
        if store is None:
            return cast(pd.DataFrame, function(flow_id, tenants, since=since, until=until,
                                               now=now, count=count, **options))  # fmt: skip
        if count is not None:
            raise ConfigError("job_history(store=...) reads every job the store holds: drop "
                              "count= (it only asks the API for a longer list).")  # fmt: skip
        kept = store if isinstance(store, Store) else Store(store)
        kept.sync_history(flow_id, tenants, since=since, **options)
        frame = kept.history(flow_id, tenants, since=since, until=until, now=now)
        connector = options.get("connector_id")
        if isinstance(connector, str):
            frame = frame[frame["connector_id"] == connector].reset_index(drop=True)
        return frame

    return cast(F, read)


class _Recorder:
    """Hands each journal batch of the run to the store, on a thread of its own: a store
    that is slow or busy (another writer) never holds up the journal, so never a POST.
    Remembers the first failure."""

    def __init__(self, store: Any) -> None:
        self.store, self.error = store, cast("BaseException | None", None)
        self._runs: dict[Path, str | None] = {}
        self._batches: queue.SimpleQueue[tuple[Path, list[tuple[int, bytes]]] | None] = (
            queue.SimpleQueue()
        )
        self._writer: threading.Thread | None = None

    @classmethod
    def opened(cls, store: Any) -> _Recorder:
        recorder = cls(None)
        if store is None:
            return recorder  # keeps nothing, says nothing
        try:  # the path of a store: opened for this run
            recorder.store = store if hasattr(store, "save_results") else Store(store)
        except (HotglueError, OSError) as exc:
            recorder.error = exc
        return recorder

    @contextlib.contextmanager
    def tapping(self) -> Iterator[None]:
        """The run's journals hand their batches to the store while the run goes on."""
        if self.store is None and self.error is None:
            yield
            return
        token = JOURNAL_TAP.set(self)
        try:
            yield
        finally:
            JOURNAL_TAP.reset(token)
            if self._writer is not None:  # what the journal handed over, kept before the end
                self._batches.put(None)
                self._writer.join()

    def __call__(self, path: Path, lines: list[tuple[int, bytes]]) -> None:
        if self.error is not None or not hasattr(self.store, "_record_events"):
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._drain, name="hotglue-nb-store",
                                            daemon=True)  # fmt: skip
            self._writer.start()
        self._batches.put((path, lines))  # never waits

    def _drain(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self.error is not None:
                continue
            path, lines = batch
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
        if self.store is None and self.error is None:
            return
        if self.error is None and isinstance(results, pd.DataFrame) and "run_id" in results:
            try:
                cast(Store, self.store).save_results(results)
            except (HotglueError, OSError) as exc:
                self.error = exc
        if self.error is not None:
            warn(
                f"The store could not keep this run ({self.error}); every job id is in the "
                "results (and the run's journal): save_results(frame) it later."
            )

"""``store=`` on ``launch_jobs``, ``wait_for_jobs`` and ``write_records`` (blocking and
async): the run's rows are recorded in the store as they happen (each batch of its journal,
once on disk), and its whole frame is kept when the run ends. ``store=`` on ``job_history``:
sync the store, then read the flow's long history from it.

Everything the store does for a run happens on the recorder's own thread — opening a store
given by its location, each batch, the final frame — so a slow, busy or hung store never
holds up a POST; the run waits for it at its end at most ``_Recorder.bound`` seconds, then
warns. The journal stays the source of truth: a store that misses a batch still gets the
whole frame at the end, and a store that cannot keep the run only warns.
"""

from __future__ import annotations

import asyncio
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
_Item = tuple[str, Any, Any] | None  # ("events", path, lines) / ("frame", frame, None)


def keeps_runs(function: F) -> F:
    """``store=`` on a launch, a wait or a write. The store never blocks sending, nor loses
    a job id: a store that cannot keep the run warns, and the results (and journal) have it."""
    wait = function.__name__ == "wait_for_jobs"  # (a wait records into its run's journal)
    if inspect.iscoroutinefunction(function):
        return cast(F, _keeps_async_runs(function, wait))

    @functools.wraps(function)
    def run(*args: Any, **options: Any) -> pd.DataFrame:
        recorder = _Recorder(_journaled(options, wait))
        with recorder.tapping():
            try:
                results = function(*args, **options)
            except HotglueError as exc:
                _said(recorder.finish(getattr(exc, "results", None)))
                raise
            said = recorder.finish(results)
        _said(said)
        return cast(pd.DataFrame, results)

    return cast(F, run)


def _keeps_async_runs(function: Callable[..., Any], wait: bool) -> Callable[..., Any]:
    @functools.wraps(function)
    async def run(*args: Any, **options: Any) -> pd.DataFrame:
        recorder = _Recorder(_journaled(options, wait))
        with recorder.tapping():
            try:
                results = await function(*args, **options)
            except HotglueError as exc:  # the loop goes on while the store finishes
                _said(await asyncio.to_thread(recorder.finish, getattr(exc, "results", None)))
                raise
            said = await asyncio.to_thread(recorder.finish, results)
        _said(said)
        return cast(pd.DataFrame, results)

    return run


def _said(message: str | None) -> None:
    if message:
        warn(message)  # at the user's line


def _journaled(options: dict[str, Any], wait: bool) -> Any:
    """Take ``store=`` out of the options (a dry run keeps nothing); a stored launch or write
    keeps a journal (the store records from it, as it is written) unless the call names one,
    or ``journal=None``."""
    store = options.pop("store", None)
    if options.get("dry_run"):
        return None
    if store is not None and not wait and "journal" not in options and "resume" not in options:
        options["journal"] = True
    return store


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
        try:
            kept.sync_history(flow_id, tenants, since=since, **options)
            frame = kept.history(flow_id, tenants, since=since, until=until, now=now)
        finally:
            if kept is not store:
                kept.close()
        connector = options.get("connector_id")
        if isinstance(connector, str):
            frame = frame[frame["connector_id"] == connector].reset_index(drop=True)
        return frame

    return cast(F, read)


class _Recorder:
    """A run's store work, on a thread of its own (see the module's docstring)."""

    def __init__(self, store: Any) -> None:
        self.given, self.store = store, store if hasattr(store, "save_results") else None
        self.error: BaseException | None = None
        self.saved, self.done = False, False
        self._runs: dict[Path, str | None] = {}
        self._items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def bound(self) -> float:
        """Seconds a run waits at its end for the store: its write timeout, twice (the rest
        goes on in the background, as long as the process lives)."""
        return max(1.0, 2 * float(getattr(self.store, "timeout", 30)))

    @contextlib.contextmanager
    def tapping(self) -> Iterator[None]:
        """The run's journals hand their batches to the recorder while the run goes on."""
        if self.given is None:
            yield
            return
        token = JOURNAL_TAP.set(self)
        try:
            yield
        finally:
            JOURNAL_TAP.reset(token)
            if not self.done and self._thread is not None:  # an error of ours: stop the thread
                self.done = True
                self._items.put(None)

    def __call__(self, path: Path, lines: list[tuple[int, bytes]]) -> None:
        self._put(("events", path, lines))  # never waits

    def finish(self, results: pd.DataFrame | None) -> str | None:
        """Queue the run's frame, wait for the store (at most ``bound`` s); what to say."""
        if self.given is None or self.done:
            return None
        self.done = True
        keeps = isinstance(results, pd.DataFrame) and "run_id" in results
        if keeps:
            self._put(("frame", results, None))
        if self._thread is None:
            return None
        self._items.put(None)
        self._thread.join(self.bound)
        if self._thread.is_alive():
            return (f"The store did not answer within {self.bound:g} s, so it may not hold this "
                    "run; every job id is in the results (and the run's journal): "
                    "save_results(frame) it later.")  # fmt: skip
        if keeps and not self.saved:
            return (
                f"The store could not keep this run ({self.error}); every job id is in "
                "the results (and the run's journal): save_results(frame) it later."
            )
        return None

    def _put(self, item: _Item) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="hotglue-nb-store",
                                            daemon=True)  # fmt: skip
            self._thread.start()
        self._items.put(item)

    def _drain(self) -> None:
        while (item := self._items.get()) is not None:
            try:  # a failure is remembered; later batches and the frame are still tried
                self._keep(*item)
            except (HotglueError, OSError, ValueError) as exc:
                self.error = exc
        if self.store is not None and self.store is not self.given:
            self.store.close()  # opened here, for this run

    def _keep(self, kind: str, value: Any, lines: Any) -> None:
        if self.store is None:
            self.store = Store(self.given)  # here, not before the first POST
        store = cast(Store, self.store)
        if kind == "frame":
            store.save_results(value)
            self.saved = True
        elif (run_id := self._run_of(value)) is not None:
            store._record_events(run_id, str(value.resolve()), lines)

    def _run_of(self, path: Path) -> str | None:
        """The run a journal belongs to, from its first line (an operation's is skipped)."""
        if path not in self._runs:
            with path.open("rb") as file:
                head = json.loads(file.readline() or b"{}")
            launch = head.get("kind") == "run" and "operation" not in head
            self._runs[path] = str(head["run_id"]) if launch else None
        return self._runs[path]

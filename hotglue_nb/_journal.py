"""A durable, append-only record of a run (JSON lines), for resume and audit.

Before each POST an *intent* (row, tenant, unique job_name, request body) is written and
fsync'd; the *outcome* follows. A process killed at any moment therefore leaves, for every row
it may have sent, at least an intent whose job_name lets a resume find the job again.
Writes are group-committed: one fsync covers every record queued while the previous fsync
ran, so durability costs about one fsync per batch, not per row. Never holds the API key.

A journal belongs to one run at a time: an exclusive OS lock (``flock``, Linux and macOS) is
held while it is open and released by the OS on exit or crash. On Windows there is no lock
(a HotglueWarning says so). A torn last line (a crash mid-write) is cut off before anything
is appended. A write failure (disk full...) never raises out of a run: ``error`` records it.
A run given ``store=`` sets ``JOURNAL_TAP`` for its call: each batch, once on disk, is
handed to the store too, so the store holds a run's rows as they happen.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeAlias

from ._exceptions import ConfigError, JournalError
from ._warnings import warn

__all__ = [
    "DEFAULT_RUNS_DIR",
    "FORMAT",
    "JOURNAL_TAP",
    "Journal",
    "JournalState",
    "default_path",
    "find_journal",
    "launch_journal_path",
    "read_journal",
    "wait_journal_path",
]

DEFAULT_RUNS_DIR = Path("hotglue-runs")
FORMAT = 2  # 2: the run header records its flow, env and body defaults, and its pid
#: called with a journal's path and a batch of its lines (offset, line) once they are on
#: disk; it must not raise (a store that fails only warns, after the run)
Tap: TypeAlias = Callable[[Path, list[tuple[int, bytes]]], None]
JOURNAL_TAP: ContextVar[Tap | None] = ContextVar("hotglue_nb_journal_tap", default=None)


class Journal:
    """Appends records to ``path``, which it holds locked until ``aclose``; ``durable``
    records are fsync'd before they return."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[bytes] = self.path.open("a+b")
        except OSError as exc:
            raise ConfigError(
                f"Cannot write the journal {self.path}: {exc.strerror}. Choose a writable path."
            ) from None
        try:
            _lock(self._file, self.path)
            _repair(self._file)
        except BaseException:
            self._file.close()
            raise
        self._fsync = fsync
        self._pending: list[tuple[bytes, asyncio.Future[None] | None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.error: JournalError | None = None
        self._tap = JOURNAL_TAP.get()

    def is_empty(self) -> bool:
        return self._file.seek(0, os.SEEK_END) == 0

    async def durable(self, record: dict[str, Any], raw: dict[str, str] | None = None) -> None:
        """Write ``record`` and return once it is on disk (JournalError if it cannot be).

        ``raw`` adds fields whose values are JSON text already (a row's request body,
        serialised once per row), written as they are.
        """
        if self.error is not None:
            raise self.error
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(record, future, raw)
        await future

    def later(self, record: dict[str, Any]) -> None:
        """Write ``record`` with the next batch (flushed at the latest by ``aclose``)."""
        if self.error is None:
            self._queue(record, None)

    async def aclose(self) -> None:
        """Flush what is queued and release the journal; never raises (see ``error``)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
        try:
            self._file.close()  # releases the lock
        except OSError as exc:
            self.error = self.error or JournalError(f"Cannot write the journal {self.path}: {exc}")

    def close_now(self) -> None:
        """Release the journal without flushing (a run that never started)."""
        self._file.close()

    def _queue(
        self,
        record: dict[str, Any],
        future: asyncio.Future[None] | None,
        raw: dict[str, str] | None = None,
    ) -> None:
        text = json.dumps(record, default=str)
        if raw:
            extra = "".join(f", {json.dumps(name)}: {value}" for name, value in raw.items())
            text = text[:-1] + extra + "}"
        line = (text + "\n").encode("utf-8")
        self._pending.append((line, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        try:
            while self._pending and self.error is None:
                batch, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self._write, [line for line, _ in batch])
                except OSError as exc:
                    self.error = JournalError(f"Cannot write the journal {self.path}: {exc}")
                    batch, self._pending = batch + self._pending, []
                _settle(batch, self.error)
        finally:
            self._flusher = None

    def _write(self, lines: list[bytes]) -> None:
        at = self._file.seek(0, os.SEEK_END)
        self._file.write(b"".join(lines))
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        if self._tap is not None:
            told = []
            for line in lines:
                told.append((at, line))
                at += len(line)
            self._tap(self.path, told)


def _lock(file: IO[bytes], path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        warn(
            f"{path}: journals are not locked on this system; do not run two resumes of "
            "one journal at once."
        )
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder(path)
        who = f" (pid {pid})" if pid else ""
        raise ConfigError(
            f"The journal {path} is in use by another run{who}: a journal belongs to one run "
            "at a time. Let that run end (or stop it), then resume."
        ) from None


def _holder(path: Path) -> int | None:
    """The pid recorded by the last run or resume that opened ``path`` (best effort)."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("kind") in ("run", "resume"):
            pid = record.get("pid")
            return pid if isinstance(pid, int) else None
    return None


def _repair(file: IO[bytes]) -> None:
    """Cut a torn last line (no newline: a crash mid-write) so the next record starts clean."""
    end = file.seek(0, os.SEEK_END)
    position = end
    while position > 0:
        step = min(65536, position)
        file.seek(position - step)
        chunk = file.read(step)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            position = position - step + cut + 1
            break
        position -= step
    if position < end:
        file.truncate(position)


def _settle(
    batch: list[tuple[bytes, asyncio.Future[None] | None]], error: BaseException | None
) -> None:
    for _, future in batch:
        if future is not None and not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


@dataclass
class JournalState:
    """What a journal says: the run, and per row its intents, last outcome and status."""

    path: Path
    run: dict[str, Any]
    intents: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read a journal; a torn last line (a crash mid-write) is ignored."""
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read the journal {source}: {exc}") from None
    state: JournalState | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise ConfigError(f"{source}:{number} is not a journal record.") from None
        state = _apply(state, record, source)
    if state is None:
        raise ConfigError(f"{source} is empty: not a hotglue_nb journal.")
    return state


def _apply(state: JournalState | None, record: dict[str, Any], source: Path) -> JournalState:
    kind = record.get("kind")
    if kind == "run":
        if int(record.get("format", 1)) > FORMAT:
            raise ConfigError(
                f"{source} was written by a newer hotglue_nb (journal format "
                f"{record.get('format')}, this one reads up to {FORMAT}): upgrade hotglue_nb."
            )
        return state or JournalState(path=source, run=record)
    if state is None:
        raise ConfigError(f"{source} does not start with a run record: not a hotglue_nb journal.")
    row = int(record.get("row", -1))
    if kind == "intent":
        state.intents.setdefault(row, []).append(record)
    elif kind == "outcome":
        state.outcomes[row] = record
    elif kind == "status":
        state.statuses[row] = record
    return state


def default_path(run_id: str) -> Path:
    return DEFAULT_RUNS_DIR / f"{run_id}.jsonl"


def find_journal(resume: str | os.PathLike[str]) -> Path:
    """A journal path, or a run id looked up in ``hotglue-runs/``."""
    path = Path(resume)
    if path.exists():
        return path
    by_id = default_path(str(resume))
    if by_id.exists():
        return by_id
    raise ConfigError(
        f"No journal at {str(path)!r} nor {str(by_id)!r}: pass the journal path used by the run."
    )


def launch_journal_path(
    journal: str | os.PathLike[str] | bool | None, resumed: JournalState | None, run_id: str
) -> Path | None:
    """Where a launch writes: the resumed journal, ``journal=``, or ``True`` -> the default."""
    if resumed is not None:
        return resumed.path
    if journal is True:
        return default_path(run_id)
    if journal is None or journal is False:
        return None
    return Path(journal)


def wait_journal_path(
    journal: str | os.PathLike[str] | None, hint: Any, run_ids: list[Any]
) -> Path | None:
    """Where wait_for_jobs records statuses: ``journal=``, the results' own journal, or the
    default journal of their (single) run, when it exists."""
    if journal is not None:
        return Path(journal)
    candidates = [Path(hint)] if hint else []
    if len(run_ids) == 1:
        candidates.append(default_path(str(run_ids[0])))
    return next((path for path in candidates if path.exists()), None)

"""A durable, append-only record of a run (JSON lines), for resume and audit.

Before each POST an *intent* (row, tenant, unique job_name, request body) is written and
fsync'd; the *outcome* follows. A process killed at any moment therefore leaves, for every row
it may have sent, at least an intent whose job_name lets a resume find the job again.
Writes are group-committed: one fsync covers every record queued while the previous fsync
ran, so durability costs about one fsync per batch, not per row. Never holds the API key.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._exceptions import ConfigError

__all__ = [
    "DEFAULT_RUNS_DIR",
    "Journal",
    "JournalState",
    "default_path",
    "find_journal",
    "launch_journal_path",
    "read_journal",
    "wait_journal_path",
]

DEFAULT_RUNS_DIR = Path("hotglue-runs")


class Journal:
    """Appends records to ``path``; ``durable`` records are fsync'd before they return."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = self.path.open("a", encoding="utf-8")
        self._fsync = fsync
        self._pending: list[tuple[str, asyncio.Future[None] | None]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def durable(self, record: dict[str, Any]) -> None:
        """Write ``record`` and return once it is on disk."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(record, future)
        await future

    def later(self, record: dict[str, Any]) -> None:
        """Write ``record`` with the next batch (flushed at the latest by ``aclose``)."""
        self._queue(record, None)

    async def aclose(self) -> None:
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
        self._file.close()

    def _queue(self, record: dict[str, Any], future: asyncio.Future[None] | None) -> None:
        self._pending.append((json.dumps(record, default=str) + "\n", future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self._write, [line for line, _ in batch])
                except OSError as exc:
                    error = ConfigError(f"Cannot write the journal {self.path}: {exc}")
                    _settle(batch, error)
                    raise error from exc
                _settle(batch, None)
        finally:
            self._flusher = None

    def _write(self, lines: list[str]) -> None:
        self._file.write("".join(lines))
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())


def _settle(
    batch: list[tuple[str, asyncio.Future[None] | None]], error: BaseException | None
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

"""Running a schedule operation: the journal (a resumed one keeps each row's schedule from
before its first run), the change engine on the loop thread, the frame, and what raises."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._client._schedules import Schedule
from .._exceptions import ConfigError
from .._fanout import Event
from .._fleet._public import blocking
from .._fleet._reads import ReadRun, prepare_reads
from .._journal import DEFAULT_RUNS_DIR, FORMAT, Journal
from .._last_run import interrupted, remember, stopped_by
from .._progress import Progress
from ._rows import resumed_befores
from ._schedules import Change, change_frame, run_changes

__all__ = ["JournalPath", "Operation", "change", "journal_at", "pause_row"]

JournalPath = str | os.PathLike[str]


@dataclass
class Operation:
    kind: str
    flow_id: str
    changes: list[Change]
    dry_run: bool
    journal: JournalPath | None
    overwrite: bool
    all_tenants: bool = False


def pause_row(row: int, tenant: str, flow_id: str, connector: str | None) -> Change:
    def disabled(before: Schedule) -> Schedule:
        if before.exists and before.state == "ENABLED":
            return Schedule(before.expression, "DISABLED")
        return before

    return Change(row, tenant, flow_id, connector, disabled)


def change(operation: Operation, options: dict[str, Any]) -> pd.DataFrame:
    for name in ("dry_run", "overwrite"):
        if not isinstance(getattr(operation, name), bool):
            raise ConfigError(f"{name}= is True or False, got {getattr(operation, name)!r}.")
    run = prepare_reads(operation.kind, operation.flow_id, None, options)
    path = _journal_path(operation)
    if path is not None:
        befores = resumed_befores(path, operation.kind, _flow(operation))
        for row in operation.changes:
            row.before, row.left = befores.get((row.tenant, row.flow_id), (row.before, None))
    with Progress(options.get("progress", True)) as progress:
        progress.phase(f"{operation.kind} schedules", len(operation.changes))
        start: Callable[[Callable[[Event], None]], Coroutine[Any, Any, pd.DataFrame]]
        start = lambda post: _execute(run, operation, path, post)  # noqa: E731
        return blocking(start, progress, False)


def _run_record(journal: Journal, operation: Operation, env_id: str) -> dict[str, Any]:
    return {"kind": "run", "format": FORMAT, "run_id": journal.path.stem,
            "operation": f"{operation.kind}_schedules", "flow_id": operation.flow_id,
            "env_id": env_id, "pid": os.getpid()}  # fmt: skip


def _flow(operation: Operation) -> str | None:
    return operation.flow_id if operation.kind == "pause" else None


def _journal_path(operation: Operation) -> Path | None:
    return None if operation.dry_run else journal_at(operation.journal, "schedules")


def journal_at(journal: JournalPath | None, kind: str) -> Path:
    """``journal=``, or a new one in ``hotglue-runs/`` named after the operation."""
    if journal is not None:
        return Path(journal)
    return DEFAULT_RUNS_DIR / f"{kind}-{uuid.uuid4().hex[:12]}.jsonl"


async def _execute(
    run: ReadRun, operation: Operation, path: Path | None, post: Callable[[Event], None]
) -> pd.DataFrame:
    if operation.all_tenants:
        tenants = await run.clients.root.list_tenants()
        befores = resumed_befores(path, operation.kind, _flow(operation))
        operation.changes = [
            pause_row(i, t, operation.flow_id, None) for i, t in enumerate(tenants)
        ]
        for row in operation.changes:
            row.before, row.left = befores.get((row.tenant, row.flow_id), (None, None))
    journal = Journal(path) if path is not None else None
    try:
        if journal is not None and journal.is_empty():
            await journal.durable(_run_record(journal, operation, run.clients.root.env_id))
        stopped = await run_changes(run, operation.changes, journal=journal,
                                    dry_run=operation.dry_run, overwrite=operation.overwrite,
                                    on_event=post)  # fmt: skip
    finally:
        if journal is not None:
            await journal.aclose()
    frame = change_frame(operation.changes)
    frame.attrs.update(journal=str(path) if path else None, dry_run=operation.dry_run)
    if run.refused is not None:
        raise stopped_by(run.refused, frame)
    if stopped:
        raise interrupted(frame, phase=f"{operation.kind} schedules")
    remember(frame)
    return frame

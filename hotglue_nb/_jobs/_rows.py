"""A launch's rows: the run's state (``LaunchRun``), each row's result record, and the
results frame (one row per input row, whatever happened; a dry run's straight from the plans)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._client._pacing import Pacer
from .._exceptions import HotglueError
from .._fanout import Event
from .._frames import columns_frame, results_frame
from .._journal import Journal, JournalState
from .._options import LaunchConfig, RunClients
from ._flows import FlowCheck
from ._plan import Plan, RowPlan

__all__ = [
    "LaunchRun",
    "OnEvent",
    "base_result",
    "dry_run_frame",
    "emit",
    "finish_frame",
    "row_result",
]


OnEvent = Callable[[Event], None] | None


@dataclass
class LaunchRun:
    """The state of one launch: what was decided up front, then each row's result."""

    config: LaunchConfig
    frame: pd.DataFrame
    plan: Plan
    run_id: str
    env_id: str
    resumed: JournalState | None
    clients: RunClients | None
    pacer: Pacer
    journal: Journal | None
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    check_first: set[int] = field(default_factory=set)
    prior_attempts: dict[int, int] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)  # POSTs sent per row
    doubt: set[int] = field(default_factory=set)  # rows whose last POST may have made a job
    abort_reason: str | None = None
    refused: HotglueError | None = None  # the refused key that stopped the run
    flows: FlowCheck = field(default_factory=FlowCheck)  # flows proven missing
    not_in_frame: list[str] = field(default_factory=list)  # resumed run rows left out
    rng: random.Random = field(default_factory=random.Random)
    backups: dict[int, str] = field(default_factory=dict)  # backup_state=: each row's file

    @property
    def total(self) -> int:
        return len(self.frame)

    @property
    def journal_path(self) -> Path | None:
        return None if self.journal is None else self.journal.path

    def client(self, env_id: str, **options: Any) -> Any:
        assert self.clients is not None
        return self.clients.get(env_id, **options)


def base_result(run_id: str, tenant: str, flow_id: str, env_id: str) -> dict[str, Any]:
    return {"tenant": tenant, "flow_id": flow_id, "env_id": env_id, "run_id": run_id}


def row_result(run: LaunchRun, plan: RowPlan, outcome: str, **fields: Any) -> dict[str, Any]:
    out = base_result(run.run_id, plan.tenant, plan.flow_id, plan.env_id)
    if plan.connector_id is not None:
        out.update(connector_id=plan.connector_id, job_type=plan.job_type)
    out.update(outcome=outcome, request=plan.request_json, attempts=fields.pop("attempts", 0))
    if plan.row in run.backups:
        out["state_backup"] = run.backups[plan.row]
    out.update(fields)
    return out


def emit(on_event: OnEvent, row: int, result: dict[str, Any]) -> None:
    if on_event is not None:
        on_event(Event(row, str(result["tenant"]), str(result["outcome"]), True))


def finish_frame(run: LaunchRun, unsent: str) -> pd.DataFrame:
    by_row = {p.row: p for p in run.plan.rows}
    rows = []
    for row in range(run.total):
        result = run.results.get(row)
        if result is None and row in run.doubt:
            error = "interrupted while a request was in flight"
            result = row_result(run, by_row[row], "unknown", error=error, attempts=run.sent[row])
        elif result is None and run.sent.get(row):
            reason = run.abort_reason or unsent
            error = f"{reason}; its {run.sent[row]} POST(s) were refused, so no job exists"
            result = row_result(run, by_row[row], "skipped", error=error, attempts=run.sent[row])
        elif result is None and row in run.check_first:  # sent by the run resumed, unchecked
            error = "sent by an earlier session of this run and not checked yet: resume again"
            attempts = run.prior_attempts.get(row, 0)
            result = row_result(run, by_row[row], "unknown", error=error, attempts=attempts)
        elif result is None:
            result = row_result(run, by_row[row], "skipped", error=run.abort_reason or unsent)
        rows.append(result)
    frame = results_frame(rows, run.frame.index)
    if run.journal is not None:
        frame.attrs["journal"] = str(run.journal.path)  # lets wait_for_jobs record statuses
        if run.journal.error is not None:
            frame.attrs["journal_error"] = str(run.journal.error)
    if run.not_in_frame:
        frame.attrs["not_in_frame"] = run.not_in_frame
    return frame


def dry_run_frame(run: LaunchRun, on_event: OnEvent) -> pd.DataFrame:
    """Result columns made straight from the plans, which are let go as they are read: a
    100,000-row dry run holds no dict per row and no plan next to its finished frame."""
    plans, run.plan.rows = run.plan.rows, []
    plans.reverse()  # pop() from the end: each plan is freed once read
    data: dict[str, list[Any]] = {name: [] for name in _DRY_COLUMNS}
    for row in range(run.total):
        if plans and plans[-1].row == row:
            result = _dry_result(run, plans.pop())
        else:  # an invalid row, already with its result
            result = run.results[row]
        for name, values in data.items():
            values.append(result.get(name))
        emit(on_event, row, result)
    return columns_frame(data, run.frame.index)


_DRY_COLUMNS = ("tenant", "flow_id", "env_id", "connector_id", "job_type", "outcome", "message",
                "error", "request", "job_name", "attempts", "run_id")  # fmt: skip


def _dry_result(run: LaunchRun, plan: RowPlan) -> dict[str, Any]:
    return {
        "tenant": plan.tenant, "flow_id": plan.flow_id, "env_id": plan.env_id,
        "connector_id": plan.connector_id, "job_type": plan.job_type, "outcome": "skipped",
        "message": f"dry run: would POST {plan.path}", "request": plan.request_json,
        "job_name": plan.job_name, "attempts": 0, "run_id": run.run_id,
    }  # fmt: skip

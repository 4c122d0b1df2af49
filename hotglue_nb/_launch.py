"""launch_jobs: validated rows -> POSTs -> one outcome per row (ARCHITECTURE §6).

``prepare_launch`` (synchronous, no I/O but the journal read) validates the frame and
classifies rows into a ``LaunchRun``; ``execute_launch`` sends the pending rows on the
fan-out engine, one ``_launch_op`` per row.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from ._exceptions import (
    APIResponseError,
    APIStatusError,
    ConfigError,
    HotglueError,
    JournalError,
)
from ._fanout import Event, Step, fan_out
from ._fleet import Read, check_reads, preflight_reasons
from ._frames import RESULT_COLUMNS, columns_frame, results_frame
from ._journal import (
    FORMAT,
    Journal,
    JournalState,
    find_journal,
    launch_journal_path,
    read_journal,
)
from ._last_run import interrupted
from ._models import Job, QueuedJob
from ._options import LaunchConfig, RunClients
from ._pacing import Pacer
from ._plan import Plan, RowPlan, as_frame, coerce_defaults, plan_rows
from ._reconcile import State, verdict
from ._resume import recorded_plan, resumed_config, row_keys
from ._retry import decide, retry_delay
from ._values import now_iso, now_utc
from ._version import __version__

__all__ = ["LaunchRun", "execute_launch", "prepare_launch"]

_RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")
RECONCILE_RETRIES = 5  # GETs are safe to repeat; a lost answer deserves a patient look
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
    not_in_frame: list[str] = field(default_factory=list)  # resumed run rows left out
    rng: random.Random = field(default_factory=random.Random)

    @property
    def total(self) -> int:
        return len(self.frame)

    @property
    def journal_path(self) -> Path | None:
        return None if self.journal is None else self.journal.path

    def client(self, env_id: str, **options: Any) -> Any:
        assert self.clients is not None
        return self.clients.get(env_id, **options)


def prepare_launch(tenants: Any, config: LaunchConfig) -> LaunchRun:
    """Validate every row; open (and lock) the journal, reading it when resuming.

    Sends nothing; a bad argument, an unwritable or busy journal, or a resume that
    contradicts its run is a ConfigError here, before any request.
    """
    frame = as_frame(tenants)
    journal = _open_journal(config)
    try:
        return _prepare(frame, config, journal)
    except BaseException:
        if journal is not None:
            journal.close_now()
        raise


def _open_journal(config: LaunchConfig) -> Journal | None:
    if config.dry_run:
        return None
    if config.resume is not None:
        return Journal(find_journal(config.resume))
    path = launch_journal_path(config.journal, None, _new_run_id())
    if path is None:
        return None
    journal = Journal(path)
    if not journal.is_empty():
        journal.close_now()
        raise ConfigError(
            f"{path} already holds another run: pass resume={str(path)!r} to continue that "
            "run, or choose a new journal path (or journal=True) for a new one."
        )
    return journal


def _prepare(frame: pd.DataFrame, config: LaunchConfig, journal: Journal | None) -> LaunchRun:
    resumed = read_journal(journal.path) if journal is not None and config.resume else None
    keys, missing = row_keys(frame, resumed) if resumed else (None, [])
    if resumed:
        config = resumed_config(config, resumed)
    run_id = resumed.run_id if resumed else _run_id_of(journal)
    pacer = Pacer(config.rate_limit, clock=config.clock, sleep=config.sleep)
    clients = None if config.dry_run else RunClients(config.connection, config, pacer)
    env_id = config.connection.target_env()
    plan = plan_rows(
        frame, defaults=config.body, flow_id=config.flow_id, env_id=env_id, run_id=run_id,
        keys=keys,
    )  # fmt: skip
    if plan.problems and config.on_invalid == "raise":
        raise ConfigError(
            f"{len(plan.problems)} of {len(frame)} rows have problems; nothing was sent:\n"
            f"{plan.problem_text()}\nFix them, or pass on_invalid='skip' to launch the rest."
        )
    run = LaunchRun(config, frame, plan, run_id, env_id, resumed, clients, pacer, journal)
    run.not_in_frame = missing
    _record_invalid(run)
    if resumed:
        _carry_over(run, resumed)
    return run


def _run_id_of(journal: Journal | None) -> str:
    """A new run's id; with ``journal=True`` the one its default path was named after."""
    name = journal.path.stem if journal is not None else ""
    return name if _RUN_ID.fullmatch(name) else _new_run_id()


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _record_invalid(run: LaunchRun) -> None:
    for row, problems in run.plan.problems.items():
        tenant, flow, env = run.plan.skipped[row]
        run.results[row] = base_result(run.run_id, tenant, flow, env) | {
            "outcome": "skipped",
            "error": "invalid row: " + "; ".join(problems),
        }


def _carry_over(run: LaunchRun, state: JournalState) -> None:
    """Keep created/queued rows; a row sent before keeps its recorded request, and is looked
    for under it first unless its outcome proves there is no job."""
    for index, plan in enumerate(run.plan.rows):
        intents = state.intents.get(plan.key, [])
        outcome = state.outcomes.get(plan.key, {})
        seen = (outcome or (intents[-1] if intents else {})).get("tenant", plan.tenant)
        if seen != plan.tenant:
            raise ConfigError(
                f"This frame is not the one of run {state.run_id}: row {plan.label!r} was "
                f"tenant {seen!r} there and is {plan.tenant!r} here. Resume with the same frame."
            )
        run.prior_attempts[plan.row] = len(intents)
        if outcome.get("outcome") in ("created", "queued"):
            run.results[plan.row] = {k: outcome.get(k) for k in RESULT_COLUMNS}
            continue
        if intents:
            run.plan.rows[index] = recorded_plan(plan, intents[-1])
        if intents and outcome.get("outcome") in (None, "unknown"):
            run.check_first.add(plan.row)


def base_result(run_id: str, tenant: str, flow_id: str, env_id: str) -> dict[str, Any]:
    return {"tenant": tenant, "flow_id": flow_id, "env_id": env_id, "run_id": run_id}


# --- execution -----------------------------------------------------------------------------


async def execute_launch(run: LaunchRun, on_event: OnEvent = None) -> pd.DataFrame:
    """Send every pending row; return the results frame (one row per input row).

    Raises LaunchInterrupted (with the complete partial frame) when cancelled.
    """
    if run.config.dry_run:
        return _dry_run_frame(run, on_event)
    for row, result in run.results.items():
        _emit(on_event, row, result)
    pending = [p for p in run.plan.rows if p.row not in run.results]
    cut_short = True
    try:
        await _journal_header(run)
        if run.config.preflight:
            pending = await _preflight(run, pending, on_event)
        report = await fan_out(
            _rows(run, pending), partial(_launch_op, run), concurrency=min(
                run.config.concurrency, max(len(pending), 1)),
            on_event=on_event, stop=lambda: run.abort_reason is not None, pacer=run.pacer,
            clock=run.config.clock, sleep=run.config.sleep, settle=partial(_settle, run),
        )  # fmt: skip
        cut_short = report.interrupted
    except asyncio.CancelledError:
        pass  # cancelled before the fan-out began: nothing was sent
    except JournalError as exc:  # the header could not be written: nothing was sent
        run.abort_reason, cut_short = f"not sent: {exc}", False
    finally:
        await _close(run)
    frame = _finish_frame(run, "interrupted before sending" if cut_short else "not sent")
    if cut_short:
        raise interrupted(frame, phase="launch")
    return frame


async def _preflight(run: LaunchRun, pending: list[RowPlan], on_event: OnEvent) -> list[RowPlan]:
    """``preflight=True``: check each pending row first (``hg.check_tenants``'s rules); rows
    that are not ready are ``skipped`` with the reason, unless ``preflight_allow`` names it."""
    reads = [Read(plan.row, plan.tenant, plan.flow_id, connector_id=plan.connector_id)
             for plan in pending]  # fmt: skip
    await check_reads(reads, run.client(run.env_id), concurrency=run.config.concurrency,
                      pacer=run.pacer, clock=run.config.clock, sleep=run.config.sleep)  # fmt: skip
    allow, now, ready = set(run.config.preflight_allow), now_utc(), []
    for plan, read in zip(pending, reads, strict=True):
        queued = plan.body.get("queue_if_active_job") or plan.body.get("ignore_parallel_jobs")
        reasons = preflight_reasons(read, now, allow | ({"running"} if queued else set()))
        if reasons:
            _record(run, plan, _result(run, plan, "skipped", error=f"preflight: {reasons}"))
            _emit(on_event, plan.row, run.results[plan.row])
        else:
            ready.append(plan)
    return ready


def _emit(on_event: OnEvent, row: int, result: dict[str, Any]) -> None:
    if on_event is not None:
        on_event(Event(row, str(result["tenant"]), str(result["outcome"]), True))


async def _journal_header(run: LaunchRun) -> None:
    """A new run records everything a resume needs to continue it as it was started."""
    if run.journal is None or run.clients is None:
        return
    head = {"format": FORMAT, "run_id": run.run_id, "at": now_iso(), "pid": os.getpid(),
            "hotglue_nb": __version__}  # fmt: skip
    if run.resumed:
        await run.journal.durable({"kind": "resume", **head, "rows": run.total})
        return
    await run.journal.durable({
        "kind": "run", **head, "env_id": run.env_id, "base_url": run.clients.root.base_url,
        "flow_id": run.config.flow_id, "defaults": coerce_defaults(run.config.body),
        "rows": run.total, "labels": [str(label) for label in run.plan.labels],
        "tenants": _row_tenants(run),
    })  # fmt: skip


def _row_tenants(run: LaunchRun) -> list[str]:
    tenants = {p.row: p.tenant for p in run.plan.rows}
    tenants.update({row: ids[0] for row, ids in run.plan.skipped.items()})
    return [tenants.get(row, "") for row in range(run.total)]


@dataclass
class _Row:
    """A row being launched; it survives "again after N s" (a back-off frees its worker)."""

    plan: RowPlan
    attempts: int
    budget: int
    started: float
    launched_at: str
    checked: bool = False
    last: HotglueError | None = None


def _rows(run: LaunchRun, pending: list[RowPlan]) -> Iterator[_Row]:
    for plan in pending:  # made lazily: no state for rows not reached yet
        attempts = run.prior_attempts.get(plan.row, 0)
        budget = attempts + run.config.max_attempts
        yield _Row(plan, attempts, budget, run.config.clock(), now_iso())


async def _launch_op(run: LaunchRun, row: _Row) -> Step:
    plan = row.plan
    try:
        result = await _attempt(run, row)
    except JournalError as exc:  # the intent could not be made durable: stop sending
        run.abort_reason = f"not sent: {exc}"  # (earlier POSTs of the row proved no job)
        result = _result(run, plan, "skipped", error=run.abort_reason, attempts=row.attempts)
    if isinstance(result, float):
        return Step(again=result)
    _record(run, plan, result | _timing(run, row))
    return Step(Event(plan.row, plan.tenant, str(result["outcome"]), True))


def _record(run: LaunchRun, plan: RowPlan, result: dict[str, Any]) -> None:
    run.results[plan.row] = result
    if run.journal is not None:
        run.journal.later({"kind": "outcome", "row": plan.key, **result})


async def _settle(run: LaunchRun, row: _Row) -> None:
    """A row in flight at an interrupt: if its POST may have acted, look for its job once
    (without waiting for the run's pace: the user is waiting)."""
    plan = row.plan
    if plan.row not in run.doubt or plan.row in run.results:
        return
    state, job, _ = await _check(run, plan, delay=0.0, paced=False)
    if state == "found" and job is not None:
        attempts = run.sent[plan.row]
        _record(run, plan, _created(run, plan, job, attempts, None, "found after interrupt"))


async def _attempt(run: LaunchRun, row: _Row) -> dict[str, Any] | float:
    """One step of a row: its result, or the seconds to wait before its next POST."""
    plan = row.plan
    if plan.row in run.check_first and not row.checked:
        row.checked = True
        state, job, why = await _check(run, plan)
        if state == "found" and job is not None:
            return _created(run, plan, job, row.attempts, None, "found by resume")
        if state == "unknown":
            return _result(run, plan, "unknown", error=why, attempts=row.attempts)
    if row.attempts >= row.budget:
        return _result(
            run, plan, "rejected", attempts=row.attempts, http_status=_status(row.last),
            error=f"gave up after {row.attempts} attempts: {_describe(row.last)}",
        )  # fmt: skip
    await run.pacer.wait()  # the rate slot first: an intent is written only to be sent
    if run.abort_reason:  # earlier POSTs of this row proved no job: nothing exists
        outcome = "rejected" if run.sent.get(plan.row) else "skipped"
        return _result(run, plan, outcome, error=run.abort_reason, attempts=row.attempts)
    row.attempts += 1
    await _intent(run, plan, row.attempts)
    try:
        client = run.client(plan.env_id, paced=False)
        answer = await client._post_job(plan.path, plan.tenant, plan.payload)
        if isinstance(answer, Job) and not answer.job_root:
            raise _without_root(plan)
    except HotglueError as exc:
        row.last = exc
        return await _after_error(run, plan, exc, row.attempts)
    run.pacer.speed_up()
    return _answered(run, plan, answer, row.attempts)


async def _intent(run: LaunchRun, plan: RowPlan, attempt: int) -> None:
    if run.journal is not None:
        await run.journal.durable({
            "kind": "intent", "row": plan.key, "label": str(plan.label), "tenant": plan.tenant,
            "flow_id": plan.flow_id, "env_id": plan.env_id, "job_name": plan.job_name,
            "attempt": attempt, "at": now_iso(),
        }, raw={"request": plan.request_json})  # fmt: skip
    run.sent[plan.row] = attempt
    run.doubt.add(plan.row)


async def _after_error(
    run: LaunchRun, plan: RowPlan, exc: HotglueError, attempts: int
) -> dict[str, Any] | float:
    """A result when the row is settled, else the seconds to wait before trying again."""
    decision = decide(exc)
    status = _status(exc)
    if decision != "reconcile":
        run.doubt.discard(plan.row)  # the answer proves no job was made
    if decision == "abort":
        run.abort_reason = f"not sent: the API refused the key: {_describe(exc)}"
    if decision in ("abort", "reject"):
        return _result(
            run, plan, "rejected", error=_describe(exc), attempts=attempts, http_status=status,
            message=getattr(exc, "api_message", None) or None,
        )  # fmt: skip
    if decision == "reconcile":
        state, job, why = await _check(run, plan)
        if state == "found" and job is not None:
            return _created(run, plan, job, attempts, status, f"found after {_describe(exc)}")
        if state == "unknown":
            error = f"{_describe(exc)}; {why}"
            return _result(run, plan, "unknown", error=error, attempts=attempts, http_status=status)
        run.doubt.discard(plan.row)  # proven absent
    return retry_delay(exc, attempts, rng=run.rng, pacer=run.pacer)


async def _check(
    run: LaunchRun, plan: RowPlan, delay: float | None = None, paced: bool = True
) -> tuple[State, Job | None, str]:
    """Look for the row's job by its unique name; only a readable job list proves anything.

    ``delay`` gives a request still being processed by the server time to land before the
    job list is read [I: hotglue does not say how long creation can take].
    """
    wait = run.config.reconcile_delay if delay is None else delay
    if wait > 0:
        await run.config.sleep(wait)
    client = run.client(plan.env_id, max_retries=RECONCILE_RETRIES if paced else 0, paced=paced)
    try:
        jobs = await client.list_jobs(plan.flow_id, plan.tenant, v2=plan.v2)
    except HotglueError as exc:
        return "unknown", None, f"could not list the tenant's jobs to check: {exc}"
    return verdict(jobs, plan.job_name, queue_flag=bool(plan.body.get("queue_if_active_job")))


def _answered(
    run: LaunchRun, plan: RowPlan, answer: Job | QueuedJob, attempts: int
) -> dict[str, Any]:
    if isinstance(answer, QueuedJob):
        message = " - ".join(filter(None, [answer.message, answer.reason]))
        return _result(
            run, plan, "queued", attempts=attempts, http_status=202, message=message,
            job_name=plan.job_name,
        )  # fmt: skip
    return _created(run, plan, answer, attempts, 200, None)


def _created(
    run: LaunchRun, plan: RowPlan, job: Job, attempts: int, status: int | None, note: str | None
) -> dict[str, Any]:
    return _result(
        run, plan, "created", attempts=attempts, http_status=status,
        job_id=job.job_id, job_name=job.job_name or plan.job_name, job_root=job.job_root,
        status=job.status, message=job.message, error=note,
    )  # fmt: skip


def _result(run: LaunchRun, plan: RowPlan, outcome: str, **fields: Any) -> dict[str, Any]:
    out = base_result(run.run_id, plan.tenant, plan.flow_id, plan.env_id)
    if plan.connector_id is not None:
        out.update(connector_id=plan.connector_id, job_type=plan.job_type)
    out.update(outcome=outcome, request=plan.request_json, attempts=fields.pop("attempts", 0))
    out.update(fields)
    return out


def _timing(run: LaunchRun, row: _Row) -> dict[str, Any]:
    return {"launched_at": row.launched_at, "elapsed_s": round(run.config.clock() - row.started, 4)}


def _describe(exc: BaseException | None) -> str:
    return "" if exc is None else f"{type(exc).__name__}: {exc}"


def _status(exc: BaseException | None) -> int | None:
    """What the server said, when it said anything (a 200 with an unreadable body too)."""
    return exc.status_code if isinstance(exc, (APIStatusError, APIResponseError)) else None


def _without_root(plan: RowPlan) -> APIResponseError:
    """A success without the job's key: the job cannot be followed, so it is looked up by
    name like any other ambiguous answer (never ``created`` without a job root)."""
    return APIResponseError(
        f"POST {plan.path} -> 200 without the job's s3_root (tenant={plan.tenant!r})",
        method="POST", path=plan.path, tenant=plan.tenant, status_code=200,
    )  # fmt: skip


async def _close(run: LaunchRun) -> None:
    if run.clients is not None:
        await run.clients.aclose()
    if run.journal is not None:
        await run.journal.aclose()


def _finish_frame(run: LaunchRun, unsent: str) -> pd.DataFrame:
    by_row = {p.row: p for p in run.plan.rows}
    rows = []
    for row in range(run.total):
        result = run.results.get(row)
        if result is None and row in run.doubt:
            error = "interrupted while a request was in flight"
            result = _result(run, by_row[row], "unknown", error=error, attempts=run.sent[row])
        elif result is None and run.sent.get(row):
            reason = run.abort_reason or unsent
            error = f"{reason}; its {run.sent[row]} POST(s) were refused, so no job exists"
            result = _result(run, by_row[row], "skipped", error=error, attempts=run.sent[row])
        elif result is None and row in run.check_first:  # sent by the run resumed, unchecked
            error = "sent by an earlier session of this run and not checked yet: resume again"
            attempts = run.prior_attempts.get(row, 0)
            result = _result(run, by_row[row], "unknown", error=error, attempts=attempts)
        elif result is None:
            result = _result(run, by_row[row], "skipped", error=run.abort_reason or unsent)
        rows.append(result)
    frame = results_frame(rows, run.frame.index)
    if run.journal is not None:
        frame.attrs["journal"] = str(run.journal.path)  # lets wait_for_jobs record statuses
        if run.journal.error is not None:
            frame.attrs["journal_error"] = str(run.journal.error)
    if run.not_in_frame:
        frame.attrs["not_in_frame"] = run.not_in_frame
    return frame


def _dry_run_frame(run: LaunchRun, on_event: OnEvent) -> pd.DataFrame:
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
        _emit(on_event, row, result)
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

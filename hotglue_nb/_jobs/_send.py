"""Sending a launch: each pending row on the fan-out engine, intent journaled before its
POST, the answer decided (created / queued / rejected), an ambiguous one reconciled by the
row's unique job name, a retry only when the server certainly did not act (ARCHITECTURE §6).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd

from .._client._retry import decide, retry_delay
from .._exceptions import APIResponseError, APIStatusError, HotglueError, JournalError
from .._fanout import Event, Step, fan_out
from .._fleet import Read, check_reads, preflight_reasons
from .._journal import FORMAT
from .._last_run import interrupted, stopped_by
from .._models import Job, QueuedJob
from .._values import now_iso, now_utc
from .._version import __version__
from ._backup import back_up
from ._plan import RowPlan, coerce_defaults
from ._reconcile import RECONCILE_COUNT, State, verdict
from ._rows import LaunchRun, OnEvent, dry_run_frame, emit, finish_frame, row_result

__all__ = ["execute_launch"]


RECONCILE_RETRIES = 5  # GETs are safe to repeat; a lost answer deserves a patient look


async def execute_launch(run: LaunchRun, on_event: OnEvent = None) -> pd.DataFrame:
    """Send every pending row; return the results frame (one row per input row).

    Raises LaunchInterrupted (with the complete partial frame) when cancelled.
    """
    if run.config.dry_run:
        return dry_run_frame(run, on_event)
    for row, result in run.results.items():
        emit(on_event, row, result)
    pending = [p for p in run.plan.rows if p.row not in run.results]
    cut_short = True
    try:
        await _journal_header(run)
        if run.config.preflight:
            pending = await _preflight(run, pending, on_event)
        if run.config.backup_state:
            pending = await back_up(run, pending, on_event, _record)
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
    frame = finish_frame(run, "interrupted before sending" if cut_short else "not sent")
    if cut_short:
        raise interrupted(frame, phase="launch")
    if run.refused is not None:
        raise stopped_by(run.refused, frame)
    if (missing := run.flows.error()) is not None:
        raise stopped_by(missing, frame)
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
            _record(run, plan, row_result(run, plan, "skipped", error=f"preflight: {reasons}"))
            emit(on_event, plan.row, run.results[plan.row])
        else:
            ready.append(plan)
    return ready


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
        result = row_result(run, plan, "skipped", error=run.abort_reason, attempts=row.attempts)
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
            return row_result(run, plan, "unknown", error=why, attempts=row.attempts)
    if row.attempts >= row.budget:
        return row_result(
            run, plan, "rejected", attempts=row.attempts, http_status=_status(row.last),
            error=f"gave up after {row.attempts} attempts: {_describe(row.last)}",
        )  # fmt: skip
    await run.pacer.wait()  # the rate slot first: an intent is written only to be sent
    stop = run.abort_reason or run.flows.stopped(plan)
    if stop:  # earlier POSTs of this row proved no job: nothing exists
        outcome = "rejected" if run.sent.get(plan.row) else "skipped"
        return row_result(run, plan, outcome, error=stop, attempts=row.attempts)
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
        run.refused = run.refused or exc
    if decision == "reject" and status == 404:
        await run.flows.after_404(plan, run.client(plan.env_id))
    if decision in ("abort", "reject"):
        return row_result(
            run, plan, "rejected", error=_describe(exc), attempts=attempts, http_status=status,
            message=getattr(exc, "api_message", None) or None,
        )  # fmt: skip
    if decision == "reconcile":
        state, job, why = await _check(run, plan)
        if state == "found" and job is not None:
            return _created(run, plan, job, attempts, status, f"found after {_describe(exc)}")
        if state == "unknown":
            error = f"{_describe(exc)}; {why}"
            return row_result(
                run, plan, "unknown", error=error, attempts=attempts, http_status=status
            )
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
        jobs = await client.list_jobs(plan.flow_id, plan.tenant, count=RECONCILE_COUNT,
                                      **_entity(plan))  # fmt: skip
    except HotglueError as exc:
        return "unknown", None, f"could not list the tenant's jobs to check: {exc}"
    queued = bool(plan.body.get("queue_if_active_job"))
    return verdict(jobs, plan.job_name, queue_flag=queued, asked=RECONCILE_COUNT)


def _entity(plan: RowPlan) -> dict[str, str | None]:
    """The row's source or connector, so a multi-source flow lists the right jobs [C-code]."""
    tap = plan.body.get("tap")
    return {"connector_id": plan.connector_id, "tap": None if plan.v2 else tap}


def _answered(
    run: LaunchRun, plan: RowPlan, answer: Job | QueuedJob, attempts: int
) -> dict[str, Any]:
    run.flows.created(plan)  # answered: the flow is there
    if isinstance(answer, QueuedJob):
        message = " - ".join(filter(None, [answer.message, answer.reason]))
        return row_result(
            run, plan, "queued", attempts=attempts, http_status=202, message=message,
            job_name=plan.job_name,
        )  # fmt: skip
    return _created(run, plan, answer, attempts, 200, None)


def _created(
    run: LaunchRun, plan: RowPlan, job: Job, attempts: int, status: int | None, note: str | None
) -> dict[str, Any]:
    run.flows.created(plan)
    return row_result(
        run, plan, "created", attempts=attempts, http_status=status,
        job_id=job.job_id, job_name=job.job_name or plan.job_name, job_root=job.job_root,
        status=job.status, message=job.message, error=note,
    )  # fmt: skip


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

"""The fan-out: validated rows -> POSTs -> one outcome per row (ARCHITECTURE §6).

``prepare_launch`` (synchronous, no I/O but the journal read) validates the frame and
classifies rows; ``execute_launch`` (async) sends them with a fixed pool of workers, so
100,000 rows never mean 100,000 tasks.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ._client import AsyncHotglue, Hotglue
from ._config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT,
    Credentials,
    resolve_credentials,
)
from ._exceptions import APIStatusError, ConfigError, HotglueError, LaunchInterrupted
from ._journal import DEFAULT_RUNS_DIR, Journal, JournalState, find_journal, read_journal
from ._models import Job, QueuedJob
from ._pacing import Pacer
from ._plan import Plan, RowPlan, as_frame, plan_rows
from ._reconcile import Reconciler
from ._results import RESULT_COLUMNS, results_frame
from ._retry import backoff_delay, decide

__all__ = ["LaunchSpec", "execute_launch", "prepare_launch"]

RECONCILE_DELAY = 1.0
Event = Callable[[str], None]


@dataclass
class LaunchSpec:
    """Everything decided before the first request."""

    frame: pd.DataFrame
    plan: Plan
    run_id: str
    credentials: Credentials
    client: AsyncHotglue | None
    concurrency: int
    rate_limit: float | None
    max_attempts: int
    timeout: float
    journal_path: Path | None
    dry_run: bool
    flow_id: str | None = None
    reconcile_delay: float = RECONCILE_DELAY
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    check_first: set[int] = field(default_factory=set)
    prior_attempts: dict[int, int] = field(default_factory=dict)
    resumed: JournalState | None = None

    @property
    def total(self) -> int:
        return len(self.frame)

    def done_outcomes(self) -> list[str]:
        """Outcomes known before sending (invalid rows, rows carried over by a resume)."""
        return [str(r["outcome"]) for r in self.results.values()]


def prepare_launch(
    tenants: Any,
    *,
    flow_id: str | None = None,
    env_id: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    client: AsyncHotglue | Hotglue | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate_limit: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout: float = DEFAULT_TIMEOUT,
    journal: str | Path | bool | None = None,
    resume: str | Path | None = None,
    dry_run: bool = False,
    on_invalid: str = "raise",
    reconcile_delay: float = RECONCILE_DELAY,
    body: dict[str, Any],
) -> LaunchSpec:
    """Validate arguments and every row; read the journal when resuming. Sends nothing."""
    _check_limits(concurrency, rate_limit, max_attempts, timeout, on_invalid)
    frame = as_frame(tenants)
    aclient = client.aio if isinstance(client, Hotglue) else client
    creds = _credentials(aclient, api_key, env_id, base_url, dry_run)
    resumed = _resume_state(resume, dry_run)
    run_id = resumed.run_id if resumed else _new_run_id()
    if resumed and flow_id is None:
        flow_id = resumed.run.get("flow_id")  # resume=... alone repeats the run's flow
    plan = plan_rows(
        frame, defaults=body, flow_id=flow_id, env_id=env_id or creds.env_id, run_id=run_id
    )
    if plan.problems and on_invalid == "raise":
        raise ConfigError(
            f"{len(plan.problems)} of {len(frame)} rows have problems; nothing was sent:\n"
            f"{plan.problem_text()}\nFix them, or pass on_invalid='skip' to launch the rest."
        )
    spec = LaunchSpec(
        frame=frame,
        plan=plan,
        run_id=run_id,
        credentials=creds,
        client=aclient,
        concurrency=concurrency,
        rate_limit=rate_limit,
        max_attempts=max_attempts,
        timeout=timeout,
        journal_path=_journal_path(journal, resumed, run_id, dry_run),
        dry_run=dry_run,
        flow_id=flow_id,
        reconcile_delay=reconcile_delay,
        resumed=resumed,
    )
    _record_invalid(spec)
    if resumed:
        _carry_over(spec, resumed)
    return spec


def _check_limits(
    concurrency: int, rate_limit: float | None, max_attempts: int, timeout: float, on_invalid: str
) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency must be a whole number >= 1, got {concurrency!r}.")
    if rate_limit is not None and (not isinstance(rate_limit, (int, float)) or rate_limit <= 0):
        raise ConfigError(f"rate_limit must be requests/second > 0 or None, got {rate_limit!r}.")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ConfigError(f"max_attempts must be a whole number >= 1, got {max_attempts!r}.")
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"timeout must be seconds > 0, got {timeout!r}.")
    if on_invalid not in ("raise", "skip"):
        raise ConfigError(f"on_invalid must be 'raise' or 'skip', got {on_invalid!r}.")


def _credentials(
    client: AsyncHotglue | None,
    api_key: str | None,
    env_id: str | None,
    base_url: str | None,
    dry_run: bool,
) -> Credentials:
    if client is not None:
        return client.credentials
    if dry_run and api_key is None:
        api_key = "dry-run"  # a dry run sends nothing, so it needs no key
    return resolve_credentials(api_key, env_id, base_url)


def _resume_state(resume: str | Path | None, dry_run: bool) -> JournalState | None:
    if resume is None:
        return None
    if dry_run:
        raise ConfigError("dry_run=True cannot be combined with resume=.")
    return read_journal(find_journal(resume))


def _journal_path(
    journal: str | Path | bool | None, resumed: JournalState | None, run_id: str, dry_run: bool
) -> Path | None:
    if dry_run:
        return None
    if resumed is not None:
        return resumed.path
    if journal is True:
        return DEFAULT_RUNS_DIR / f"{run_id}.jsonl"
    if journal in (None, False):
        return None
    return Path(journal)  # type: ignore[arg-type]


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _record_invalid(spec: LaunchSpec) -> None:
    for row, problems in spec.plan.problems.items():
        tenant, flow, env = spec.plan.skipped[row]
        spec.results[row] = base_result(spec.run_id, tenant, flow, env) | {
            "outcome": "skipped",
            "error": "invalid row: " + "; ".join(problems),
        }


def _carry_over(spec: LaunchSpec, state: JournalState) -> None:
    """Keep created/queued rows; check rows that may have been sent before re-sending."""
    by_row = {p.row: p for p in spec.plan.rows}
    for row in set(state.intents) | set(state.outcomes):
        seen = (state.outcomes.get(row) or state.intents[row][-1])["tenant"]
        plan = by_row.get(row)
        if plan is None or plan.tenant != seen:
            now = plan.tenant if plan else "(no valid row)"
            raise ConfigError(
                f"This frame is not the one of run {state.run_id}: row {row} was tenant "
                f"{seen!r} there and is {now!r} here. Resume with the same tenants frame."
            )
        outcome = state.outcomes.get(row, {})
        spec.prior_attempts[row] = len(state.intents.get(row, []))
        if outcome.get("outcome") in ("created", "queued"):
            spec.results[row] = {k: outcome.get(k) for k in RESULT_COLUMNS}
        elif row in state.intents and outcome.get("outcome") in (None, "unknown"):
            spec.check_first.add(row)


def base_result(run_id: str, tenant: str, flow_id: str, env_id: str) -> dict[str, Any]:
    return {"tenant": tenant, "flow_id": flow_id, "env_id": env_id, "run_id": run_id}


# --- execution -----------------------------------------------------------------------------


@dataclass
class _Run:
    spec: LaunchSpec
    clients: dict[str, AsyncHotglue]
    pacer: Pacer
    journal: Journal | None
    on_event: Event | None
    reconciler: Reconciler
    rng: random.Random = field(default_factory=random.Random)
    abort_reason: str | None = None
    sent: dict[int, int] = field(default_factory=dict)

    def emit(self, outcome: str) -> None:
        if self.on_event is not None:
            self.on_event(outcome)


async def execute_launch(spec: LaunchSpec, on_event: Event | None = None) -> pd.DataFrame:
    """Send every pending row; return the results frame (one row per input row)."""
    if spec.dry_run:
        return _dry_run_frame(spec, on_event)
    clients = _clients(spec)
    journal = Journal(spec.journal_path) if spec.journal_path else None
    run = _Run(
        spec=spec,
        clients=clients,
        pacer=Pacer(spec.rate_limit),
        journal=journal,
        on_event=on_event,
        reconciler=Reconciler(delay=spec.reconcile_delay),
    )
    for outcome in spec.done_outcomes():
        run.emit(outcome)
    try:
        await _journal_header(run)
        await _run_workers(run)
    except asyncio.CancelledError:
        raise LaunchInterrupted(_finish_frame(run, "interrupted before sending")) from None
    finally:
        await _close(run)
    frame = _finish_frame(run, "not sent")
    if spec.journal_path is not None:
        frame.attrs["journal"] = str(spec.journal_path)  # lets wait_for_jobs record statuses
    return frame


def _clients(spec: LaunchSpec) -> dict[str, AsyncHotglue]:
    """One fresh client per env for this run, its pool sized to the concurrency (and bound to
    the loop that runs it); a given client lends only its credentials and transport."""
    transport = spec.client._transport if spec.client is not None else None
    creds = spec.credentials
    clients = {
        env: AsyncHotglue(
            creds.api_key,
            env,
            creds.base_url,
            timeout=spec.timeout,
            max_connections=spec.concurrency,
            transport=transport,
        )
        for env in {p.env_id for p in spec.plan.rows}
    }
    return clients


async def _journal_header(run: _Run) -> None:
    if run.journal is None:
        return
    spec = run.spec
    kind = "resume" if spec.resumed else "run"
    await run.journal.durable(
        {
            "kind": kind,
            "run_id": spec.run_id,
            "at": _now_iso(),
            "env_id": spec.credentials.env_id,
            "base_url": spec.credentials.base_url,
            "flow_id": spec.flow_id,
            "rows": spec.total,
            "labels": [str(label) for label in spec.plan.labels],
            "tenants": _row_tenants(spec),
        }
    )


def _row_tenants(spec: LaunchSpec) -> list[str]:
    tenants = {p.row: p.tenant for p in spec.plan.rows}
    tenants.update({row: ids[0] for row, ids in spec.plan.skipped.items()})
    return [tenants.get(row, "") for row in range(spec.total)]


async def _run_workers(run: _Run) -> None:
    pending = iter([p for p in run.spec.plan.rows if p.row not in run.spec.results])
    count = min(run.spec.concurrency, run.spec.total) or 1
    workers = [asyncio.ensure_future(_worker(run, pending)) for _ in range(count)]
    try:
        await asyncio.gather(*workers)
    except asyncio.CancelledError:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise


async def _worker(run: _Run, pending: Iterator[RowPlan]) -> None:
    for plan in pending:
        try:
            result = await _launch_row(run, plan)
        except asyncio.CancelledError:
            await _settle_interrupted(run, plan)
            raise
        except HotglueError as exc:  # the journal failed: stop the run, keep the reason
            run.abort_reason = f"not sent: {exc}"
            result = _result(run, plan, "skipped", error=str(exc))
        _record(run, plan, result)


def _record(run: _Run, plan: RowPlan, result: dict[str, Any]) -> None:
    run.spec.results[plan.row] = result
    if run.journal is not None:
        run.journal.later({"kind": "outcome", "row": plan.row, **result})
    run.emit(str(result["outcome"]))


async def _settle_interrupted(run: _Run, plan: RowPlan) -> None:
    """An interrupted row: reconcile it if a POST may have gone out, else it was not sent."""
    if run.sent.get(plan.row, 0) == 0:
        return
    try:
        found = await asyncio.wait_for(_check(run, plan, delay=0.0), timeout=5.0)
    except (TimeoutError, asyncio.CancelledError, HotglueError):
        found = None
    if found is not None and found[0] == "found":
        result = _created(run, plan, found[1], run.sent[plan.row], None, "found after interrupt")
    else:
        result = _result(
            run, plan, "unknown", error="interrupted while a request was in flight",
            attempts=run.sent[plan.row],
        )  # fmt: skip
    _record(run, plan, result)


async def _launch_row(run: _Run, plan: RowPlan) -> dict[str, Any]:
    attempts = run.spec.prior_attempts.get(plan.row, 0)
    started = time.monotonic()
    launched_at = _now_iso()
    if plan.row in run.spec.check_first:
        state, job, why = await _check(run, plan)
        if state == "found":
            return _created(run, plan, job, attempts, None, "found by resume")
        if state == "unknown":
            return _result(run, plan, "unknown", error=why, attempts=attempts)
    budget = attempts + run.spec.max_attempts
    last: HotglueError | None = None
    while attempts < budget:
        if run.abort_reason:  # earlier POSTs of this row proved no job: nothing exists
            outcome = "rejected" if run.sent.get(plan.row) else "skipped"
            return _result(run, plan, outcome, error=run.abort_reason, attempts=attempts)
        await run.pacer.wait()
        attempts += 1
        await _intent(run, plan, attempts)
        try:
            answer = await run.clients[plan.env_id]._send_job(plan.path, plan.tenant, plan.body)
        except HotglueError as exc:
            last = exc
            step = await _after_error(run, plan, exc, attempts)
            if isinstance(step, dict):
                return step | _timing(launched_at, started)
            continue
        run.pacer.speed_up()
        return _answered(run, plan, answer, attempts) | _timing(launched_at, started)
    return _result(
        run, plan, "rejected", error=f"gave up after {attempts} attempts: {_describe(last)}",
        attempts=attempts, http_status=_status(last),
    ) | _timing(launched_at, started)  # fmt: skip


async def _intent(run: _Run, plan: RowPlan, attempt: int) -> None:
    run.sent[plan.row] = attempt
    if run.journal is None:
        return
    await run.journal.durable(
        {
            "kind": "intent",
            "row": plan.row,
            "label": str(plan.label),
            "tenant": plan.tenant,
            "flow_id": plan.flow_id,
            "env_id": plan.env_id,
            "job_name": plan.job_name,
            "request": plan.body,
            "attempt": attempt,
            "at": _now_iso(),
        }
    )


async def _after_error(
    run: _Run, plan: RowPlan, exc: HotglueError, attempts: int
) -> dict[str, Any] | None:
    """A result when the row is settled, else None to try again."""
    decision = decide(exc)
    status = _status(exc)
    if decision == "abort":
        run.abort_reason = f"not sent: the API refused the key: {_describe(exc)}"
    if decision in ("abort", "reject"):
        return _result(
            run, plan, "rejected", error=_describe(exc), attempts=attempts, http_status=status,
            message=getattr(exc, "api_message", None) or None,
        )  # fmt: skip
    if decision == "reconcile":
        state, job, why = await _check(run, plan)
        if state == "found":
            return _created(run, plan, job, attempts, status, f"found after {_describe(exc)}")
        if state == "unknown":
            error = f"{_describe(exc)}; {why}"
            return _result(run, plan, "unknown", error=error, attempts=attempts, http_status=status)
    retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
    delay = backoff_delay(attempts, retry_after, run.rng)
    if status in (429, 503):
        run.pacer.slow_down(delay)  # the whole run slows down, not only this row
    else:
        await asyncio.sleep(delay)
    return None


async def _check(run: _Run, plan: RowPlan, delay: float | None = None) -> tuple[str, Any, str]:
    client = run.clients[plan.env_id]
    return await run.reconciler.check(client, plan, run.pacer, delay=delay)


def _answered(run: _Run, plan: RowPlan, answer: Job | QueuedJob, attempts: int) -> dict[str, Any]:
    if isinstance(answer, QueuedJob):
        message = " - ".join(filter(None, [answer.message, answer.reason]))
        return _result(
            run, plan, "queued", attempts=attempts, http_status=202, message=message,
            job_name=plan.job_name,
        )  # fmt: skip
    return _created(run, plan, answer, attempts, 200, None)


def _created(
    run: _Run, plan: RowPlan, job: Job, attempts: int, status: int | None, note: str | None
) -> dict[str, Any]:
    return _result(
        run, plan, "created", attempts=attempts, http_status=status,
        job_id=job.job_id, job_name=job.job_name or plan.job_name, job_root=job.job_root,
        status=job.status, message=job.message, error=note,
    )  # fmt: skip


def _result(run: _Run, plan: RowPlan, outcome: str, **fields: Any) -> dict[str, Any]:
    out = base_result(run.spec.run_id, plan.tenant, plan.flow_id, plan.env_id)
    out.update(outcome=outcome, request=plan.request_json, attempts=fields.pop("attempts", 0))
    out.update(fields)
    return out


def _timing(launched_at: str, started: float) -> dict[str, Any]:
    return {"launched_at": launched_at, "elapsed_s": round(time.monotonic() - started, 4)}


def _describe(exc: BaseException | None) -> str:
    return "" if exc is None else f"{type(exc).__name__}: {exc}"


def _status(exc: BaseException | None) -> int | None:
    return exc.status_code if isinstance(exc, APIStatusError) else None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


async def _close(run: _Run) -> None:
    for client in run.clients.values():
        await client.aclose()
    if run.journal is not None:
        await run.journal.aclose()


def _finish_frame(run: _Run, unsent: str) -> pd.DataFrame:
    spec = run.spec
    by_row = {p.row: p for p in spec.plan.rows}
    rows = []
    for row in range(spec.total):
        result = spec.results.get(row)
        if result is None:
            reason = run.abort_reason or unsent
            result = _result(run, by_row[row], "skipped", error=reason)
        rows.append(result)
    return results_frame(rows, spec.frame.index)


def _dry_run_frame(spec: LaunchSpec, on_event: Event | None) -> pd.DataFrame:
    rows = []
    for plan in spec.plan.rows:
        spec.results[plan.row] = base_result(
            spec.run_id, plan.tenant, plan.flow_id, plan.env_id
        ) | {
            "outcome": "skipped",
            "message": f"dry run: would POST {plan.path}",
            "request": plan.request_json,
            "job_name": plan.job_name,
            "attempts": 0,
        }
    for row in range(spec.total):
        rows.append(spec.results[row])
        if on_event is not None:
            on_event("skipped")
    return results_frame(rows, spec.frame.index)

"""wait_for_jobs: from a results frame to the same frame with final statuses.

Each row with a job is one item on the fan-out engine; its operation polls once and asks to
run again when the job is predicted to end (``_eta``: learnt from the run's own jobs and the
stage reached), in hops of at most ``max_poll_interval``; a job that tells nothing to predict
from is polled after a delay growing x1.5 per poll. Rate limit, Retry-After and the 429
back-off apply as for the launch; a refused key stops the run; an interrupt returns every row
with its last status.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from .._client import AsyncHotglue
from .._client._pacing import Pacer
from .._client._retry import backoff_delay, decide, get_is_retryable
from .._exceptions import APIResponseError, APIStatusError, ConfigError, HotglueError
from .._fanout import Event, Step, fan_out
from .._frames import RESULT_COLUMNS, WAIT_COLUMNS, apply_dtypes
from .._journal import Journal, read_journal, wait_journal_path
from .._last_run import interrupted, stopped_by
from .._models import Job, is_failed, is_terminal
from .._options import RunClients, WaitConfig
from .._values import duration_s, text_or_none, to_python
from ._details import export_fields
from ._eta import Eta
from ._plan import row_of_job_name
from ._reconcile import find_job
from ._write import with_counts

__all__ = ["Follow", "WaitRun", "execute_wait", "poll_delay", "prepare_wait"]

GROWTH = 1.5
UNKNOWN_LOOKUPS = 3  # an `unknown` row whose job is not listed by then is given up on
EMPTY_ANSWERS = 3  # empty status answers in a row that end a row (a glitch passes sooner)
LAST_POLL_GRACE = 5.0  # seconds a poll in flight at the wait's deadline may still take


def poll_delay(polls: int, base: float, cap: float) -> float:
    """Seconds before the next poll of a job already polled ``polls`` times."""
    return float(min(base * GROWTH ** max(polls - 1, 0), cap))


@dataclass
class Follow:
    """What is known of one row's job while it is followed."""

    row: int
    tenant: str
    flow_id: str
    env_id: str
    job_root: str | None
    job_name: str | None
    outcome: str = "created"
    sent_name: str | None = None  # the job name sent: it carries the row's number in its run
    tap: str | None = None  # the row's source (V1) or connector (V2): its job list's filter
    connector_id: str | None = None
    status: str | None = None
    job: Job | None = None
    polls: int = 0
    errors: int = 0
    misses: int = 0
    empties: int = 0  # empty status answers in a row
    error: str | None = None
    done: bool = False

    @property
    def finished(self) -> bool:
        return is_terminal(self.status)


@dataclass
class WaitRun:
    config: WaitConfig
    results: pd.DataFrame
    follows: list[Follow]
    clients: RunClients | None
    pacer: Pacer
    journal_path: Path | None
    eta: Eta
    abort_reason: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    deadline: float | None = None  # the wait's end, a clock time
    refused: HotglueError | None = None  # the refused key that stopped the wait


def prepare_wait(results: pd.DataFrame, config: WaitConfig) -> WaitRun:
    """Pick the rows to follow and the clients to follow them with. Sends nothing."""
    if not isinstance(results, pd.DataFrame) or "outcome" not in results:
        raise ConfigError("wait_for_jobs needs the results frame returned by launch_jobs.")
    follows = follows_from(results)
    pacer = Pacer(config.rate_limit, clock=config.clock, sleep=config.sleep)
    clients = None
    if follows:  # nothing to poll: no key needed
        connection = config.connection
        if connection.client is None and connection.env_id is None:
            connection = replace(connection, env_id=follows[0].env_id)
        clients = RunClients(connection, config, pacer)
    run_ids = list(results["run_id"].dropna().unique()) if "run_id" in results else []
    path = wait_journal_path(config.journal, results.attrs.get("journal"), run_ids)
    return WaitRun(config, results, follows, clients, pacer, path, Eta(_epoch_shift(config)))


def _epoch_shift(config: WaitConfig) -> float:
    """Seconds from the wait's clock to epoch time: the default monotonic clock is read
    against the wall clock; an injected clock (tests' fake time) is taken as epoch-based."""
    return time.time() - time.monotonic() if config.clock is time.monotonic else 0.0


async def execute_wait(
    run: WaitRun, on_event: Callable[[Event], None] | None = None
) -> pd.DataFrame:
    """Follow the jobs; return a copy of the results with the wait columns filled.

    Raises LaunchInterrupted (phase "wait") with that copy, as far as known, when cancelled.
    """
    config = run.config
    deadline = None if config.timeout is None else config.clock() + config.timeout
    run.deadline = deadline
    cut_short = True
    try:
        report = await fan_out(
            run.follows, partial(_poll_op, run), concurrency=config.concurrency,
            on_event=on_event, stop=lambda: run.abort_reason is not None, pacer=run.pacer,
            clock=config.clock, sleep=config.sleep, deadline=deadline,
        )  # fmt: skip
        cut_short = report.interrupted
    except asyncio.CancelledError:
        pass
    finally:
        if run.clients is not None:
            await run.clients.aclose()
    out = merge_wait(run.results, run.follows, run.abort_reason)
    await _journal_statuses(run, out)
    if cut_short:
        raise interrupted(out, phase="wait")
    if run.refused is not None:
        raise stopped_by(run.refused, out)
    return out


async def _poll_op(run: WaitRun, item: Follow) -> Step:
    previous = item.status
    assert run.clients is not None
    try:
        job = await _by_deadline(run, _fetch(item, run.clients.get(item.env_id), run.eta))
    except HotglueError as exc:
        return _poll_failed(run, item, exc)
    except TimeoutError:  # the wait is over: the row keeps its last status
        item.done = True
        item.error = f"the wait's timeout ({run.config.timeout:g} s) ended a poll in flight"
        return Step(Event(item.row, item.tenant, item.status, True))
    item.errors, item.error = 0, None
    if job is not None:
        item.job, item.status = job, job.status
        item.job_root = item.job_root or job.job_root
        run.eta.observe(item.job_root or item.job_name or str(item.row), item.tenant, job,
                        run.config.clock())  # fmt: skip
    elif item.outcome == "unknown":
        item.misses += 1
        if item.misses >= UNKNOWN_LOOKUPS:
            item.done = True
            item.error = (
                f"no job named {item.job_name!r} after {item.misses} looks: most likely "
                "never created (rerun with retry_frame(..., which='unknown'))"
            )
            return Step(Event(item.row, item.tenant, item.status, True))
    item.polls += 1
    item.done = item.finished
    event = Event(item.row, item.tenant, item.status, item.done)
    delay = None if item.done else _next_poll(run, item)
    return Step(event if item.status != previous or item.done else None, again=delay)


async def _by_deadline(run: WaitRun, poll: Awaitable[Job | None]) -> Job | None:
    """A poll bounded by the wait's deadline: one made at the deadline still gets
    ``LAST_POLL_GRACE`` seconds for its answer, none gets more (a trickling answer must not
    hold the wait past its timeout)."""
    if run.deadline is None:
        return await poll
    async with asyncio.timeout(max(run.deadline - run.config.clock(), 0.0) + LAST_POLL_GRACE):
        return await poll


def _next_poll(run: WaitRun, item: Follow) -> float:
    """When the job is predicted to end, from what the run has seen; while part of that is
    a guess, never later than the back-off (short jobs must not wait on a longer job's
    length)."""
    base, cap = run.config.poll_interval, run.config.max_poll_interval
    backoff = poll_delay(item.polls, base, cap)
    predicted = None
    if item.job is not None:
        predicted = run.eta.delay(item.tenant, item.job, run.config.clock(), cap)
    if predicted is None:
        return backoff
    delay, seen = predicted
    return delay if seen else min(backoff, delay)


def _poll_failed(run: WaitRun, item: Follow, exc: HotglueError) -> Step:
    item.errors += 1
    item.error = f"{type(exc).__name__}: {exc}"
    if decide(exc) == "abort":
        run.abort_reason = item.error = f"stopped: the API refused the key: {item.error}"
        run.refused = run.refused or exc
    gone = isinstance(exc, APIStatusError) and exc.status_code == 404
    empty = isinstance(exc, APIResponseError) and exc.empty and item.job_root is not None
    item.empties = item.empties + 1 if empty else 0
    if item.empties >= EMPTY_ANSWERS:  # hotglue's widget stops polling on one [C-code]
        item.error = (
            f"hotglue returned no job for this job_root ({item.empties} empty answers in a "
            f"row): the job is not known under {item.job_root!r}; look for it with "
            "job_history(...) or rerun the row"
        )
        gone = True
    if run.abort_reason or gone or not get_is_retryable(exc):
        item.done = True
        return Step(Event(item.row, item.tenant, item.status, True))
    retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
    return Step(again=backoff_delay(item.errors, retry_after, run.rng))


async def _fetch(item: Follow, client: AsyncHotglue, eta: Eta) -> Job | None:
    """The job's current state; a queued (or unknown) row's job is found by its name."""
    if item.job_root:
        return await client.get_job_status(item.flow_id, item.tenant, item.job_root)
    jobs = await client.list_jobs(
        item.flow_id, item.tenant, tap=item.tap, connector_id=item.connector_id)  # fmt: skip
    eta.learn_history(item.tenant, jobs)
    return find_job(jobs, item.job_name or "")


def follows_from(results: pd.DataFrame) -> list[Follow]:
    """Rows worth following: created (by job_root), queued and unknown (by their unique
    job_name; an unknown row found this way turns out to be created)."""
    out = []
    for row, rec in enumerate(results.to_dict("records")):
        outcome = rec.get("outcome")
        root = text_or_none(rec.get("job_root"))
        sent = _sent(rec)
        sent_name = text_or_none(sent.get("job_name"))
        name = text_or_none(rec.get("job_name")) if outcome == "queued" else sent_name
        if outcome == "created" and root or outcome in ("queued", "unknown") and name:
            ids = str(rec["tenant"]), str(rec["flow_id"]), str(rec["env_id"])
            connector = text_or_none(rec.get("connector_id"))
            tap = None if connector else text_or_none(sent.get("tap"))
            out.append(Follow(row, *ids, root, name, str(outcome), sent_name, tap=tap,
                              connector_id=connector))  # fmt: skip
    return out


def _sent(record: dict[Any, Any]) -> dict[str, Any]:
    """The body the row was sent with (its ``request`` column), or {}."""
    text = text_or_none(record.get("request"))
    if not text:
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def wait_fields(item: Follow, abort_reason: str | None = None) -> dict[str, Any]:
    """The columns wait_for_jobs adds (or updates) for one row."""
    job = item.job
    finished = item.finished
    failed = is_failed(item.status)
    out: dict[str, Any] = {
        "finished": finished,
        "succeeded": (not failed) if finished else None,
        "failed_stage": item.status.rsplit("_FAILED", 1)[0] if failed and item.status else None,
        "polls": item.polls,
        "processed_rows": job.records if job else None,  # recordCount's sum [C]
        "last_updated": job.last_updated if job else None,
        "duration_s": duration_s(job.start_time, job.last_updated) if job else None,
        **export_fields(job),
    }
    if job is not None:
        out.update(status=job.status, message=job.message, job_root=item.job_root)
        out.update(job_id=job.job_id, job_name=job.job_name)
        if item.outcome == "unknown":  # the lost answer's job exists after all
            out.update(outcome="created", error="found by wait_for_jobs after a lost answer")
    error = item.error or (abort_reason if not item.done else None)
    if error and not finished:
        out["error"] = error
    elif failed and job is not None and job.error:
        out["error"] = job.error  # the cause; the message is generic on real jobs [C]
    return out


def merge_wait(
    results: pd.DataFrame, follows: list[Follow], abort_reason: str | None = None
) -> pd.DataFrame:
    by_row = {f.row: wait_fields(f, abort_reason) for f in follows}
    records = results.to_dict("records")
    for row, record in enumerate(records):
        record.update(by_row.get(row, {}))
    frame = pd.DataFrame.from_records(records, columns=[*RESULT_COLUMNS, *WAIT_COLUMNS])
    frame.index = results.index
    frame.attrs.update(results.attrs)
    frame = apply_dtypes(frame, {**RESULT_COLUMNS, **WAIT_COLUMNS})
    for name in results.columns:  # columns of the caller's own (a write's batches) stay
        if name not in frame:
            frame[name] = results[name].array
    if {"object", "success"} <= set(frame.columns):  # write_records' batches: fresh counts
        frame = with_counts(frame)
    return frame


async def _journal_statuses(run: WaitRun, out: pd.DataFrame) -> None:
    """Statuses go to the journal under each row's number in its run (read off the job name
    it was sent with), so a filtered or reordered results frame lands on the right rows."""
    if run.journal_path is None or not run.follows:
        return
    try:
        journal = Journal(run.journal_path)
        run_id = read_journal(run.journal_path).run_id
    except HotglueError as exc:  # busy, unreadable: the results are still returned
        out.attrs["journal_error"] = str(exc)
        return
    for follow in run.follows:
        found = row_of_job_name(follow.sent_name)
        if found is None or found[0] != run_id:
            continue  # not a row of this journal's run
        fields = {str(k): _json_value(v) for k, v in out.iloc[follow.row].items()}
        journal.later({"kind": "status", "row": found[1], **fields})
    await journal.aclose()
    if journal.error is not None:
        out.attrs["journal_error"] = str(journal.error)


def _json_value(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return to_python(value)

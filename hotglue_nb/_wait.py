"""Follow launched jobs to their final status (ARCHITECTURE §5, "after wait_for_jobs").

One dispatcher keeps a heap of (next poll time, row); at most ``concurrency`` GETs run at
once. Each job is polled fast at first, then less often (x1.5 per poll, capped), so a
3-minute job costs about nine polls at the defaults. ``clock`` and ``sleep`` are injectable:
tests drive them with the sandbox's fake clock and never really wait.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from ._client import AsyncHotglue
from ._exceptions import APIStatusError, HotglueError
from ._models import Job, is_failed, is_terminal
from ._retry import backoff_delay, get_is_retryable

__all__ = [
    "DEFAULT_MAX_POLL_INTERVAL",
    "DEFAULT_POLL_INTERVAL",
    "Follow",
    "WaitSettings",
    "follow_jobs",
    "poll_delay",
]

DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_MAX_POLL_INTERVAL = 30.0
GROWTH = 1.5
UNKNOWN_LOOKUPS = 3  # an `unknown` row whose job is not listed by then is given up on
Event = Callable[[int, str, str | None], None]  # (row, tenant, status)


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
    status: str | None = None
    job: Job | None = None
    polls: int = 0
    errors: int = 0
    error: str | None = None
    done: bool = False
    outcome: str = "created"
    misses: int = 0

    @property
    def finished(self) -> bool:
        return is_terminal(self.status)


@dataclass
class WaitSettings:
    concurrency: int = 16
    poll_interval: float = DEFAULT_POLL_INTERVAL
    max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL
    timeout: float | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    on_event: Event | None = None
    rng: random.Random = field(default_factory=random.Random)


async def follow_jobs(
    follows: list[Follow], clients: dict[str, AsyncHotglue], settings: WaitSettings
) -> None:
    """Poll every follow until it is terminal, fails for good, or the timeout passes."""
    start = settings.clock()
    deadline = None if settings.timeout is None else start + settings.timeout
    heap = [(start, f.row, f) for f in follows]
    heapq.heapify(heap)
    active: set[asyncio.Task[Follow]] = set()
    while heap or active:
        now = settings.clock()
        while heap and heap[0][0] <= now and len(active) < settings.concurrency:
            _, _, item = heapq.heappop(heap)
            active.add(asyncio.ensure_future(_poll(item, clients[item.env_id], settings)))
        if active:
            done, active = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                _reschedule(task.result(), heap, settings, deadline)
        elif heap:
            due = heap[0][0]
            if deadline is not None and due > deadline:
                break
            await settings.sleep(max(due - settings.clock(), 0.0))


def _reschedule(
    item: Follow,
    heap: list[tuple[float, int, Follow]],
    settings: WaitSettings,
    deadline: float | None,
) -> None:
    if item.done:
        return
    if item.errors:
        delay = backoff_delay(item.errors, None, settings.rng)
    else:
        delay = poll_delay(item.polls, settings.poll_interval, settings.max_poll_interval)
    due = settings.clock() + delay
    if deadline is None or due <= deadline:
        heapq.heappush(heap, (due, item.row, item))


async def _poll(item: Follow, client: AsyncHotglue, settings: WaitSettings) -> Follow:
    previous = item.status
    try:
        job = await _fetch(item, client)
    except HotglueError as exc:
        item.errors += 1
        item.error = f"{type(exc).__name__}: {exc}"
        if not get_is_retryable(exc) or (
            isinstance(exc, APIStatusError) and exc.status_code == 404
        ):
            item.done = True
        return item
    item.errors, item.error = 0, None
    if job is not None:
        item.job, item.status = job, job.status
        item.job_root = item.job_root or job.job_root
    elif item.outcome == "unknown":
        item.misses += 1
        if item.misses >= UNKNOWN_LOOKUPS:
            item.done = True
            item.error = (
                f"no job named {item.job_name!r} after {item.misses} looks: most likely "
                "never created (rerun with retry_frame(..., which='unknown'))"
            )
            return item
    item.polls += 1
    item.done = item.finished
    if settings.on_event is not None and item.status != previous:
        settings.on_event(item.row, item.tenant, item.status)
    return item


async def _fetch(item: Follow, client: AsyncHotglue) -> Job | None:
    """The job's current state; a queued job is first looked for by its unique name."""
    if item.job_root:
        return await client.get_job_status(item.flow_id, item.tenant, item.job_root)
    name = item.job_name or ""
    for job in await client.list_jobs(item.flow_id, item.tenant):
        if job.job_name == name or (job.job_name or "").startswith(name + ":"):
            return job
    return None


def wait_fields(item: Follow | None) -> dict[str, Any]:
    """The columns wait_for_jobs adds (or updates) for one row."""
    if item is None:
        return {}
    job = item.job
    finished = item.finished
    failed = is_failed(item.status)
    out: dict[str, Any] = {
        "finished": finished,
        "succeeded": (not failed) if finished else None,
        "failed_stage": item.status.rsplit("_FAILED", 1)[0] if failed and item.status else None,
        "polls": item.polls,
        "processed_rows": job.processed_rows if job else None,
        "last_updated": job.last_updated if job else None,
        "duration_s": _duration(job),
    }
    if job is not None:
        out.update(status=job.status, message=job.message, job_root=item.job_root)
        out.update(job_id=job.job_id, job_name=job.job_name)
        if item.outcome == "unknown":  # the lost answer's job exists after all
            out.update(outcome="created", error="found by wait_for_jobs after a lost answer")
    if item.error and not finished:
        out["error"] = item.error
    return out


def _duration(job: Job | None) -> float | None:
    if job is None or not job.start_time or not job.last_updated:
        return None
    try:
        start = datetime.fromisoformat(job.start_time)
        end = datetime.fromisoformat(job.last_updated)
    except ValueError:
        return None
    return round((end - start).total_seconds(), 3)


def follows_from(results: pd.DataFrame) -> list[Follow]:
    """Rows worth following: created (by job_root), queued and unknown (by their unique
    job_name; an unknown row found this way turns out to be created)."""
    out = []
    for row, rec in enumerate(results.to_dict("records")):
        outcome = rec.get("outcome")
        root = _text(rec.get("job_root"))
        name = _text(rec.get("job_name")) if outcome == "queued" else _sent_name(rec)
        if outcome == "created" and root or outcome in ("queued", "unknown") and name:
            ids = str(rec["tenant"]), str(rec["flow_id"]), str(rec["env_id"])
            out.append(Follow(row, *ids, root, name, outcome=str(outcome)))
    return out


def _sent_name(record: dict[Any, Any]) -> str | None:
    text = _text(record.get("request"))
    if not text:
        return None
    try:
        name = json.loads(text).get("job_name")
    except (ValueError, AttributeError):
        return None
    return str(name) if name else None


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA or pd.isna(value) else str(value)

"""When will a job end? Learnt from the run's own jobs, so that a poll lands near the end.

A job reports when it entered each stage (``status_timestamp``, epoch ms [C]). Every answer
teaches the run how long each stage takes (the median over its jobs; until a stage has been
seen to end, the documented three-minute example job [C] scaled to the run). A job's speed is
its time in the stages it has finished over the typical time of those stages (before it has
finished one: its tenant's speed in earlier jobs, else 1). Its predicted end is the entry of
its current stage plus the typical rest of the documented lifecycle at its speed.

Server time is read as this machine's time [I: clocks kept in sync], raised as soon as an
answer proves the server ahead (a stage entered "in the future"); a server behind only costs
an early poll.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .._models import Job, is_terminal

__all__ = ["Eta", "stages"]

#: the lifecycle order [C]; DISCOVER only when enabled, ETL skipped by streaming jobs [C]
ORDER = ("JOB_CREATED", "DISCOVER_STARTED", "SYNC_STARTED", "SYNC_SUCCESS", "ETL_STARTED",
         "ETL_SUCCESS", "EXPORT_STARTED")  # fmt: skip
#: seconds per stage of the documented Salesforce read (start -> SYNC 44 s -> ETL 44 s ->
#: EXPORT 23 s -> done 57 s [C]); DISCOVER's share is ours [I]
PRIOR = {"JOB_CREATED": 44.0, "DISCOVER_STARTED": 15.0, "SYNC_STARTED": 44.0, "SYNC_SUCCESS": 0.0,
         "ETL_STARTED": 23.0, "ETL_SUCCESS": 0.0, "EXPORT_STARTED": 57.0}  # fmt: skip
FINE = 0.03  # near its end a job is polled every 3 % of its length (1 s at least)


def stages(job: Job) -> list[tuple[str, float]]:
    """(stage, epoch seconds) the job has reached, in time order. Real jobs stamp only the
    ``*_STARTED`` stages [C], so the start stands in for JOB_CREATED and, once the job is
    over, ``last_updated`` for its final status."""
    raw = job.raw.get("status_timestamp")
    out = []
    if isinstance(raw, dict):
        for name, ms in raw.items():
            if isinstance(ms, int | float) and not isinstance(ms, bool) and math.isfinite(ms):
                out.append((str(name), ms / 1000))
    names = {name for name, _ in out}
    if "JOB_CREATED" not in names and (start := _epoch(job.start_time)) is not None:
        out.append(("JOB_CREATED", start))
    if is_terminal(job.status) and job.status not in names:
        end = _epoch(job.last_updated)
        if end is not None and all(end >= t for _, t in out):
            out.append((str(job.status), end))
    return sorted(out, key=lambda step: step[1])


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


@dataclass
class Eta:
    """What one wait has learnt of how long jobs take; ``shift`` turns the wait's clock into
    the server's (epoch) clock."""

    shift: float
    lengths: dict[str, list[float]] = field(default_factory=dict)  # sorted, per stage
    learnt: set[tuple[str, str]] = field(default_factory=set)  # (job, stage) already counted
    speeds: dict[str, float] = field(default_factory=dict)  # per tenant, of its latest end
    discover: list[int] = field(default_factory=lambda: [0, 0])  # jobs with it, jobs seen

    def observe(self, key: str, tenant: str, job: Job, now: float) -> None:
        """Learn from one answer about job ``key`` received at ``now`` (the wait's clock)."""
        steps = stages(job)
        if not steps:
            return
        self.shift = max(self.shift, steps[-1][1] - now)  # the server is at least there
        for index, ((stage, start), (_, end)) in enumerate(zip(steps, steps[1:], strict=False)):
            if (key, stage) not in self.learnt:  # a length as it would be at speed 1: the
                self.learnt.add((key, stage))  # fast jobs end first, and must not teach
                speed = self._speed(steps[: index + 1], None, self.speeds.get(tenant, 1.0))
                bisect.insort(self.lengths.setdefault(stage, []), (end - start) / speed)
                if stage == "JOB_CREATED":
                    self.discover[0] += steps[1][0] == "DISCOVER_STARTED"
                    self.discover[1] += 1
        if is_terminal(job.status) and len(steps) > 1:
            self.speeds[tenant] = self._speed(steps[:-1], steps[-1][1], 1.0)

    def learn_history(self, tenant: str, jobs: Iterable[Job]) -> None:
        """The tenant's earlier finished jobs (a job list read anyway) give its speed."""
        for job in jobs:
            steps = stages(job)
            if is_terminal(job.status) and len(steps) > 1 and tenant not in self.speeds:
                self.speeds[tenant] = self._speed(steps[:-1], steps[-1][1], 1.0)

    def delay(self, tenant: str, job: Job, now: float, cap: float) -> tuple[float, bool] | None:
        """Seconds until the poll that should see the job end (at most ``cap``), and whether
        the run has seen a stage end (before that, the length is the documented example's);
        None when the job tells nothing to predict from."""
        steps = stages(job)
        if not steps or steps[-1][0] not in ORDER:
            return None
        stage, entered = steps[-1]
        speed = self._speed(steps, None, self.speeds.get(tenant, 1.0))
        server_now = now + self.shift
        after = self._after(stage, job)
        stage_end = entered + self._typical(stage) * speed
        rest = sum(self._typical(s) * weight for s, weight in after) * speed
        end = max(stage_end, server_now) + rest  # a stage running late pushes the rest
        fine = max(1.0, FINE * (end - steps[0][1]))
        seen = bool(self.lengths)  # the guess is scaled to the run once a stage has ended
        if end - server_now >= fine:
            return min(end - server_now, cap), seen
        overdue = server_now - (stage_end + rest)
        return min(max(fine, overdue / 2), cap), seen  # late: back off from the predicted end

    def _speed(self, steps: list[tuple[str, float]], until: float | None, default: float) -> float:
        """Time in the finished stages over their typical time (``until`` ends the last);
        the first stage (JOB_CREATED: waiting for a machine) counts only while alone."""
        bounds = [t for _, t in steps[1:]] + ([until] if until is not None else [])
        done = [(s, end - start) for (s, start), end in zip(steps, bounds, strict=False)]
        if len(done) > 1:  # waiting for a machine says little of the job's size [I]
            done = done[1:]
        typical = sum(self._typical(s) for s, _ in done)
        return sum(d for _, d in done) / typical if done and typical > 0 else default

    def _typical(self, stage: str) -> float:
        seen = self.lengths.get(stage)
        if seen:
            return seen[len(seen) // 2]
        return PRIOR.get(stage, 0.0) * self._scale()

    def _scale(self) -> float:
        """How the run's jobs compare with the documented example, over the stages seen."""
        known = [(s, v[len(v) // 2]) for s, v in self.lengths.items() if s in PRIOR and v]
        prior = sum(PRIOR[s] for s, _ in known)
        return sum(v for _, v in known) / prior if known and prior > 0 else 1.0

    def _after(self, stage: str, job: Job) -> list[tuple[str, float]]:
        """The stages still to come, each with the chance that this job goes through it."""
        rest = list(ORDER[ORDER.index(stage) + 1 :])
        with_discover, seen = self.discover
        out = []
        for s in rest:
            if s.startswith("ETL") and job.raw.get("streaming_job") is True:
                continue
            weight = (with_discover / seen if seen else 0.0) if s == "DISCOVER_STARTED" else 1.0
            out.append((s, weight))
        return out

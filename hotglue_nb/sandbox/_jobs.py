"""Job lifecycle, the one-active-job rule and the queue, all driven by an injectable clock.

A job's whole timeline is fixed when it is created; its status at any moment is read off the
timeline, so a fake clock moves every job forward without background tasks. Stage durations
are at ``time_scale=1`` (a job of about three minutes, like a real Salesforce read [C]); the
default scale makes a job finish in a few seconds. Durations are mixed as in a real fleet:
each tenant has its size (0.6-1.6x, fixed by seed, tenant and flow), each job and each of
its stages a little noise (+-10 %, +-15 %) [I: the spread is ours].
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._history import past_jobs
from ._job import SandboxJob, iso, s3_root
from ._world import World, roll, short_id
from ._write import refusals, write_summary

__all__ = ["DEFAULT_TIME_SCALE", "JobStore", "SandboxJob"]

DEFAULT_TIME_SCALE = 0.02
#: (status reached, seconds spent in it at time_scale=1)
_STAGES = [
    ("JOB_CREATED", 20.0),  # waiting for a Fargate task [I]
    ("DISCOVER_STARTED", 15.0),
    ("SYNC_STARTED", 60.0),
    ("SYNC_SUCCESS", 2.0),
    ("ETL_STARTED", 40.0),
    ("ETL_SUCCESS", 2.0),
    ("EXPORT_STARTED", 50.0),
]
BODY_ECHO = (
    "override_start_date",
    "override_end_date",
    "override_field_map",
    "override_selected_tables",
    "override_source_config",
    "override_target_config",
    "environment_variables",
    "reset_source_state",
    "streaming_job",
    "ignore_parallel_jobs",
    "queue_if_active_job",
)


@dataclass
class _Queued:
    body: dict[str, Any]
    at: float


@dataclass
class JobStore:
    """All jobs of the sandbox, keyed by (flow_id, tenant)."""

    world: World
    clock: Callable[[], float]
    time_scale: float = DEFAULT_TIME_SCALE
    seed: int = 0
    history_days: int = 0  # a seeded past (see _history), made lazily per tenant and flow
    jobs: dict[tuple[str, str], list[SandboxJob]] = field(default_factory=dict)
    queued: dict[tuple[str, str], list[_Queued]] = field(default_factory=dict)
    _ids: set[str] = field(default_factory=set)
    _rng: random.Random = field(default_factory=random.Random)
    _seeded: set[tuple[str, str]] = field(default_factory=set)
    origin: float = 0.0

    def __post_init__(self) -> None:
        self._rng = random.Random(f"jobs:{self.seed}")
        self.origin = self.clock()

    def now(self) -> float:
        return self.clock()

    def list(self, flow_id: str, tenant: str) -> list[SandboxJob]:
        self._seed_history(flow_id, tenant)
        self.promote(flow_id, tenant)
        return self.jobs.get((flow_id, tenant), [])

    def _seed_history(self, flow_id: str, tenant: str) -> None:
        if (flow_id, tenant) in self._seeded:
            return
        self._seeded.add((flow_id, tenant))
        past = past_jobs(self, flow_id, tenant)
        if past:
            self.jobs[(flow_id, tenant)] = past + self.jobs.get((flow_id, tenant), [])

    def count(self) -> int:
        return sum(len(v) for v in self.jobs.values())

    def busy_until(self, flow_id: str, tenant: str) -> float:
        return max((job.end for job in self.jobs.get((flow_id, tenant), [])), default=0.0)

    def is_busy(self, flow_id: str, tenant: str) -> bool:
        self.promote(flow_id, tenant)
        return self.busy_until(flow_id, tenant) > self.now() or bool(
            self.queued.get((flow_id, tenant))
        )

    def enqueue(self, flow_id: str, tenant: str, body: dict[str, Any]) -> None:
        self.queued.setdefault((flow_id, tenant), []).append(_Queued(body, self.now()))

    def promote(self, flow_id: str, tenant: str) -> None:
        """Start queued jobs whose turn has come (each when the one before it ended)."""
        waiting = self.queued.get((flow_id, tenant))
        while waiting:
            start = max(waiting[0].at, self.busy_until(flow_id, tenant))
            if start > self.now():
                return
            self.create(flow_id, tenant, waiting.pop(0).body, at=start)

    def create(
        self, flow_id: str, tenant: str, body: dict[str, Any], *, at: float | None = None
    ) -> SandboxJob:
        start = self.now() if at is None else at
        job_id = self._new_job_id()
        connector = body.get("connector_id")
        if connector is not None:  # a two-way (V2) job
            source = self._connector(flow_id, tenant, connector)
        else:
            source = self._source(flow_id, tenant, body.get("tap"))
        tap = source.get("tap") or str(connector)
        kind = str(body["job_type"]) if connector is not None else None
        fields = {
            "job_id": job_id,
            "env_id": self.world.env_id,
            "flow_id": flow_id,
            "job_name": self._job_name(body, flow_id, tap, start),
            "tenant": tenant,
            "started_by": tenant,
            "s3_root": s3_root(tenant, flow_id, start, job_id, kind),
            "start_time": iso(start),
            "state": body.get("state") or {},
            "tap": tap,
            "target": "bigquery",
            "scheduled_job": False,
            "sync_type": "full_sync" if body.get("reset_source_state") else "incremental_sync",
            "task_type": "STANDARD",
            **{key: body.get(key) for key in BODY_ECHO},
        }
        if kind is not None:  # real V2 jobs carry a tap and a target too, job_type lower [C]
            tap, target = (connector, "api-target") if kind == "read" else ("api", connector)
            fields.update(connector_id=connector, job_type=kind.lower(), tap=tap, target=target)
            fields["override_connector_config"] = body.get("override_connector_config")
        job = self._plan(fields, source, body, start)
        self.jobs.setdefault((flow_id, tenant), []).append(job)
        return job

    def _plan(
        self, fields: dict[str, Any], source: dict[str, Any], body: dict[str, Any], start: float
    ) -> SandboxJob:
        failure = self.world.failure(fields["tenant"], fields["flow_id"])
        discover = source.get("discover_on_job") or (failure or {}).get("stage") == "DISCOVER"
        stages = [
            (status, secs)
            for status, secs in _STAGES
            if not (status == "DISCOVER_STARTED" and not discover)
            and not (status.startswith("ETL") and body.get("streaming_job"))
        ]
        timeline, t = [], start
        scale = self.time_scale * self._size(fields)
        noise = random.Random(f"{self.seed}:{fields['job_id']}:{start}")
        scale *= noise.uniform(0.9, 1.1)
        for status, secs in stages:
            timeline.append((status, t))
            t += secs * scale * noise.uniform(0.85, 1.15)
            if failure and status == f"{failure['stage']}_STARTED":
                timeline.append((f"{failure['stage']}_FAILED", t))
                return SandboxJob(fields, timeline, {}, failure["message"])
        if fields.get("job_type") == "write":
            counts, summary = write_summary(body.get("state"), source.get("reject_every", 0))
            refused = refusals(summary)
            timeline.append(("EXPORT_FAILED" if refused else "JOB_COMPLETED", t))
            return SandboxJob(fields, timeline, counts, refused or _done(fields), summary)
        timeline.append(("JOB_COMPLETED", t))
        records = self._records(fields["job_id"], source, body)
        message = (
            f"Export for Job {fields['job_id']} for tenant {fields['tenant']} "
            "successfully completed."
        )
        return SandboxJob(fields, timeline, records, message)

    def _size(self, fields: dict[str, Any]) -> float:
        """How long this tenant's jobs take, relative to the three-minute job."""
        return 0.6 + roll(self.seed, fields["tenant"], fields["flow_id"], "size")

    def _records(self, job_id: str, source: dict[str, Any], body: dict[str, Any]) -> dict[str, int]:
        field_map = body.get("override_field_map") or source.get("fieldMap") or {}
        out = {}
        for stream in field_map:
            digest = hashlib.blake2b(f"{job_id}:{stream}".encode(), digest_size=4).digest()
            out[stream] = int.from_bytes(digest, "big") % 5000
        return out

    def _connector(self, flow_id: str, tenant: str, connector_id: str) -> dict[str, Any]:
        for connector in self.world.connectors(tenant, flow_id) or []:
            if connector["connector_id"] == connector_id:
                return connector
        return {"connector_id": connector_id, "fieldMap": {}}

    def _source(self, flow_id: str, tenant: str, tap: str | None) -> dict[str, Any]:
        sources = self.world.linked(tenant, flow_id) or []
        for source in sources:
            if tap is None or source["tap"] == tap:
                return source
        return {"tap": tap or "api", "fieldMap": {}}

    def _job_name(self, body: dict[str, Any], flow_id: str, tap: str, start: float) -> str:
        given = body.get("job_name") or (body.get("job") or {}).get("job_name")
        if given:
            return f"{given}:{short_id(self._rng, 9)}"  # suffix seen on API-started jobs [C]
        stamp = datetime.fromtimestamp(start, UTC).strftime("%Y%m%d-%H%M%S")
        return f"{flow_id}-{tap}-{stamp}"

    def _new_job_id(self) -> str:
        return self.new_job_id()

    def new_job_id(self, key: tuple[Any, ...] | None = None) -> str:
        """A fresh 6-character job id; from ``key`` when given (a seeded past job)."""
        rng = self._rng if key is None else random.Random("|".join(map(str, key)))
        while True:
            job_id = short_id(rng, 6)
            if job_id not in self._ids:
                self._ids.add(job_id)
                return job_id


def _done(fields: dict[str, Any]) -> str:
    return (
        f"Export for Job {fields['job_id']} for tenant {fields['tenant']} successfully completed."
    )

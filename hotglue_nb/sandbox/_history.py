"""A seeded past for the demo world: about one scheduled job a day per tenant and linked flow.

Each tenant has a *profile* in the world data (``tenants[t]["history"][flow]``), so a fleet
view has known answers: a failure streak that started on a known day, flaky tenants, dormant
ones, a records drop, slow jobs, a disconnected source. Jobs are made lazily, the first time a
tenant's jobs are read, deterministically from the seed and the store's ``origin`` (the
injectable clock's time when the sandbox was made). Durations are real ones (~3 minutes).
"""

from __future__ import annotations

from typing import Any, Protocol

from ._job import SandboxJob, iso, s3_root
from ._world import World, roll

__all__ = ["DAY", "PROFILES", "PastStore", "past_jobs", "profile_of"]

DAY = 86_400.0
DORMANT_AGO = 45  # days before the origin of a dormant tenant's last job
PROFILES = ("ok", "failing", "fixed", "flaky", "dormant", "records_drop", "slow", "disconnected")
_MESSAGES = {
    "fixed": ("SYNC", "Sync failed: the source API rate limit was exceeded (429) for job {job}"),
    "flaky": ("SYNC", "Sync failed: the source API answered 503 at 2024-05-0{d}T03:00:00Z"),
    "disconnected": ("SYNC", "Sync failed: invalid_grant - the refresh token has expired"),
}
_STAGE_SHARE = [  # (status, share of the job's duration spent in it)
    ("JOB_CREATED", 0.11), ("SYNC_STARTED", 0.36), ("SYNC_SUCCESS", 0.01),
    ("ETL_STARTED", 0.24), ("ETL_SUCCESS", 0.01), ("EXPORT_STARTED", 0.27),
]  # fmt: skip


class PastStore(Protocol):
    """What a seeded past needs of the job store: its world, span, origin and seed, and
    fresh job ids."""

    world: World
    history_days: int
    origin: float
    seed: int

    def new_job_id(self, key: tuple[Any, ...] | None = None) -> str: ...


def profile_of(world_tenant: dict[str, Any], flow_id: str) -> dict[str, Any]:
    return dict(world_tenant.get("history", {}).get(flow_id) or {"profile": "ok"})


def past_jobs(store: PastStore, flow_id: str, tenant: str) -> list[SandboxJob]:
    """The tenant's scheduled jobs of the last ``store.history_days`` days, oldest first."""
    info = store.world.tenants.get(tenant)
    sources = store.world.linked(tenant, flow_id)
    if not store.history_days or info is None or not sources:
        return []
    profile = profile_of(info, flow_id)
    days = range(store.history_days)
    if profile["profile"] == "dormant":
        days = range(store.history_days - DORMANT_AGO - 15, store.history_days - DORMANT_AGO)
    return [_job(store, flow_id, tenant, sources[0], profile, day) for day in days]


def _job(
    store: PastStore,
    flow_id: str,
    tenant: str,
    source: dict[str, Any],
    profile: dict[str, Any],
    day: int,
) -> SandboxJob:
    key = (store.seed, tenant, flow_id, day)
    start = store.origin - (store.history_days - day) * DAY + 3600 * (1 + 2 * roll(*key, "at"))
    job_id = store.new_job_id(key)
    stamp = iso(start)[:19].replace("-", "").replace(":", "").replace("T", "-")
    fields = {
        "job_id": job_id, "env_id": store.world.env_id, "flow_id": flow_id,
        "job_name": f"{flow_id}-{source['tap']}-{stamp}", "tenant": tenant,
        "started_by": tenant, "s3_root": s3_root(tenant, flow_id, start, job_id),
        "start_time": iso(start), "state": {}, "tap": source["tap"], "target": "bigquery",
        "scheduled_job": True, "sync_type": "incremental_sync", "task_type": "STANDARD",
    }  # fmt: skip
    failure = _failure(store, profile, day, key)
    duration = 180.0 * (0.8 + 0.4 * roll(*key, "duration"))
    if profile["profile"] == "slow" and day >= profile["day"]:
        duration *= 4
    timeline, t = [], start
    stages = _STAGE_SHARE[:1] + [("DISCOVER_STARTED", 0.08)] + _STAGE_SHARE[1:]
    for status, share in stages if failure and failure[0] == "DISCOVER" else _STAGE_SHARE:
        timeline.append((status, t))
        t += duration * share
        if failure and status == f"{failure[0]}_STARTED":
            timeline.append((f"{failure[0]}_FAILED", t))
            return SandboxJob(fields, timeline, {}, failure[1].format(job=job_id, d=day % 9))
    timeline.append(("JOB_COMPLETED", t))
    records = _records(source, tenant, profile, day, key)
    message = f"Export for Job {job_id} for tenant {tenant} successfully completed."
    return SandboxJob(fields, timeline, records, message)


def _failure(
    store: PastStore, profile: dict[str, Any], day: int, key: tuple[Any, ...]
) -> tuple[str, str] | None:
    kind = profile["profile"]
    if kind in ("failing", "fixed", "disconnected") and day >= profile["day"]:
        if kind == "failing":
            return profile["stage"], profile["message"]
        return _MESSAGES[kind]
    if kind == "flaky" and roll(*key, "flaky") < 0.4:
        return _MESSAGES["flaky"]
    return None


def _records(
    source: dict[str, Any], tenant: str, profile: dict[str, Any], day: int, key: tuple[Any, ...]
) -> dict[str, int]:
    drop = profile["profile"] == "records_drop" and day >= profile["day"]
    out = {}
    for stream in source.get("fieldMap") or {}:
        base = 200 + int(roll(tenant, stream, "base") * 4800)
        count = base * (0.9 + 0.2 * roll(*key, stream))
        out[stream] = int(count * (0.1 if drop else 1.0))
    return out

"""Did a POST whose answer was lost create a job? Pure: judged from a job list, by the unique
``job_name`` the launch gave the row (the server appends ``:<id>`` to it [I])."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .._models import Job

__all__ = ["State", "find_job", "verdict"]

State = Literal["found", "absent", "unknown"]


def find_job(jobs: Iterable[Job], name: str) -> Job | None:
    """The job launched under ``name`` (stored as ``name`` or ``name:<suffix>``)."""
    prefix = name + ":"
    for job in jobs:
        if job.job_name == name or (job.job_name or "").startswith(prefix):
            return job
    return None


def verdict(jobs: list[Job], name: str, *, queue_flag: bool) -> tuple[State, Job | None, str]:
    """("found", job, ""), ("absent", None, "") or ("unknown", None, why)."""
    job = find_job(jobs, name)
    if job is not None:
        return "found", job, ""
    if queue_flag and any(not j.is_terminal for j in jobs):
        why = "the job may be queued behind a running one (queued jobs are not listed)"
        return "unknown", None, why
    return "absent", None, ""

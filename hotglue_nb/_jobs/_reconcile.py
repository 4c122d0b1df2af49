"""Did a POST whose answer was lost create a job? Pure: judged from a job list, by the unique
``job_name`` the launch gave the row (the server appends ``:<id>`` to it [I])."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .._endpoints import LIST_CAP
from .._models import Job

__all__ = ["RECONCILE_COUNT", "State", "find_job", "verdict"]

#: how many jobs a reconcile asks for (``count=`` [I: harmless if ignored])
RECONCILE_COUNT = 100

State = Literal["found", "absent", "unknown"]


def find_job(jobs: Iterable[Job], name: str) -> Job | None:
    """The job launched under ``name`` (stored as ``name`` or ``name:<suffix>``)."""
    prefix = name + ":"
    for job in jobs:
        if job.job_name == name or (job.job_name or "").startswith(prefix):
            return job
    return None


def verdict(
    jobs: list[Job], name: str, *, queue_flag: bool, asked: int | None = None
) -> tuple[State, Job | None, str]:
    """("found", job, ""), ("absent", None, "") or ("unknown", None, why).

    The job list may be capped (hotglue's widget shows "the last 5 jobs" [I]), so a list
    proves absence only when it is whole: shorter than 5, or longer than 5 and shorter than
    the ``asked`` count (the server then neither caps at 5 nor stopped at the count [I]).
    """
    job = find_job(jobs, name)
    if job is not None:
        return "found", job, ""
    if not _whole(len(jobs), asked):
        why = (f"its job list came back with {len(jobs)} jobs and may be cut short, so it "
               "cannot prove the job absent")  # fmt: skip
        return "unknown", None, why
    if queue_flag and any(not j.is_terminal for j in jobs):
        why = "the job may be queued behind a running one (queued jobs are not listed)"
        return "unknown", None, why
    return "absent", None, ""


def _whole(length: int, asked: int | None) -> bool:
    if length < LIST_CAP:
        return True
    return length > LIST_CAP and asked is not None and length < asked

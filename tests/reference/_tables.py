"""The frames of the fleet reads: one row per job (history), per tenant (latest), and the
tenants whose read failed (``attrs["errors"]``)."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from hotglue_nb._endpoints import LIST_CAP
from hotglue_nb._exceptions import HotglueWarning
from hotglue_nb._fleet._reads import Read
from hotglue_nb._models import Job, is_failed, is_terminal
from hotglue_nb._values import duration_s

from ._frames import frame_of, job_times, sort_jobs

CUT_SHORT = "cut_short"  # frame.attrs key of the note

__all__ = [
    "warn_cut_short",
    "errors_frame",
    "history_frame",
    "job_rows",
    "latest_frame",
    "list_limit",
]


def job_rows(job: Job, read: Read, env_id: str) -> dict[str, Any]:
    """One job as a history row."""
    raw, status = job.raw, job.status
    failed = is_failed(status)
    finished = is_terminal(status)
    metrics = raw.get("metrics")
    counts = metrics.get("recordCount") if isinstance(metrics, dict) else None
    records = counts if isinstance(counts, dict) else None
    return {
        "tenant": read.tenant, "flow_id": job.flow_id or read.flow_id,
        "env_id": job.env_id or env_id, "job_id": job.job_id, "job_name": job.job_name,
        "job_root": job.job_root, "status": status,
        "succeeded": (not failed) if finished else None,
        "failed_stage": status.rsplit("_FAILED", 1)[0] if failed and status else None,
        "start_time": job.start_time, "last_updated": job.last_updated,
        "duration_s": duration_s(job.start_time, job.last_updated) if finished else None,
        "processed_rows": job.processed_rows if job.processed_rows is not None else job.records,
        "records": records or None,
        "message": job.message, "error": job.error,
        "scheduled_job": job.scheduled_job, "sync_type": raw.get("sync_type"), "tap": job.tap,
        "connector_id": job.connector_id or read.connector_id, "job_type": job.job_type,
    }  # fmt: skip


def history_frame(
    reads: list[Read], env_id: str, since: pd.Timestamp | None, until: pd.Timestamp | None,
    count: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Every job read, within [since, until), sorted by tenant then start time, each row
    saying whether its tenant's list was whole (``history_complete``, see ``list_limit``)."""
    limit = list_limit(reads, count)
    rows = []
    for read in reads:
        jobs = read.data or []
        whole = _whole(jobs, limit, since)
        rows += [{**job_rows(job, read, env_id), "history_complete": whole} for job in jobs]
    frame = frame_of(rows)
    starts = job_times(frame)
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= starts >= since
    if until is not None:
        keep &= starts < until
    frame = frame[keep]
    frame = sort_jobs(frame).reset_index(drop=True)
    frame.attrs["errors"] = errors_frame(reads)
    frame.attrs["list_limit"] = limit
    _warn_cut(reads, frame, limit)
    return frame


def list_limit(reads: list[Read], count: int | None) -> int:
    """How long a job list that may have been cut short is [I]: hotglue's widget shows the
    list as "the last 5 jobs", so 5 while no list is longer; ``count`` when lists longer than
    5 show it was honoured; else the longest list read (the cap, if there is one, is at
    least that)."""
    longest = max((len(read.data or []) for read in reads if not read.error), default=0)
    if longest <= LIST_CAP:
        return LIST_CAP
    return count if count is not None and count >= longest else longest


def _whole(jobs: list[Job], limit: int, since: pd.Timestamp | None) -> bool:
    """A list shorter than the limit is whole; so is one reaching back before ``since`` (the
    list holds a tenant's latest jobs [I])."""
    if len(jobs) < limit:
        return True
    if since is None:
        return False
    # format= as fixed in the package: without it, mixed texts warned and were guessed at
    starts = pd.to_datetime(pd.Series([job.start_time for job in jobs], dtype=object),
                            utc=True, errors="coerce", format="ISO8601")  # fmt: skip
    return bool((starts < since).any())


def _warn_cut(reads: list[Read], frame: pd.DataFrame, limit: int) -> None:
    """Note cut-short lists on the frame: it is built on the loop's thread, so the warning
    is given by ``warn_cut_short`` on the caller's, pointing at the user's own line."""
    cut = frame.loc[~frame["history_complete"].fillna(True).astype(bool), "tenant"].nunique()
    if cut:
        frame.attrs[CUT_SHORT] = (
            f"job_history: the job lists of {cut} of {len(reads)} tenants came back with "
            f"{limit} jobs, so they may be cut short by the API (its list looks capped [I]); "
            "their rows have history_complete=False and streaks, failing_since and dormancy "
            "built on them are lower bounds. Ask for more with count=, or keep outcomes as "
            "they happen."
        )


def warn_cut_short(frame: pd.DataFrame, stacklevel: int) -> None:
    """The cut-short warning noted on ``frame`` (taken off it), from the caller's thread."""
    message = frame.attrs.pop(CUT_SHORT, None)
    if message:
        warnings.warn(str(message), HotglueWarning, stacklevel=stacklevel + 1)


def latest_frame(reads: list[Read], env_id: str) -> pd.DataFrame:
    """Each tenant's last job; a tenant without one keeps its row."""
    rows = []
    for read in reads:
        job = read.data
        blank = {"tenant": read.tenant, "flow_id": read.flow_id, "env_id": env_id,
                 "connector_id": read.connector_id}  # fmt: skip
        rows.append(job_rows(job, read, env_id) if job is not None else blank)
    frame = frame_of(rows)
    frame.attrs["errors"] = errors_frame(reads)
    return frame


def errors_frame(reads: list[Read]) -> list[dict[str, Any]]:
    """The tenants whose read failed, with the status and error: plain dicts, so that pandas
    (which compares ``attrs`` with ``==`` in concat, merge and filters) can compare them;
    ``hg.read_errors(frame)`` gives them as a typed frame."""
    return [{"tenant": r.tenant, "flow_id": r.flow_id, "http_status": r.status, "error": r.error}
            for r in reads if r.error]  # fmt: skip

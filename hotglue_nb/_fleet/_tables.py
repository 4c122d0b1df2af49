"""The frames of the fleet reads: one row per job (history), per tenant (latest), and the
tenants whose read failed (``attrs["errors"]``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._frames import ERROR_COLUMNS, frame_of
from .._models import Job, is_failed, is_terminal
from .._values import duration_s
from ._reads import Read

__all__ = ["errors_frame", "history_frame", "job_rows", "latest_frame"]


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
        "processed_rows": job.processed_rows, "records": records or None,
        "message": job.message, "error": raw.get("error"),
        "scheduled_job": job.scheduled_job, "sync_type": raw.get("sync_type"), "tap": job.tap,
        "connector_id": job.connector_id, "job_type": job.job_type,
    }  # fmt: skip


def history_frame(
    reads: list[Read], env_id: str, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> pd.DataFrame:
    """Every job read, within [since, until), sorted by tenant then start time."""
    rows = [job_rows(job, read, env_id) for read in reads for job in read.data or []]
    frame = frame_of(rows)
    starts = frame["start_time"]
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= starts >= since
    if until is not None:
        keep &= starts < until
    frame = frame[keep.fillna(False)].sort_values(["tenant", "start_time"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["errors"] = errors_frame(reads)
    return frame


def latest_frame(reads: list[Read], env_id: str) -> pd.DataFrame:
    """Each tenant's last job; a tenant without one keeps its row."""
    rows = []
    for read in reads:
        job = read.data
        blank = {"tenant": read.tenant, "flow_id": read.flow_id, "env_id": env_id}
        rows.append(job_rows(job, read, env_id) if job is not None else blank)
    frame = frame_of(rows)
    frame.attrs["errors"] = errors_frame(reads)
    return frame


def errors_frame(reads: list[Read]) -> pd.DataFrame:
    """The tenants whose read failed, with the status and error."""
    rows = [{"tenant": r.tenant, "flow_id": r.flow_id, "http_status": r.status, "error": r.error}
            for r in reads if r.error]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(ERROR_COLUMNS))
    return frame.astype(ERROR_COLUMNS)

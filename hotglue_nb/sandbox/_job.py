"""One sandbox job: its fixed facts and timeline, and how the API shows it at a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["SandboxJob", "iso", "s3_root"]

_STAGE_MESSAGES = {
    "JOB_CREATED": "Job created and queued to run",
    "DISCOVER_STARTED": "Discovering the catalog",
    "SYNC_STARTED": "Syncing data from the source",
    "SYNC_SUCCESS": "Sync finished",
    "ETL_STARTED": "Running the transformation script",
    "ETL_SUCCESS": "Transformation finished",
    "EXPORT_STARTED": "Exporting to the target",
}


@dataclass
class SandboxJob:
    """One job: fixed facts plus a timeline of (status, absolute time)."""

    fields: dict[str, Any]
    timeline: list[tuple[str, float]]
    records: dict[str, int]
    final_message: str
    written: dict[str, Any] | None = None  # a write job's exportSummary / exportDetails

    @property
    def end(self) -> float:
        return self.timeline[-1][1]

    @property
    def job_root(self) -> str:
        return str(self.fields["s3_root"])

    def view(self, now: float) -> dict[str, Any]:
        """The job as the API shows it at ``now``, shaped like real job files [C]: only the
        ``*_STARTED`` stages reached in ``status_timestamp``, a failure's cause in an
        ``error`` object under a generic ``message``, no ``processed_rows``."""
        reached = [(status, t) for status, t in self.timeline if t <= now] or self.timeline[:1]
        status, since = reached[-1]
        done = status == "JOB_COMPLETED" or status.endswith("_FAILED")
        synced = any(s == "SYNC_SUCCESS" for s, _ in reached)
        failed = status.endswith("_FAILED")
        return {
            **self.fields,
            "status": status,
            "last_updated": iso(since),
            "status_timestamp": {s: int(t * 1000) for s, t in reached if s.endswith("_STARTED")},
            "message": self._final(status) if done else _STAGE_MESSAGES.get(status, status),
            "error": {"message": self.final_message} if failed else None,
            "metrics": {
                "recordCount": dict(self.records) if synced else {},
                **((self.written or {}) if done and self.written else {}),
            },  # fmt: skip
        }

    def _final(self, status: str) -> str:
        """hotglue's own wording [C]: generic, naming the job, tenant and target."""
        job, tenant = self.fields["job_id"], self.fields["tenant"]
        target = self.fields.get("target")
        if status == "JOB_COMPLETED":
            return f"Export for Job {job} for tenant {tenant} successfully completed."
        if status == "EXPORT_FAILED" and self.written:
            return (f"Export for Job {job} for tenant {tenant} and target {target} failed "
                    "because at least one export record failed.")  # fmt: skip
        stage = status.removesuffix("_FAILED").capitalize()
        return f"{stage} for Job {job} for tenant {tenant} failed."  # [I]: ours


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def s3_root(tenant: str, flow_id: str, t: float, job_id: str, kind: str | None = None) -> str:
    """``{tenant}/flows/{flow}/jobs[/{read|write}]/{YYYY}/{MM}/{W}/{DD}/{HH}/{job_id}`` (W:
    week of month, Monday-started weeks; the pattern is inferred from four real examples
    [I]; a V2 job's type after ``jobs`` follows a documented read job's root [C])."""
    moment = datetime.fromtimestamp(t, UTC)
    first_weekday = moment.replace(day=1).weekday()
    week = (moment.day + first_weekday - 1) // 7 + 1
    jobs = "jobs" if kind is None else f"jobs/{kind.lower()}"
    return (
        f"{tenant}/flows/{flow_id}/{jobs}/{moment:%Y}/{moment:%m}/{week}/"
        f"{moment:%d}/{moment:%H}/{job_id}"
    )

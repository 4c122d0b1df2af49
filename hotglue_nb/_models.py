"""Jobs, queued jobs and lifecycle statuses.

Shapes follow the documented job object (see ``spec/`` in the repository); tolerances for
undocumented variants are marked [I]. Request bodies are described in ``_endpoints``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._values import utc_iso

__all__ = [
    "FAILED_STATUSES",
    "JOB_COMPLETED",
    "JOB_CREATED",
    "LIFECYCLE",
    "Job",
    "QueuedJob",
    "error_text",
    "is_failed",
    "is_terminal",
]

JOB_CREATED = "JOB_CREATED"
JOB_COMPLETED = "JOB_COMPLETED"
#: The documented order of statuses of a successful job (DISCOVER only when enabled).
LIFECYCLE = (
    "JOB_CREATED",
    "DISCOVER_STARTED",
    "SYNC_STARTED",
    "SYNC_SUCCESS",
    "ETL_STARTED",
    "ETL_SUCCESS",
    "EXPORT_STARTED",
    "JOB_COMPLETED",
)
FAILED_STATUSES = ("DISCOVER_FAILED", "SYNC_FAILED", "ETL_FAILED", "EXPORT_FAILED")


def is_terminal(status: str | None) -> bool:
    """hotglue's own rule: a job is over when its status contains COMPLETE or FAILED.

    Parameters
    ----------
    status : str or None
        A job's ``status`` (any text: values outside the documented enum too).

    Returns
    -------
    bool
        True when the job has ended; False for None or an empty status.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> hg.is_terminal("JOB_COMPLETED"), hg.is_terminal("SYNC_FAILED"), hg.is_terminal(None)
    (True, True, False)
    """
    return bool(status) and ("COMPLETE" in str(status) or "FAILED" in str(status))


def is_failed(status: str | None) -> bool:
    """True for any ``*FAILED*`` status, including values outside the documented enum [I].

    Parameters
    ----------
    status : str or None
        A job's ``status``.

    Returns
    -------
    bool
        True when the status says FAILED (``hg.FAILED_STATUSES`` and any other).

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> hg.is_failed("EXPORT_FAILED"), hg.is_failed("JOB_COMPLETED"), hg.is_failed(None)
    (True, False, False)
    """
    return bool(status) and "FAILED" in str(status)


@dataclass(frozen=True)
class Job:
    """A job as the API describes it. ``raw`` keeps the whole answer, unknown fields included."""

    job_id: str | None = None
    env_id: str | None = None
    flow_id: str | None = None
    job_name: str | None = None
    tenant: str | None = None
    started_by: str | None = None
    s3_root: str | None = None
    start_time: str | None = None
    state: dict[str, Any] | None = None
    tap: str | None = None
    status: str | None = None
    scheduled_job: bool | None = None
    message: str | None = None
    last_updated: str | None = None
    processed_rows: int | None = None  # in the docs' examples; real jobs have none [C]
    connector_id: str | None = None  # two-way (V2) jobs
    job_type: str | None = None  # V2: "read" / "write" (real jobs [C]; the docs say READ)
    target: str | None = None  # V1 and V2 jobs alike [C]
    error: str | None = None  # the cause, as text: real jobs carry {"message": ...} [C]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def records(self) -> int | None:
        """Records moved: the sum of ``metrics.recordCount`` [C], else ``processed_rows``."""
        metrics = self.raw.get("metrics")
        counts = metrics.get("recordCount") if isinstance(metrics, dict) else None
        if isinstance(counts, dict) and counts:
            values = [v for v in counts.values() if isinstance(v, int) and not isinstance(v, bool)]
            return sum(values) if values else None
        return self.processed_rows

    @property
    def job_root(self) -> str | None:
        """The job's ``s3_root``: the only guaranteed-unique job key, used to poll it."""
        return self.s3_root

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    @property
    def is_failed(self) -> bool:
        return is_failed(self.status)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Job:
        """Build from an API answer; tolerant of ``flow`` vs ``flow_id`` and missing fields."""
        values = {name: data.get(name) for name in _JOB_FIELDS}
        if values["flow_id"] is None:
            values["flow_id"] = data.get("flow")
        for key in ("job_id", "env_id", "flow_id", "tenant", "started_by", "s3_root",
                    "connector_id"):  # fmt: skip
            if values[key] is not None:
                values[key] = str(values[key])
        if not isinstance(values["state"], dict):
            values["state"] = None
        if isinstance(values["job_type"], str):
            values["job_type"] = values["job_type"].lower()
        rows = values["processed_rows"]
        values["processed_rows"] = rows if isinstance(rows, int) else None
        values["error"] = error_text(values["error"])
        values["start_time"] = utc_iso(values["start_time"])  # times normalised on the way in
        values["last_updated"] = utc_iso(values["last_updated"])
        if values["target"] is not None:
            values["target"] = str(values["target"])
        return cls(**values, raw=dict(data))


def error_text(value: Any) -> str | None:
    """A job's ``error`` as text: real jobs carry an object ``{"message": "<the cause>"}``
    [C]; a string is kept; anything else is its JSON."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, Mapping):
        inner = value.get("message")
        if isinstance(inner, str) and inner.strip():
            return inner
        return json.dumps(value, sort_keys=True, default=str)
    return value if isinstance(value, str) else json.dumps(value, default=str)


_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job) if f.name != "raw")


@dataclass(frozen=True)
class QueuedJob:
    """The 202 answer: the job waits behind a running one and has no job object yet [C]."""

    message: str | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> QueuedJob:
        message, reason = data.get("message"), data.get("reason")
        return cls(
            message=None if message is None else str(message),
            reason=None if reason is None else str(reason),
            raw=dict(data),
        )

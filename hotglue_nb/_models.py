"""Jobs, queued jobs, lifecycle statuses and request-body validation.

Shapes follow the documented OpenAPI of ``POST /{env_id}/{flow_id}/{tenant}/jobs``
(see ``spec/`` in the repository); tolerances for undocumented variants are marked [I].
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from ._exceptions import ConfigError

__all__ = [
    "BODY_FIELDS",
    "FAILED_STATUSES",
    "JOB_COMPLETED",
    "JOB_CREATED",
    "LIFECYCLE",
    "Job",
    "QueuedJob",
    "build_body",
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

FieldKind = Literal["string", "object", "boolean", "date-time"]

#: Every request-body field of the documented V1 launch call and its JSON type.
BODY_FIELDS: dict[str, FieldKind] = {
    "tap": "string",
    "state": "object",
    "job_name": "string",
    "override_start_date": "date-time",
    "override_end_date": "date-time",
    "reset_source_state": "boolean",
    "streaming_job": "boolean",
    "override_selected_tables": "object",
    "override_field_map": "object",
    "override_source_config": "object",
    "override_target_config": "object",
    "ignore_parallel_jobs": "boolean",
    "queue_if_active_job": "boolean",
    "environment_variables": "object",
}


def is_terminal(status: str | None) -> bool:
    """hotglue's own rule: a job is over when its status contains COMPLETE or FAILED."""
    return bool(status) and ("COMPLETE" in str(status) or "FAILED" in str(status))


def is_failed(status: str | None) -> bool:
    """True for any ``*FAILED*`` status, including values outside the documented enum [I]."""
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
    processed_rows: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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
        for key in ("job_id", "env_id", "flow_id", "tenant", "started_by", "s3_root"):
            if values[key] is not None:
                values[key] = str(values[key])
        if not isinstance(values["state"], dict):
            values["state"] = None
        rows = values["processed_rows"]
        values["processed_rows"] = rows if isinstance(rows, int) else None
        return cls(**values, raw=dict(data))


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


def build_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check keyword fields against the documented body and return the JSON-ready body.

    ``None`` values are dropped (field not sent). Raises ConfigError on the first problem.
    """
    body: dict[str, Any] = {}
    for name, value in fields.items():
        kind = BODY_FIELDS.get(name)
        if kind is None:
            raise ConfigError(unknown_field_message(name))
        if value is not None:
            body[name] = coerce_field(name, kind, value)
    return body


def unknown_field_message(name: str) -> str:
    close = difflib.get_close_matches(name, BODY_FIELDS, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown request-body field {name!r}.{hint} Valid fields: {', '.join(BODY_FIELDS)}."


def coerce_field(name: str, kind: FieldKind, value: Any) -> Any:
    """Convert one value to its JSON form, or raise ConfigError saying what is accepted."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name} must be True or False, got {value!r}.")
    if kind == "string":
        if isinstance(value, str):
            return value
        raise ConfigError(f"{name} must be a string, got {type(value).__name__} {value!r}.")
    if kind == "object":
        return _to_object(name, value)
    return to_iso_datetime(name, value)


def _to_object(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name} is not valid JSON ({exc.msg} at {exc.pos}).") from None
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a dict or a JSON object string, got {value!r}.")
    return dict(value)


def to_iso_datetime(name: str, value: Any) -> str:
    """datetime, date, pandas.Timestamp or ISO text -> ``2022-08-08T00:00:00.000Z`` (UTC).

    Naive values are taken as UTC.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(
                f"{name}={value!r} is not an ISO-8601 date or date-time "
                "(e.g. '2024-01-31' or '2024-01-31T00:00:00Z')."
            ) from None
    if isinstance(value, datetime):
        if value != value:  # pandas.NaT is a datetime that is not equal to itself
            raise ConfigError(f"{name} is empty (NaT).")
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=UTC)
    else:
        raise ConfigError(f"{name} must be a datetime, date or ISO string, got {value!r}.")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

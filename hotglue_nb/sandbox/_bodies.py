"""Request bodies as the sandbox reads them: the documented fields and their JSON types (its
own copy of the spec), checked strictly."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ._state import ApiError

__all__ = ["BODY_TYPES", "V2_BODY_TYPES", "parse_json", "validate_body"]


#: The documented V1 body fields and their JSON types (the sandbox's own copy of the spec).
BODY_TYPES: dict[str, str] = {
    "state": "object",
    "tap": "string",
    "job_name": "string",
    "override_start_date": "date-time",
    "reset_source_state": "boolean",
    "streaming_job": "boolean",
    "override_selected_tables": "object",
    "override_field_map": "object",
    "override_end_date": "date-time",
    "override_source_config": "object",
    "override_target_config": "object",
    "ignore_parallel_jobs": "boolean",
    "queue_if_active_job": "boolean",
    "environment_variables": "object",
}
#: the V2 (two-way) body [C]: V1's without ``tap``, plus the connector and job type
V2_BODY_TYPES: dict[str, str] = {
    **{k: v for k, v in BODY_TYPES.items() if k != "tap"},
    "connector_id": "string",
    "job_type": "string",
    "override_connector_config": "object",
}


def parse_json(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "BadRequestError", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequestError", "The request body must be a JSON object")
    return body


def validate_body(raw: bytes, types: dict[str, str] = BODY_TYPES) -> dict[str, Any]:
    body = parse_json(raw)
    nested = body.pop("job", None)  # hotglue's widget nests job_name under "job" [C-code]
    if isinstance(nested, dict) and "job_name" in nested and "job_name" not in body:
        body["job_name"] = nested["job_name"]
    for name, value in body.items():
        kind = types.get(name)
        if kind is None:  # the real API may ignore unknown fields; the sandbox is strict [I]
            raise ApiError(400, "BadRequestError", f"Unknown field {name!r} in the request body")
        if value is not None and not _valid(kind, value):
            raise ApiError(400, "BadRequestError", f"Invalid value for {name!r}: expected {kind}")
    return body


def _valid(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if not isinstance(value, str):
        return False
    if kind == "date-time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
    return True

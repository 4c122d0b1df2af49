"""Every API call described once, as data: method, path template, query and body fields.

Path building, body validation, ``BODY_FIELDS`` and the body-field options are derived from
this table; adding an endpoint is one entry here plus its client method.

Ids (env, flow, tenant) always travel as exactly one percent-encoded path segment.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, TypedDict, get_args, get_type_hints
from urllib.parse import quote

from ._exceptions import ConfigError

__all__ = [
    "BODY_FIELDS",
    "ENDPOINTS",
    "JOB_TYPES",
    "LIST_CAP",
    "LAUNCH_FIELDS",
    "V2_BODY_FIELDS",
    "BodyOptions",
    "V2BodyOptions",
    "Endpoint",
    "FieldKind",
    "JobBody",
    "build_body",
    "coerce_field",
    "is_v2_root",
    "job_query",
    "run_endpoint",
    "segment",
    "to_iso_datetime",
    "unknown_field_message",
    "version_problems",
]

FieldKind = Literal["string", "object", "boolean", "date-time"]

String = Annotated[str, "string"]
Boolean = Annotated[bool, "boolean"]
Object = Annotated[Any, "object"]  # a dict, or its JSON text
DateTime = Annotated[Any, "date-time"]  # datetime, date, Timestamp or ISO text


class _SharedBody(TypedDict, total=False):
    """The launch-body fields V1 and V2 jobs share [C]."""

    state: Object  # a V2 write job's records
    job_name: String
    override_start_date: DateTime
    override_end_date: DateTime
    reset_source_state: Boolean
    streaming_job: Boolean
    override_selected_tables: Object
    override_field_map: Object
    override_source_config: Object
    override_target_config: Object
    ignore_parallel_jobs: Boolean
    queue_if_active_job: Boolean  # V1 only in the docs; whether V2 accepts it is unknown [I]
    environment_variables: Object


class BodyOptions(_SharedBody, total=False):
    """The documented V1 launch body [C], as keyword options; ``BODY_FIELDS`` is read off it."""

    tap: String


class V2BodyOptions(_SharedBody, total=False):
    """The documented V2 (two-way) launch body [C]: V1's without ``tap``, plus the connector,
    the job type and ``override_connector_config``."""

    connector_id: String
    job_type: String  # "read" | "write" (see run_endpoint)
    override_connector_config: Object


class JobBody(BodyOptions, V2BodyOptions, total=False):
    """Every body field a ``run_job`` call may name, V1 or V2 (one version per call)."""


def _kinds(options: type) -> dict[str, FieldKind]:
    hints = get_type_hints(options, include_extras=True)
    return {name: get_args(hint)[1] for name, hint in hints.items()}


#: Every request-body field of the documented V1 launch call and its JSON type.
BODY_FIELDS: dict[str, FieldKind] = _kinds(BodyOptions)
#: The same for a V2 (two-way) job [C].
V2_BODY_FIELDS: dict[str, FieldKind] = _kinds(V2BodyOptions)
JOB_TYPES = ("read", "write")
#: every field a launch row may carry, V1 or V2 (a row's own version is checked per row)
LAUNCH_FIELDS: dict[str, FieldKind] = {**BODY_FIELDS, **V2_BODY_FIELDS}


@dataclass(frozen=True)
class Endpoint:
    """One API call. ``path`` parts in braces are ids filled in (and encoded) per call."""

    name: str
    method: str
    path: tuple[str, ...]
    query: tuple[str, ...] = ()
    body: Mapping[str, FieldKind] = field(default_factory=dict)
    marker: str = "C"  # documented [C], seen in hotglue's own code [C-code], inferred [I]

    def url(self, **ids: object) -> str:
        """The absolute path with every ``{id}`` encoded as one segment."""
        parts = [_fill(part, ids) for part in self.path]
        return "/" + "/".join(parts)


def _fill(part: str, ids: Mapping[str, object]) -> str:
    if not part.startswith("{"):
        return part
    name = part[1:-1]
    return segment(ids[name], name)


_TENANT = ("{env_id}", "{flow_id}", "{tenant}")
#: the job list's and latest job's filter, as hotglue's widget sends it [C-code], and how
#: many jobs to list (the CLI's ``--count`` [C-code]; its query name is inferred [I])
_JOB_QUERY = ("entity_id", "entity_type", "count")
#: the job list's length as hotglue's widget shows it ("Showing last 5 jobs" [C-code]); that
#: the API caps its list there is inferred [I]
LIST_CAP = 5

# Provenance (wire-evidence.md): V2 jobs are started under /v2, but hotglue's widget reads
# their status, list and latest on the un-prefixed paths [C-code]; /v2 job GETs are not
# known to exist, and an undefined route answers API Gateway's 403 [I].
ENDPOINTS: dict[str, Endpoint] = {
    ep.name: ep
    for ep in (
        Endpoint("run_job", "POST", (*_TENANT, "jobs"), body=BODY_FIELDS),
        Endpoint("get_job_status", "GET", (*_TENANT, "jobs", "status"), query=("job_root",)),
        Endpoint("list_jobs", "GET", (*_TENANT, "jobs"), query=_JOB_QUERY, marker="C-code"),
        Endpoint(
            "latest_job", "GET", (*_TENANT, "jobs", "latest"), query=_JOB_QUERY, marker="C-code"
        ),  # fmt: skip
        Endpoint("list_tenants", "GET", ("tenants", "{env_id}"), marker="C-code"),
        Endpoint("supported_flows", "GET", ("{env_id}", "flows", "supported"), marker="C-code"),
        Endpoint("run_job_v2", "POST", ("v2", *_TENANT, "jobs"), body=V2_BODY_FIELDS),
        Endpoint(
            "linked_connectors",
            "GET",
            ("v2", *_TENANT, "linkedConnectors"),
            query=("catalog", "config", "connector_id"),
            marker="C-code",
        ),  # fmt: skip
        # a tenant's schedule of a flow: PUT documented, GET (PascalCase) and DELETE as
        # hotglue's widget calls them [C-code]
        Endpoint("get_schedule", "GET", (*_TENANT, "jobs", "schedule"), marker="C-code"),
        Endpoint("put_schedule", "PUT", (*_TENANT, "jobs", "schedule")),
        Endpoint("delete_schedule", "DELETE", (*_TENANT, "jobs", "schedule"), marker="C-code"),
        # sync state: V1 read by the tap, cleared by the widget [C-code]; V2 cleared by the
        # widget [C-code], read and written per third parties [I: 3P]
        Endpoint("get_state", "GET", (*_TENANT, "linkedSources", "state"), marker="C-code"),
        Endpoint(
            "get_state_v2",
            "GET",
            ("v2", *_TENANT, "linkedConnectors", "state"),
            query=("connector_id",),
            marker="I",
        ),  # fmt: skip
        Endpoint(
            "put_state_v2",
            "PUT",
            ("v2", *_TENANT, "linkedConnectors", "state"),
            query=("connector_id",),
            marker="I",
        ),  # fmt: skip
        # a tenant's config (its metadata under hotglue_metadata.metadata) [C-code tap], and
        # the metadata's PUT, which replaces it [C-code widget; replace: I, strong]
        Endpoint(
            "tenant_config", "GET", ("tenant", "{env_id}", "{tenant}", "config"), marker="C-code"
        ),  # fmt: skip
        Endpoint(
            "put_metadata", "PUT", ("tenant", "{env_id}", "{tenant}", "metadata"), marker="C-code"
        ),  # fmt: skip
        Endpoint(
            "linked_sources",
            "GET",
            (*_TENANT, "linkedSources"),
            query=("catalog", "config", "tap_name"),
            marker="C-code",
        ),
    )
}


def job_query(
    tap: str | None = None, connector_id: str | None = None, count: int | None = None
) -> dict[str, str]:
    """The query of a job list or latest job: the entity the jobs belong to (a V2 flow's
    connector, a V1 flow's source) as hotglue's widget filters [C-code], and ``count``
    [I: harmless if ignored]."""
    if tap is not None and connector_id is not None:
        raise ConfigError("Name one entity: tap= for a V1 source or connector_id= for a V2 "
                          "connector, not both.")  # fmt: skip
    out: dict[str, str] = {}
    entity, kind = (connector_id, "connector") if connector_id is not None else (tap, "source")
    if entity is not None:
        segment(entity, "connector_id" if kind == "connector" else "tap")  # its checks only
        out.update(entity_id=entity, entity_type=kind)
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"count must be a whole number >= 1, got {count!r}.")
        out["count"] = str(count)
    return out


_REFUSED = {"", ".", ".."}


def segment(value: object, what: str) -> str:
    """Percent-encode one id as a single path segment; refuse ids that cannot be one."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"{what} must be a string, got {type(value).__name__} {value!r}.")
    text = str(value)
    if text.strip() in _REFUSED or text != text.strip():
        raise ConfigError(
            f"{what} {text!r} cannot be used: ids must be non-empty, without surrounding "
            "spaces, and not '.' or '..'."
        )
    return quote(text, safe="")


def run_endpoint(fields: Mapping[str, Any]) -> str:
    """The one rule for V1 or V2: a body with a ``connector_id`` starts a two-way (V2) job.

    Returns the endpoint's name; refuses a mix of the two with the fix in the message.
    """
    connector = fields.get("connector_id")
    if isinstance(connector, str) and not connector.strip():
        raise ConfigError("connector_id is empty: name the linked connector, or leave it out "
                          "for a V1 flow.")  # fmt: skip
    if connector is None:
        if fields.get("job_type") is not None:
            raise ConfigError(
                "job_type is for two-way (V2) flows: add connector_id='<the linked "
                "connector>' to start a V2 job, or drop job_type for a V1 flow."
            )
        return "run_job"
    if fields.get("tap") is not None:
        raise ConfigError(
            "tap is for V1 flows; a V2 job names its connector with connector_id: drop tap."
        )
    job_type = fields.get("job_type")
    if not isinstance(job_type, str) or job_type.strip().lower() not in JOB_TYPES:
        raise ConfigError(
            f"A V2 job (connector_id={connector!r}) needs job_type='read' or 'write', "
            f"got {job_type!r}."
        )
    return "run_job_v2"


def version_problems(body: dict[str, Any]) -> tuple[str, list[str]]:
    """A launch row's endpoint (``run_endpoint``'s rule) and what in its body does not fit
    that version; ``job_type`` comes back lower-cased."""
    try:
        name = run_endpoint(body)
    except ConfigError as exc:
        return "run_job", [str(exc)]
    if "job_type" in body:
        body["job_type"] = str(body["job_type"]).strip().lower()
    kinds = ENDPOINTS[name].body
    return name, [unknown_field_message(k, kinds) for k in body if k not in kinds]


def is_v2_root(job_root: str) -> bool:
    """A V2 job's s3_root has its type after ``/jobs/`` (``.../jobs/read/2025/...`` [C]; that
    every V2 root has it is inferred from the examples [I])."""
    return "/jobs/read/" in job_root or "/jobs/write/" in job_root


def build_body(
    fields: Mapping[str, Any], kinds: Mapping[str, FieldKind] = BODY_FIELDS
) -> dict[str, Any]:
    """Check keyword fields against an endpoint's body and return the JSON-ready body.

    ``None`` values are dropped (field not sent). Raises ConfigError on the first problem.
    """
    body: dict[str, Any] = {}
    for name, value in fields.items():
        kind = kinds.get(name)
        if kind is None:
            raise ConfigError(unknown_field_message(name, kinds))
        if value is not None:
            body[name] = coerce_field(name, kind, value)
    return body


def unknown_field_message(name: str, kinds: Mapping[str, FieldKind] = BODY_FIELDS) -> str:
    if name in V2_BODY_FIELDS and name not in kinds:
        return (f"{name} is a field of two-way (V2) jobs: add connector_id='<the linked "
                "connector>' and job_type='read' or 'write'.")  # fmt: skip
    close = difflib.get_close_matches(name, list(kinds), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown request-body field {name!r}.{hint} Valid fields: {', '.join(kinds)}."


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

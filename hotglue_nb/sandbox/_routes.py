"""The sandbox's routes: one handler per hotglue endpoint and ``ROUTES``, the whole API
surface as data (method, raw-path pattern, handler); request bodies checked against the
documented fields."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._bodies import V2_BODY_TYPES, parse_json, validate_body
from ._bookmarks import delete_state, get_state, put_state, reset_state
from ._metadata import get_config, put_metadata
from ._schedules import delete_schedule, get_schedule, put_schedule
from ._state import AnswerLost, ApiError, SandboxState, json_response
from ._world import World

__all__ = ["ANY_VERSION", "QUEUED", "ROUTES", "V2_JOB_READS", "Handler"]

QUEUED = {
    "message": "Job has been queued. It will run when available",
    "reason": "There is a job currently running",
}


Handler = Callable[..., Awaitable[Response]]


async def _get_tenants(state: SandboxState, request: Request, *_: Any, number: int) -> Response:
    return json_response(list(state.world.tenants))


async def _get_linked_flows(
    state: SandboxState, request: Request, *_: Any, number: int
) -> Response:
    tenant = request.query_params.get("tenant_id") or request.query_params.get("user_id")
    info = state.world.tenants.get(tenant or "")
    if info is None:
        raise ApiError(404, "NotFoundError", f"Tenant {tenant!r} not found")
    return json_response([flow for flow in state.world.flows if flow["id"] in info["flows"]])


async def _get_supported_flows(
    state: SandboxState, request: Request, *_: Any, number: int
) -> Response:
    """The environment's flows [C-code tap-hotglue-api, widget]; two-way flows (``version``
    2) too unless ``Wire.supported_flows="one_way"`` [I: whether hotglue lists them]."""
    flows = list(state.world.flows)
    if state.wire.supported_flows == "all":
        flows += [{**flow, "version": 2} for flow in state.world.v2_flows]
    return json_response(flows)


async def _post_job(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    body = validate_body(await request.body())
    _check_tap(state.world, flow_id, tenant, body.get("tap"))
    store = state.store
    if store.is_busy(flow_id, tenant) and not body.get("ignore_parallel_jobs"):
        if body.get("queue_if_active_job"):
            store.enqueue(flow_id, tenant, body)
            return json_response(QUEUED, status=202)
        raise ApiError(  # the refusal's code and text are not documented [I]
            400,
            "BadRequestError",
            f"There is a job currently running for tenant {tenant!r} in flow {flow_id!r}. "
            "Set queue_if_active_job to queue it or ignore_parallel_jobs to run in parallel.",
        )
    job = store.create(flow_id, tenant, body)
    if body.get("reset_source_state"):
        reset_state(state, flow_id, tenant, None)
    return await _post_faults(state, tenant, number, job.view(store.now()))


async def _post_job_v2(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    """``POST /v2/.../jobs`` [C]; the 400 texts for a missing connector or job type are
    ours (a 400 is documented, its body is not [I])."""
    body = validate_body(await request.body(), V2_BODY_TYPES)
    linked = [c["connector_id"] for c in state.world.connectors(tenant, flow_id) or []]
    connector, job_type = body.get("connector_id"), body.get("job_type")
    if not connector:
        raise ApiError(400, "BadRequestError", "connector_id is required for a V2 job")
    if connector not in linked:
        message = f"Connector {connector!r} is not linked for tenant {tenant!r} (linked: {linked})"
        raise ApiError(400, "BadRequestError", message)
    if not isinstance(job_type, str) or job_type.lower() not in ("read", "write"):
        raise ApiError(400, "BadRequestError", "job_type must be 'read' or 'write'")
    body["job_type"] = job_type.lower()
    if state.store.is_busy(flow_id, tenant) and not body.get("ignore_parallel_jobs"):
        running = f"There is a job currently running for tenant {tenant!r} in flow {flow_id!r}."
        raise ApiError(400, "BadRequestError", running)  # as V1's refusal [I]
    job = state.store.create(flow_id, tenant, body)
    if body.get("reset_source_state"):
        reset_state(state, flow_id, tenant, str(body.get("connector_id")))
    return await _post_faults(state, tenant, number, job.view(state.store.now()))


async def _get_connectors(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    """``GET /v2/.../linkedConnectors?catalog=&config=&connector_id=`` [C-code]; each link
    keyed ``id`` as hotglue's widget and taps read it [C-code]."""
    query = request.query_params
    out = []
    for connector in state.world.connectors(tenant, flow_id) or []:
        if query.get("connector_id") and connector["connector_id"] != query["connector_id"]:
            continue
        hidden = ("connector_id", "config", "discover_on_job", "reject_every")
        item = {"id": connector["connector_id"]}
        item.update((k, v) for k, v in connector.items() if k not in hidden)
        item["tenant_id"] = tenant
        if query.get("config") == "true":
            item["config"] = connector.get("config") or {}
        if query.get("catalog") == "true":
            item["catalog"] = state.world.catalogs.get(connector["connector_id"], {"streams": []})
        out.append(item)
    return json_response(out)


async def _post_faults(
    state: SandboxState, tenant: str, number: int, view: dict[str, Any]
) -> Response:
    plan = state.faults
    if plan.hits(tenant, number, "lose_answer"):
        return _LostAnswer()
    if plan.hits(tenant, number, "slow_answer"):
        await asyncio.sleep(plan.for_tenant(tenant).slow_seconds)
    if plan.hits(tenant, number, "broken_json"):
        text = json.dumps(view)
        return Response(text[: len(text) // 2], media_type="application/json")
    if plan.hits(tenant, number, "empty_ok"):
        return Response(b"", media_type="application/json")
    if plan.hits(tenant, number, "no_root"):
        return json_response({k: v for k, v in view.items() if k != "s3_root"})
    return json_response(view)


def _entity_jobs(state: SandboxState, request: Request, flow_id: str, tenant: str) -> list[Any]:
    """The tenant's jobs in the flow, oldest first, of ``entity_id`` / ``entity_type`` when
    asked (hotglue's widget filters so [C-code]; a source is a job's tap, a target its
    target, a connector its connector_id)."""
    jobs = state.store.list(flow_id, tenant)
    entity, kind = request.query_params.get("entity_id"), request.query_params.get("entity_type")
    if not entity:
        return jobs
    key = {"source": "tap", "target": "target", "connector": "connector_id"}.get(kind or "")
    if key is None:
        raise ApiError(400, "BadRequestError", f"Invalid entity_type {kind!r}")  # [I]
    return [job for job in jobs if job.fields.get(key) == entity]


async def _get_jobs(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    """The tenant's recent jobs: capped and ordered as ``state.wire`` says [I]."""
    if state.faults.hits(tenant, number, "odd_list"):  # an answer that proves nothing
        odd = number % 3
        if odd == 0:
            return Response(b"<html>Service Unavailable</html>", media_type="text/html")
        return json_response({"jobs": "see next page"} if odd == 1 else None)
    now = state.store.now()
    jobs = state.wire.listed(_entity_jobs(state, request, flow_id, tenant),
                             request.query_params.get("count"))  # fmt: skip
    return json_response([job.view(now) for job in jobs])


async def _get_status(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    """One job by its root, V1 or V2 (the widget polls both here [C-code])."""
    job_root = request.query_params.get("job_root")
    if not job_root:
        raise ApiError(400, "BadRequestError", "Missing required query parameter job_root")
    if state.faults.hits(tenant, number, "empty_status"):  # hotglue's widget stops on it
        return Response(b"", media_type="application/json")
    for job in state.store.list(flow_id, tenant):
        if job.job_root == job_root:
            return json_response(job.view(state.store.now()))
    raise ApiError(404, "NotFoundError", f"Job {job_root!r} not found")


async def _get_latest(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    jobs = _entity_jobs(state, request, flow_id, tenant)
    if not jobs:
        raise ApiError(404, "NotFoundError", "No jobs found")  # [I]
    return json_response(jobs[-1].view(state.store.now()))


async def _get_sources(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    query = request.query_params
    tap_name = query.get("tap_name")
    out = []
    for source in state.world.linked(tenant, flow_id) or []:
        if tap_name and source["tap"] != tap_name:
            continue
        item = {k: v for k, v in source.items() if k not in ("config", "discover_on_job")}
        item["tenant_id"] = tenant
        if query.get("config") == "true":
            item["config"] = source["config"]
        if query.get("catalog") == "true":
            item["catalog"] = state.world.catalogs.get(source["tap"], {"streams": []})
        out.append(item)
    return json_response(out)


async def _patch_sources(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    body = parse_json(await request.body())
    tap = body.get("tap")
    for source in state.world.linked(tenant, flow_id) or []:
        if source["tap"] == tap:
            if isinstance(body.get("field_map"), dict):
                source["fieldMap"] = body["field_map"]
            if isinstance(body.get("config"), dict):
                source["config"] = {**source["config"], **body["config"]}
            return json_response({})
    raise ApiError(404, "NotFoundError", f"Tap {tap!r} is not linked for tenant {tenant!r}")


_TENANT = ("{env}", "{flow}", "{tenant}")
#: method, raw-path pattern ({...}: one id segment), handler: the whole API surface. V2 jobs
#: are started under /v2 [C] and read on the un-prefixed job paths [C-code widget].
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", ("tenants", "{env}"), _get_tenants),
    ("GET", ("{env}", "flows", "linked"), _get_linked_flows),
    ("GET", ("{env}", "flows", "supported"), _get_supported_flows),
    ("POST", (*_TENANT, "jobs"), _post_job),
    ("GET", (*_TENANT, "jobs"), _get_jobs),
    ("GET", (*_TENANT, "jobs", "status"), _get_status),
    ("GET", (*_TENANT, "jobs", "latest"), _get_latest),
    ("GET", (*_TENANT, "linkedSources"), _get_sources),
    ("PATCH", (*_TENANT, "linkedSources"), _patch_sources),
    ("POST", ("v2", *_TENANT, "jobs"), _post_job_v2),
    ("GET", ("v2", *_TENANT, "linkedConnectors"), _get_connectors),
    ("GET", (*_TENANT, "jobs", "schedule"), get_schedule),
    ("PUT", (*_TENANT, "jobs", "schedule"), put_schedule),
    ("DELETE", (*_TENANT, "jobs", "schedule"), delete_schedule),
    ("GET", ("tenant", "{env}", "{tenant}", "config"), get_config),
    ("PUT", ("tenant", "{env}", "{tenant}", "metadata"), put_metadata),
    ("GET", (*_TENANT, "linkedSources", "state"), get_state),
    ("DELETE", (*_TENANT, "linkedSources", "state"), delete_state),
    ("GET", ("v2", *_TENANT, "linkedConnectors", "state"), get_state),
    ("PUT", ("v2", *_TENANT, "linkedConnectors", "state"), put_state),
    ("DELETE", ("v2", *_TENANT, "linkedConnectors", "state"), delete_state),
]
#: the /v2 job reads hotglue is not known to have, served only with ``v2_job_reads="both"``
V2_JOB_READS: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", ("v2", *_TENANT, "jobs"), _get_jobs),
    ("GET", ("v2", *_TENANT, "jobs", "status"), _get_status),
    ("GET", ("v2", *_TENANT, "jobs", "latest"), _get_latest),
]
#: handlers that answer for V1 and V2 flows alike on an un-prefixed path
ANY_VERSION: frozenset[Handler] = frozenset(
    {_get_jobs, _get_status, _get_latest, get_schedule, put_schedule, delete_schedule}
)


def _check_tap(world: World, flow_id: str, tenant: str, tap: Any) -> None:
    taps = [source["tap"] for source in world.linked(tenant, flow_id) or []]
    if tap is not None and tap not in taps and tap != "api":
        message = f"Tap {tap!r} is not linked for tenant {tenant!r} (linked: {taps})"
        raise ApiError(400, "BadRequestError", message)


class _LostAnswer(Response):
    """Starts a 200 answer, sends half of it, then drops the connection."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"512")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"job_id": ', "more_body": True})
        raise AnswerLost("the sandbox dropped this answer on purpose (lose_answer fault)")

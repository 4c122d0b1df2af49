"""The sandbox's Starlette app: hotglue's jobs endpoints, Chalice-style errors, faults.

Routing reads the raw (still percent-encoded) path, so a tenant id containing ``/`` stays one
segment, exactly as the client sent it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ._faults import FaultPlan, TokenBucket, retry_after_header
from ._jobs import DEFAULT_TIME_SCALE, JobStore, SandboxJob
from ._world import World, demo_world

__all__ = ["AnswerLost", "SandboxState", "create_app"]

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
QUEUED = {
    "message": "Job has been queued. It will run when available",
    "reason": "There is a job currently running",
}


class AnswerLost(Exception):
    """Raised inside the app to drop a connection mid-answer (the ``lose_answer`` fault)."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


@dataclass
class SandboxState:
    """Live state, for inspection by tests and notebooks."""

    world: World
    store: JobStore
    faults: FaultPlan
    requests: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    bucket: TokenBucket | None = None
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def jobs(self) -> dict[tuple[str, str], list[SandboxJob]]:
        return self.store.jobs

    def jobs_for(self, tenant: str, flow_id: str | None = None) -> list[dict[str, Any]]:
        """Current API views of a tenant's jobs (in the first flow by default)."""
        flow = flow_id or self.world.flow_ids[0]
        now = self.store.now()
        return [job.view(now) for job in self.store.list(flow, tenant)]

    def job_count(self) -> int:
        return self.store.count()

    def next_number(self, tenant: str | None, method: str) -> int:
        key = f"{method}:{tenant}"
        self.counters[key] = number = self.counters.get(key, 0) + 1
        return number


def create_app(
    world: World | dict[str, Any] | str | None = None,
    *,
    seed: int = 0,
    faults: Any = None,
    clock: Callable[[], float] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    history_days: int = 0,
) -> Starlette:
    """A fresh sandbox app. State is built here, not in lifespan hooks, so that
    ``httpx.ASGITransport(app=create_app())`` works in-process.

    ``history_days``: give every tenant a seeded past of scheduled jobs (0: none).
    """
    the_world = _resolve_world(world, seed)
    store = JobStore(the_world, clock or time.time, time_scale, seed, history_days)
    state = SandboxState(the_world, store, FaultPlan.build(faults, seed))
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", _endpoint, methods=methods)])
    app.state.sandbox = state
    return app


def _resolve_world(world: World | dict[str, Any] | str | None, seed: int) -> World:
    if world is None:
        return demo_world(seed)
    if isinstance(world, World):
        return world
    if isinstance(world, dict):
        return World.from_dict(world)
    return World.load(world)


async def _endpoint(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    segments = _segments(request.scope)
    route = _match(request.method, segments)
    tenant = route.ids.get("tenant") or request.query_params.get("tenant_id")
    try:
        response = await _handle(state, request, route, tenant)
    except ApiError as exc:
        response = _error(exc.status, exc.code, exc.message, exc.headers)
    except ClientDisconnect:  # the client hung up before its body arrived: nothing was done
        response = Response(status_code=499)
    state.requests.append((request.method, "/" + "/".join(segments), tenant, response.status_code))
    return response


async def _handle(
    state: SandboxState, request: Request, route: Match, tenant: str | None
) -> Response:
    faults = state.faults.for_tenant(tenant)
    if faults.latency:
        await asyncio.sleep(faults.latency)
    _check_rate(state, faults)
    if request.headers.get("x-api-key") != state.world.api_key:
        raise ApiError(401, "UnauthorizedError", "Invalid x-api-key")
    if route.handler is None:
        raise ApiError(404, "NotFoundError", f"No route for {request.method} {route.path}")
    _check_ids(state.world, route.ids, two_way=route.path.startswith("/v2/"))
    number = state.next_number(tenant, request.method)
    if request.method == "POST" or faults.on_get:
        _pre_faults(state, tenant, number, request.method)
    flow, tenant_id = route.ids.get("flow", ""), route.ids.get("tenant", "")
    return await route.handler(state, request, flow, tenant_id, number=number)


def _segments(scope: Scope) -> list[str]:
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    raw = raw.split(b"?", 1)[0]
    return [unquote(part.decode("latin-1"), encoding="utf-8") for part in raw.split(b"/")[1:]]


def _check_rate(state: SandboxState, faults: Any) -> None:
    rate = state.faults.default.rate_limit
    if rate is None:
        return
    if state.bucket is None:
        state.bucket = TokenBucket(rate, state.faults.default.burst)
    wait = state.bucket.take()
    if wait > 0:
        headers = {"Retry-After": retry_after_header(faults, wait)}
        raise ApiError(429, "TooManyRequestsError", "Too many requests", headers)


def _pre_faults(state: SandboxState, tenant: str | None, number: int, method: str) -> None:
    faults = state.faults.for_tenant(tenant)
    headers = {"Retry-After": retry_after_header(faults, 1.0)}
    if method == "POST" and number <= faults.throttle_first:
        raise ApiError(429, "TooManyRequestsError", "Too many requests", headers)
    if method == "POST" and state.faults.hits(tenant, number, "redirect"):
        raise ApiError(307, "Redirect", "Moved", {"Location": "https://elsewhere.example/jobs"})
    if state.faults.hits(tenant, number, "locked"):
        raise ApiError(423, "LockedError", "The resource is locked, try again", headers)
    if state.faults.hits(tenant, number, "server_error"):
        status = (500, 502, 503, 504)[int(state.faults.roll(tenant, number, "which") * 4)]
        raise ApiError(status, "ChaliceViewError", "An internal server error occurred.", headers)


Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True)
class Match:
    """A request's route: its handler (None: no route) and the ids read off its raw path."""

    handler: Handler | None
    ids: dict[str, str]
    path: str


def _match(method: str, segments: list[str]) -> Match:
    """Match per segment of the raw path (split before decoding), so ``a%2Fb`` stays one."""
    for verb, pattern, handler in ROUTES:
        if verb != method or len(pattern) != len(segments):
            continue
        pairs = list(zip(pattern, segments, strict=True))
        if all(p.startswith("{") or p == seg for p, seg in pairs):
            ids = {p[1:-1]: seg for p, seg in pairs if p.startswith("{")}
            return Match(handler, ids, "/" + "/".join(segments))
    return Match(None, {}, "/" + "/".join(segments))


def _check_ids(world: World, ids: dict[str, str], *, two_way: bool = False) -> None:
    """Env, flow (of the path's version: a V1 flow under /v2 or the reverse is not found
    [I]) and a tenant that linked it."""
    if "env" in ids and ids["env"] != world.env_id:
        raise ApiError(404, "NotFoundError", f"Environment {ids['env']!r} not found")
    if "tenant" not in ids:
        return
    flow_id, tenant = ids["flow"], ids["tenant"]
    if flow_id not in (world.v2_flow_ids if two_way else world.flow_ids):
        raise ApiError(404, "NotFoundError", f"Flow {flow_id!r} not found")
    if tenant not in world.tenants:
        raise ApiError(404, "NotFoundError", f"Tenant {tenant!r} not found")
    linked = world.connectors(tenant, flow_id) if two_way else world.linked(tenant, flow_id)
    if linked is None:
        raise ApiError(404, "NotFoundError", f"Tenant {tenant!r} has not linked flow {flow_id!r}")


async def _get_tenants(state: SandboxState, request: Request, *_: Any, number: int) -> Response:
    return _json(list(state.world.tenants))


async def _get_linked_flows(
    state: SandboxState, request: Request, *_: Any, number: int
) -> Response:
    tenant = request.query_params.get("tenant_id") or request.query_params.get("user_id")
    info = state.world.tenants.get(tenant or "")
    if info is None:
        raise ApiError(404, "NotFoundError", f"Tenant {tenant!r} not found")
    return _json([flow for flow in state.world.flows if flow["id"] in info["flows"]])


async def _post_job(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    body = _validate_body(await request.body())
    _check_tap(state.world, flow_id, tenant, body.get("tap"))
    store = state.store
    if store.is_busy(flow_id, tenant) and not body.get("ignore_parallel_jobs"):
        if body.get("queue_if_active_job"):
            store.enqueue(flow_id, tenant, body)
            return _json(QUEUED, status=202)
        raise ApiError(  # the refusal's code and text are not documented [I]
            400,
            "BadRequestError",
            f"There is a job currently running for tenant {tenant!r} in flow {flow_id!r}. "
            "Set queue_if_active_job to queue it or ignore_parallel_jobs to run in parallel.",
        )
    job = store.create(flow_id, tenant, body)
    return await _post_faults(state, tenant, number, job.view(store.now()))


async def _post_job_v2(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    """``POST /v2/.../jobs`` [C]; the 400 texts for a missing connector or job type are
    ours (a 400 is documented, its body is not [I])."""
    body = _validate_body(await request.body(), V2_BODY_TYPES)
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
    return await _post_faults(state, tenant, number, job.view(state.store.now()))


async def _get_connectors(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    """``GET /v2/.../linkedConnectors?catalog=&connector_id=`` [C-code]."""
    query = request.query_params
    out = []
    for connector in state.world.connectors(tenant, flow_id) or []:
        if query.get("connector_id") and connector["connector_id"] != query["connector_id"]:
            continue
        hidden = ("config", "discover_on_job", "reject_every")
        item = {k: v for k, v in connector.items() if k not in hidden}
        item["tenant_id"] = tenant
        if query.get("catalog") == "true":
            item["catalog"] = state.world.catalogs.get(connector["connector_id"], {"streams": []})
        out.append(item)
    return _json(out)


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
        return _json({k: v for k, v in view.items() if k != "s3_root"})
    return _json(view)


async def _get_jobs(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    if state.faults.hits(tenant, number, "odd_list"):  # an answer that proves nothing
        odd = number % 3
        if odd == 0:
            return Response(b"<html>Service Unavailable</html>", media_type="text/html")
        return _json({"jobs": "see next page"} if odd == 1 else None)
    now = state.store.now()
    return _json([job.view(now) for job in state.store.list(flow_id, tenant)])


async def _get_status(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    job_root = request.query_params.get("job_root")
    if not job_root:
        raise ApiError(400, "BadRequestError", "Missing required query parameter job_root")
    for job in state.store.list(flow_id, tenant):
        if job.job_root == job_root:
            return _json(job.view(state.store.now()))
    raise ApiError(404, "NotFoundError", f"Job {job_root!r} not found")


async def _get_latest(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    jobs = state.store.list(flow_id, tenant)
    if not jobs:
        raise ApiError(404, "NotFoundError", "No jobs found")  # [I]
    return _json(jobs[-1].view(state.store.now()))


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
    return _json(out)


async def _patch_sources(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    body = _parse_json(await request.body())
    tap = body.get("tap")
    for source in state.world.linked(tenant, flow_id) or []:
        if source["tap"] == tap:
            if isinstance(body.get("field_map"), dict):
                source["fieldMap"] = body["field_map"]
            if isinstance(body.get("config"), dict):
                source["config"] = {**source["config"], **body["config"]}
            return _json({})
    raise ApiError(404, "NotFoundError", f"Tap {tap!r} is not linked for tenant {tenant!r}")


_TENANT = ("{env}", "{flow}", "{tenant}")
#: method, raw-path pattern ({...}: one id segment), handler: the whole API surface.
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", ("tenants", "{env}"), _get_tenants),
    ("GET", ("{env}", "flows", "linked"), _get_linked_flows),
    ("POST", (*_TENANT, "jobs"), _post_job),
    ("GET", (*_TENANT, "jobs"), _get_jobs),
    ("GET", (*_TENANT, "jobs", "status"), _get_status),
    ("GET", (*_TENANT, "jobs", "latest"), _get_latest),
    ("GET", (*_TENANT, "linkedSources"), _get_sources),
    ("PATCH", (*_TENANT, "linkedSources"), _patch_sources),
    ("POST", ("v2", *_TENANT, "jobs"), _post_job_v2),
    ("GET", ("v2", *_TENANT, "jobs"), _get_jobs),
    ("GET", ("v2", *_TENANT, "jobs", "status"), _get_status),
    ("GET", ("v2", *_TENANT, "jobs", "latest"), _get_latest),
    ("GET", ("v2", *_TENANT, "linkedConnectors"), _get_connectors),
]


def _parse_json(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "BadRequestError", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequestError", "The request body must be a JSON object")
    return body


def _validate_body(raw: bytes, types: dict[str, str] = BODY_TYPES) -> dict[str, Any]:
    body = _parse_json(raw)
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


def _check_tap(world: World, flow_id: str, tenant: str, tap: Any) -> None:
    taps = [source["tap"] for source in world.linked(tenant, flow_id) or []]
    if tap is not None and tap not in taps and tap != "api":
        message = f"Tap {tap!r} is not linked for tenant {tenant!r} (linked: {taps})"
        raise ApiError(400, "BadRequestError", message)


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None) -> Response:
    response = _json({"Code": code, "Message": message}, status=status)
    response.headers.update(headers or {})
    return response


class _LostAnswer(Response):
    """Starts a 200 answer, sends half of it, then drops the connection."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"512")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"job_id": ', "more_body": True})
        raise AnswerLost("the sandbox dropped this answer on purpose (lose_answer fault)")

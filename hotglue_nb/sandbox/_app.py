"""The sandbox's Starlette app: one endpoint that authenticates, applies faults, matches
``ROUTES`` and answers hotglue's Chalice-style errors.

Routing reads the raw (still percent-encoded) path, so a tenant id containing ``/`` stays one
segment, exactly as the client sent it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from ._bookmarks import seed_bookmarks
from ._faults import FaultPlan, TokenBucket, retry_after_header
from ._jobs import DEFAULT_TIME_SCALE, JobStore
from ._metadata import seed_metadata
from ._routes import ANY_VERSION, ROUTES, V2_JOB_READS, Handler
from ._schedules import seed_schedules
from ._state import ApiError, SandboxState, error_response
from ._wire import Wire
from ._world import World, demo_world

__all__ = ["create_app"]


def create_app(
    world: World | dict[str, Any] | str | None = None,
    *,
    seed: int = 0,
    faults: Any = None,
    clock: Callable[[], float] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    history_days: int = 0,
    wire: Wire | dict[str, Any] | None = None,
) -> Starlette:
    """A fresh sandbox app. State is built here, not in lifespan hooks, so that
    ``httpx.ASGITransport(app=create_app())`` works in-process.

    ``history_days``: give every tenant a seeded past of scheduled jobs (0: none).
    ``wire``: the answers to the wire's open questions (see ``Wire``; default: strict).
    """
    the_world = _resolve_world(world, seed)
    store = JobStore(the_world, clock or time.time, time_scale, seed, history_days)
    state = SandboxState(the_world, store, FaultPlan.build(faults, seed), wire=Wire.build(wire))
    state.schedules = seed_schedules(the_world, seed)
    state.metadata = seed_metadata(the_world, seed)
    state.bookmarks = seed_bookmarks(the_world, seed)
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
    route = _match(request.method, segments, state.wire)
    tenant = route.ids.get("tenant") or request.query_params.get("tenant_id")
    try:
        response = await _handle(state, request, route, tenant)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.headers)
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
    if route.handler is None and state.wire.undefined_route == "gateway":
        raise ApiError(403, None, "Missing Authentication Token")  # before auth, as AWS [I]
    if request.headers.get("x-api-key") != state.world.api_key:
        raise ApiError(401, "UnauthorizedError", "Invalid x-api-key")
    if route.handler is None:
        raise ApiError(404, "NotFoundError", f"No route for {request.method} {route.path}")
    two_way = route.path.startswith("/v2/")
    _check_ids(state.world, route.ids, two_way=None if route.handler in ANY_VERSION else two_way)
    number = state.next_number(tenant, request.method)
    if request.method in ("POST", "PUT", "DELETE") or faults.on_get:
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
        raise _throttled(state, None, retry_after_header(faults, wait))


def _pre_faults(state: SandboxState, tenant: str | None, number: int, method: str) -> None:
    faults = state.faults.for_tenant(tenant)
    headers = {"Retry-After": retry_after_header(faults, 1.0)}
    if method == "POST" and number <= faults.throttle_first:
        raise _throttled(state, tenant, headers["Retry-After"])
    if method == "POST" and state.faults.hits(tenant, number, "redirect"):
        raise ApiError(307, "Redirect", "Moved", {"Location": "https://elsewhere.example/jobs"})
    if state.faults.hits(tenant, number, "locked"):
        raise ApiError(423, "LockedError", "The resource is locked, try again", headers)
    if state.faults.hits(tenant, number, "server_error"):
        status = (500, 502, 503, 504)[int(state.faults.roll(tenant, number, "which") * 4)]
        raise ApiError(status, "ChaliceViewError", "An internal server error occurred.", headers)


def _throttled(state: SandboxState, tenant: str | None, retry_after: str) -> ApiError:
    """A 429: Chalice-style with Retry-After, or (the ``bare_429`` fault) API Gateway's own
    throttle answer without it [I]."""
    number = state.next_number(tenant, "429")
    if state.faults.hits(tenant, number, "bare_429"):
        return ApiError(429, None, "Too Many Requests")
    headers = {"Retry-After": retry_after}
    return ApiError(429, "TooManyRequestsError", "Too many requests", headers)


@dataclass(frozen=True)
class Match:
    """A request's route: its handler (None: no route) and the ids read off its raw path."""

    handler: Handler | None
    ids: dict[str, str]
    path: str


def _match(method: str, segments: list[str], wire: Wire) -> Match:
    """Match per segment of the raw path (split before decoding), so ``a%2Fb`` stays one."""
    routes = ROUTES + V2_JOB_READS if wire.v2_job_reads == "both" else ROUTES
    for verb, pattern, handler in routes:
        if verb != method or len(pattern) != len(segments):
            continue
        pairs = list(zip(pattern, segments, strict=True))
        if all(p.startswith("{") or p == seg for p, seg in pairs):
            ids = {p[1:-1]: seg for p, seg in pairs if p.startswith("{")}
            return Match(handler, ids, "/" + "/".join(segments))
    return Match(None, {}, "/" + "/".join(segments))


def _check_ids(world: World, ids: dict[str, str], *, two_way: bool | None = False) -> None:
    """Env, flow (of the path's version: a V1 flow under /v2 or the reverse is not found
    [I]; ``two_way=None``: a job read, either version) and a tenant that linked it."""
    if "env" in ids and ids["env"] != world.env_id:
        raise ApiError(404, "NotFoundError", f"Environment {ids['env']!r} not found")
    if "tenant" not in ids:
        return
    if "flow" not in ids:  # a tenant's own resource (its config, its metadata)
        if ids["tenant"] not in world.tenants:
            raise ApiError(404, "NotFoundError", f"Tenant {ids['tenant']!r} not found")
        return
    flow_id, tenant = ids["flow"], ids["tenant"]
    if two_way is None:
        two_way = flow_id in world.v2_flow_ids
    if flow_id not in (world.v2_flow_ids if two_way else world.flow_ids):
        raise ApiError(404, "NotFoundError", f"Flow {flow_id!r} not found")
    if tenant not in world.tenants:
        raise ApiError(404, "NotFoundError", f"Tenant {tenant!r} not found")
    linked = world.connectors(tenant, flow_id) if two_way else world.linked(tenant, flow_id)
    if linked is None:
        raise ApiError(404, "NotFoundError", f"Tenant {tenant!r} has not linked flow {flow_id!r}")

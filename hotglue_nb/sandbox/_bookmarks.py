"""Sync state (Singer bookmarks) per tenant x flow (x connector).

V1: ``GET /{env}/{flow}/{tenant}/linkedSources/state`` answers the state as the tap reads it
(``{"current_stream": null, "bookmarks": {stream: {...}}}`` [C-code tap, C artifacts]);
``DELETE`` of the same path (``?tap_name=``) clears it [C-code widget]. V2: ``DELETE
/v2/{env}/{flow}/{tenant}/linkedConnectors/state?connector_id=`` [C-code widget]; ``GET`` and
``PUT`` (``{"state": {...}}``) are third-party knowledge [3P]. A job with
``reset_source_state`` starts from an empty state. With no state, GET answers ``{}`` [I].
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ._bodies import parse_json
from ._schedules import answer_write
from ._state import ApiError, SandboxState, json_response
from ._world import World

__all__ = ["delete_state", "get_state", "put_state", "reset_state", "seed_bookmarks"]

Key = tuple[str, str, str | None]  # flow, tenant, connector (None: V1)
STREAMS = ["Account", "Contact", "Opportunity", "contacts", "deals", "Invoice"]


def seed_bookmarks(world: World, seed: int) -> dict[Key, dict[str, Any]]:
    """A state per link, shaped like real state files (a version and a replication key)."""
    out: dict[Key, dict[str, Any]] = {}
    for tenant, info in world.tenants.items():
        links: list[Key] = [(flow, tenant, None) for flow in info.get("flows", {})]
        for flow, connectors in info.get("connectors", {}).items():
            links += [(flow, tenant, str(c["connector_id"])) for c in connectors]
        for key in links:
            dice = hashlib.blake2b(f"{seed}|state|{key}".encode(), digest_size=4).digest()
            roll = int.from_bytes(dice, "big")
            streams = STREAMS[roll % 3 : roll % 3 + 2 + roll % 3]
            out[key] = {"current_stream": None, "bookmarks": {
                stream: {"version": 1756880503852 + roll % 997,
                         "SystemModstamp": f"2026-11-{1 + roll % 28:02d}T11:07:51.000000Z"}
                for stream in streams}}  # fmt: skip
    return out


def reset_state(state: SandboxState, flow_id: str, tenant: str, connector: str | None) -> None:
    """A full sync: the bookmarks start again from nothing."""
    state.bookmarks[(flow_id, tenant, connector)] = {"current_stream": None, "bookmarks": {}}


def _key(request: Request, flow_id: str, tenant: str) -> Key:
    if not request.url.path.startswith("/v2/"):
        return (flow_id, tenant, None)
    connector = request.query_params.get("connector_id")
    if not connector:
        raise ApiError(400, "BadRequestError", "connector_id is required")
    return (flow_id, tenant, connector)


async def get_state(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    return json_response(state.bookmarks.get(_key(request, flow_id, tenant), {}))


async def delete_state(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    state.bookmarks.pop(_key(request, flow_id, tenant), None)
    return answer_write(state, tenant, number, {})


async def put_state(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    body = parse_json(await request.body())
    given = body.get("state") if isinstance(body, dict) else None
    if not isinstance(given, dict):
        raise ApiError(400, "BadRequestError", 'The body must be {"state": {...}}')
    state.bookmarks[_key(request, flow_id, tenant)] = given
    return answer_write(state, tenant, number, {})

"""Tenant metadata: ``GET /tenant/{env}/{tenant}/config`` (the tenant config, metadata under
``hotglue_metadata.metadata`` [C-code tap, C artifacts]) and ``PUT
/tenant/{env}/{tenant}/metadata`` with ``{"config": {"metadata": {...}}}`` [C-code widget],
which replaces the whole object (``Wire.metadata_put="replace"``, the strong inference) or
merges into it ("merge") [I]. Values are flat [C docs]: a nested one is refused. A tenant
without a config answers 404 "There is no config for the tenant" (its status is [I])."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ._bodies import parse_json
from ._schedules import answer_write
from ._state import ApiError, SandboxState, json_response
from ._world import World

__all__ = ["get_config", "put_metadata", "seed_metadata"]

COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli",
             "Soylent", "Tyrell", "Cyberdyne", "Vandelay"]  # fmt: skip
PLANS = ["starter", "pro", "enterprise"]
OWNERS = ["ana@example.com", "bo@example.com", "chen@example.com"]


def seed_metadata(world: World, seed: int) -> dict[str, dict[str, Any] | None]:
    """Per tenant: a company name, plan, owner and seat count; about 1 in 10 has no config."""
    out: dict[str, dict[str, Any] | None] = {}
    for index, tenant in enumerate(world.tenants):
        dice = hashlib.blake2b(f"{seed}|meta|{tenant}".encode(), digest_size=4).digest()
        roll = int.from_bytes(dice, "big")
        if roll % 10 == 3:
            out[tenant] = None
            continue
        company = f"{COMPANIES[roll % len(COMPANIES)]} {['Inc', 'GmbH', 'Ltd', 'SA'][index % 4]}"
        out[tenant] = {"company": f"{company} #{index}", "plan": PLANS[(roll >> 4) % 3],
                       "owner": OWNERS[(roll >> 8) % 3],
                       "seats": 5 + (roll >> 12) % 200}  # fmt: skip
    return out


async def get_config(
    state: SandboxState, request: Request, _flow: str, tenant: str, *, number: int
) -> Response:
    metadata = state.metadata.get(tenant)
    if metadata is None:
        raise ApiError(404, "NotFoundError", f"There is no config for the tenant {tenant!r}")
    return json_response({
        "hotglue_metadata": {"metadata": metadata},
        "hotglue_mapping": {"mapping": {}},
        "apiCredentials": {"sandbox": True},
    })  # fmt: skip


async def put_metadata(
    state: SandboxState, request: Request, _flow: str, tenant: str, *, number: int
) -> Response:
    body = parse_json(await request.body())
    config = body.get("config") if isinstance(body, dict) else None
    given = config.get("metadata") if isinstance(config, dict) else None
    if not isinstance(given, dict):
        raise ApiError(400, "BadRequestError", 'The body must be {"config": {"metadata": {...}}}')
    for key, value in given.items():
        if isinstance(value, (dict, list)):
            raise ApiError(400, "BadRequestError", f"Metadata is flat: {key!r} holds an object")
    if state.wire.metadata_put == "merge":
        given = {**(state.metadata.get(tenant) or {}), **given}
    state.metadata[tenant] = dict(given)
    return answer_write(state, tenant, number, {})

"""Schedules per tenant x flow: ``GET/PUT/DELETE /{env}/{flow}/{tenant}/jobs/schedule``.

PUT takes the documented body [C docs jobs-schedule] and answers ``{}``; GET answers an
EventBridge rule's description in PascalCase (``ScheduleExpression``, ``State``, as hotglue's
widget reads it [C-code]; ``Name``, ``Arn``, ``EventBusName`` [I]); DELETE answers 200 "Sync
schedule cleared" [C-code]. With no schedule, GET answers 200 ``{}`` or a 404
(``Wire.no_schedule``) [I]. Expressions are checked as EventBridge checks them: 6-field
``cron(...)`` or ``rate(N unit)`` [I: what hotglue accepts beyond that is unknown].
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._bodies import parse_json
from ._state import AnswerLost, ApiError, SandboxState, json_response
from ._world import World

__all__ = ["answer_write", "delete_schedule", "get_schedule", "put_schedule", "seed_schedules"]

Schedule = dict[str, str]  # {"ScheduleExpression": ..., "State": ...}
FIELDS = {"schedule_expression": str, "state": str, "job_type": str, "connector_id": str,
          "override_start_date": str, "override_selected_tables": list,
          "override_field_map": dict, "environment_variables": dict}  # fmt: skip
CRON = re.compile(r"cron\((\S+ ){5}\S+\)")
RATE = re.compile(r"rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)")
SEEDED = ["cron(0 3 * * ? *)", "cron(30 */6 * * ? *)", "rate(1 day)", "cron(15 1 ? * MON-FRI *)"]


def seed_schedules(world: World, seed: int) -> dict[tuple[str, str], Schedule]:
    """The demo's schedules: per linked tenant x flow, about 60 % enabled, 15 % disabled,
    25 % none (a pure function of the seed)."""
    out: dict[tuple[str, str], Schedule] = {}
    for tenant, info in world.tenants.items():
        for flow_id in [*info.get("flows", []), *info.get("connectors", {})]:
            dice = hashlib.blake2b(f"{seed}|{tenant}|{flow_id}".encode(), digest_size=4).digest()
            roll = int.from_bytes(dice, "big") / 2**32
            if roll < 0.75:
                state = "ENABLED" if roll < 0.6 else "DISABLED"
                expression = SEEDED[int(roll * 1000) % len(SEEDED)]
                out[(flow_id, tenant)] = {"ScheduleExpression": expression, "State": state}
    return out


def _view(state: SandboxState, flow_id: str, tenant: str, schedule: Schedule) -> dict[str, str]:
    name = f"hotglue-{state.world.env_id}-{flow_id}-{tenant}"[:64]
    return {"Name": name, "Arn": f"arn:aws:events:us-east-1:000000000000:rule/{name}",
            "EventBusName": "default", **schedule}  # fmt: skip


async def get_schedule(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    schedule = state.schedules.get((flow_id, tenant))
    if schedule is None:
        if state.wire.no_schedule == "404":
            raise ApiError(404, "NotFoundError", f"No schedule for tenant {tenant!r}")
        return json_response({})
    return json_response(_view(state, flow_id, tenant, schedule))


async def put_schedule(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    body = _body(await request.body())
    state.schedules[(flow_id, tenant)] = {
        "ScheduleExpression": body["schedule_expression"],
        "State": body.get("state", "ENABLED"),
    }
    return answer_write(state, tenant, number, {})


async def delete_schedule(
    state: SandboxState, request: Request, flow_id: str, tenant: str, *, number: int
) -> Response:
    state.schedules.pop((flow_id, tenant), None)
    return answer_write(state, tenant, number, {"message": "Sync schedule cleared"})


def answer_write(state: SandboxState, tenant: str, number: int, body: dict[str, Any]) -> Response:
    """The write is done; the ``lose_answer`` fault then drops the answer mid-way."""
    if state.faults.hits(tenant, number, "lose_answer"):
        return _Dropped()
    return json_response(body)


class _Dropped(Response):
    """Starts a 200 answer, sends a piece of it, then drops the connection."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"mess', "more_body": True})
        raise AnswerLost("the sandbox dropped this answer on purpose (lose_answer fault)")


def _body(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequestError", "The body must be a JSON object")
    for name, value in body.items():
        kind = FIELDS.get(name)
        if kind is None:
            raise ApiError(400, "BadRequestError", f"Unknown field {name!r}")
        if value is not None and not isinstance(value, kind):
            raise ApiError(400, "BadRequestError", f"{name} must be a {kind.__name__}")
    expression = body.get("schedule_expression")
    if not isinstance(expression, str) or not (CRON.fullmatch(expression)
                                               or RATE.fullmatch(expression)):  # fmt: skip
        raise ApiError(400, "BadRequestError",
                       f"Invalid schedule_expression {expression!r}")  # fmt: skip
    if body.get("state", "ENABLED") not in ("ENABLED", "DISABLED"):
        raise ApiError(400, "BadRequestError", "state must be ENABLED or DISABLED")
    return body

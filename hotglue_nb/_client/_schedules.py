"""A tenant's schedule of a flow: ``GET / PUT / DELETE /{env}/{flow}/{tenant}/jobs/schedule``.

The PUT body is documented (``schedule_expression``, ``state``) [C]; GET answers an
EventBridge rule in PascalCase (``ScheduleExpression``, ``State``) as hotglue's widget reads
it [C-code] — snake_case is read too [I]; DELETE is the widget's [C-code]. What GET answers
for a tenant without a schedule is unknown [I]: a 200 without an expression and a 404 both
read as "no schedule".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._endpoints import ENDPOINTS
from .._exceptions import NotFoundError
from ._async import AsyncHotglue

__all__ = ["Schedule", "delete_schedule", "get_schedule", "put_schedule"]


@dataclass(frozen=True)
class Schedule:
    """A schedule as the API describes it; ``expression`` None: the tenant has none."""

    expression: str | None = None
    state: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def exists(self) -> bool:
        return self.expression is not None

    @classmethod
    def from_api(cls, data: Any) -> Schedule:
        if not isinstance(data, dict):
            return cls()
        expression = data.get("ScheduleExpression", data.get("schedule_expression"))
        if not isinstance(expression, str) or not expression:
            return cls(raw=dict(data))
        state = data.get("State", data.get("state"))
        return cls(expression, str(state) if state else "ENABLED", dict(data))


async def get_schedule(client: AsyncHotglue, flow_id: str, tenant: str) -> Schedule:
    """The tenant's schedule of ``flow_id`` (an empty ``Schedule`` when it has none)."""
    try:
        answer = await client._call(ENDPOINTS["get_schedule"], flow_id, tenant)
    except NotFoundError:  # no schedule [I] (or no such link: a PUT would say so)
        return Schedule()
    return Schedule.from_api(answer.json())  # an empty body: no schedule either [I]


async def put_schedule(
    client: AsyncHotglue, flow_id: str, tenant: str, schedule: Schedule,
    connector_id: str | None = None,
) -> None:  # fmt: skip
    """Create or replace the schedule (the expression and state, as given)."""
    body: dict[str, Any] = {"schedule_expression": schedule.expression, "state": schedule.state}
    if connector_id is not None:
        body["connector_id"] = connector_id
    await client._call(ENDPOINTS["put_schedule"], flow_id, tenant, json_body=body)


async def delete_schedule(client: AsyncHotglue, flow_id: str, tenant: str) -> None:
    """Remove the schedule."""
    await client._call(ENDPOINTS["delete_schedule"], flow_id, tenant)

"""A tenant's schedule of a flow as ``GET / PUT / DELETE /{env}/{flow}/{tenant}/jobs/schedule``
describe it (the calls are ``AsyncHotglue.get_schedule`` / ``put_schedule`` /
``delete_schedule``).

The PUT body is documented (``schedule_expression``, ``state``) [C]; GET answers an
EventBridge rule in PascalCase (``ScheduleExpression``, ``State``) as hotglue's widget reads
it [C-code] — snake_case is read too [I]; DELETE is the widget's [C-code]. What GET answers
for a tenant without a schedule is unknown [I]: a 200 without an expression and a 404 both
read as "no schedule".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Schedule"]


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

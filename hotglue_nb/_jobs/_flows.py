"""Before hundreds of 404s: a POST answered 404 while no job of its flow has been created is
checked against the environment's flows list (``GET /{env_id}/flows/supported`` [C-code]).

hotglue's 404 says only "Resource not found" [C], for a missing environment, flow, tenant or
link alike, so only the list can tell a wrong ``flow_id`` from a tenant that has not linked
it. A flow not in the list (or an environment whose list is a 404) stops the rows of that
flow not sent yet; the run then raises, carrying its frame. Whether the list names two-way
flows is [I]: a V2 flow is judged missing only when the list names a two-way flow at all.
"""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import ConfigError, HotglueError, NotFoundError
from ._plan import RowPlan

__all__ = ["FlowCheck"]

Flows = list[dict[str, Any]] | None  # None: the list could not be read (nothing is concluded)


@dataclass
class FlowCheck:
    """What a launch knows of its flows: those with a job created, those proven missing."""

    seen: set[tuple[str, str]] = field(default_factory=set)
    missing: dict[tuple[str, str], str] = field(default_factory=dict)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)  # rows stopped per flow
    _lists: dict[str, asyncio.Task[Flows | NotFoundError]] = field(default_factory=dict)

    def created(self, plan: RowPlan) -> None:
        self.seen.add((plan.env_id, plan.flow_id))

    def stopped(self, plan: RowPlan) -> str | None:
        """Why the row is not sent (its flow is missing), or None."""
        key = (plan.env_id, plan.flow_id)
        why = self.missing.get(key)
        if why is not None:
            self.rows[key] = self.rows.get(key, 0) + 1
        return why

    async def after_404(self, plan: RowPlan, client: Any) -> None:
        """A POST of ``plan`` was answered 404: is its flow (or environment) there at all?"""
        key = (plan.env_id, plan.flow_id)
        if key in self.seen or key in self.missing:
            return
        task = self._lists.get(plan.env_id)
        if task is None:  # one list per environment, however many 404s arrive at once
            task = self._lists[plan.env_id] = asyncio.ensure_future(_read(client))
        found = await task
        why = _verdict(found, plan)
        if why is not None and key not in self.seen:
            self.missing[key] = why
            self.rows[key] = self.rows.get(key, 0) + 1

    def error(self) -> ConfigError | None:
        """The run-wide error to raise at the end, naming every missing flow and the fix."""
        if not self.missing:
            return None
        parts = [f"{why}; no job was started for its {self.rows.get(key, 0)} row(s)"
                 for key, why in self.missing.items()]  # fmt: skip
        return ConfigError("; ".join(parts) + ". Fix flow_id= / env_id= (or the rows' "
                           "flow_id / env_id column) and launch again.")  # fmt: skip


async def _read(client: Any) -> Flows | NotFoundError:
    try:
        return list(await client.supported_flows())
    except NotFoundError as exc:
        return exc
    except HotglueError:  # the list is not readable: nothing is concluded, rows go on
        return None


def _verdict(found: Flows | NotFoundError, plan: RowPlan) -> str | None:
    if isinstance(found, NotFoundError):
        return (f"environment {plan.env_id!r} was not found (GET /{plan.env_id}/flows/"
                "supported answered 404)")  # fmt: skip
    if not found:
        return None
    ids = {str(flow.get("id")): flow for flow in found if isinstance(flow, dict)}
    two_way = any(flow.get("version") == 2 for flow in ids.values())
    if plan.flow_id in ids or (plan.connector_id is not None and not two_way):
        return None
    return f"flow {plan.flow_id!r} is not a flow of environment {plan.env_id!r}" + _hint(
        plan.flow_id, ids
    )


def _hint(flow_id: str, flows: dict[str, dict[str, Any]]) -> str:
    names = {str(flow.get("name") or ""): fid for fid, flow in flows.items()}
    close = difflib.get_close_matches(flow_id, list(flows), n=1, cutoff=0.6)
    named = difflib.get_close_matches(flow_id, [n for n in names if n], n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if named:
        return f" (did you mean {names[named[0]]!r}, the flow named {named[0]!r}?)"
    shown = ", ".join(f"{fid!r} ({flow.get('name')})" if flow.get("name") else repr(fid)
                      for fid, flow in list(flows.items())[:8])  # fmt: skip
    return f" (its flows: {shown})"

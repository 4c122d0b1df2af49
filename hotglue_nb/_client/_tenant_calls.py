"""``AsyncHotglue``'s calls on a tenant's own resources — its schedule of a flow, its config
and metadata, a link's sync state — kept apart from the job calls (``_async``)."""

from __future__ import annotations

from typing import Any

from .._endpoints import ENDPOINTS, Endpoint
from .._exceptions import NotFoundError
from ._answers import Answer
from ._metadata import Metadata
from ._schedules import Schedule
from ._state import SyncState

__all__ = ["TenantCalls"]


class TenantCalls:
    """Schedules, metadata and state; mixed into ``AsyncHotglue``."""

    async def _call(
        self, ep: Endpoint, flow_id: str | None = None, tenant: str | None = None, *,
        params: dict[str, str] | None = None, json_body: dict[str, Any] | None = None,
    ) -> Answer:  # fmt: skip
        raise NotImplementedError  # AsyncHotglue's

    async def get_schedule(self, flow_id: str, tenant: str) -> Schedule:
        """The tenant's schedule of ``flow_id``: ``GET .../jobs/schedule`` (PascalCase
        [C-code]); an empty ``Schedule`` when it has none (a 200 without an expression, or
        a 404 that says so [I]; any other 404 — the flow, the tenant — raises)."""
        try:
            answer = await self._call(ENDPOINTS["get_schedule"], flow_id, tenant)
        except NotFoundError as exc:  # a missing flow, tenant or link is not "no schedule"
            if "schedule" in (exc.api_message or "").lower():
                return Schedule()
            raise
        return Schedule.from_api(answer.json())

    async def put_schedule(
        self, flow_id: str, tenant: str, schedule: Schedule, connector_id: str | None = None
    ) -> None:
        """Create or replace the schedule: ``PUT .../jobs/schedule`` with
        ``schedule_expression`` and ``state`` [C] (and ``connector_id``, two-way [I])."""
        body: dict[str, Any] = {"schedule_expression": schedule.expression,
                                "state": schedule.state}  # fmt: skip
        if connector_id is not None:
            body["connector_id"] = connector_id
        await self._call(ENDPOINTS["put_schedule"], flow_id, tenant, json_body=body)

    async def delete_schedule(self, flow_id: str, tenant: str) -> None:
        """Remove the schedule: ``DELETE .../jobs/schedule`` [C-code]."""
        await self._call(ENDPOINTS["delete_schedule"], flow_id, tenant)

    async def tenant_config(self, tenant: str) -> dict[str, Any] | None:
        """The tenant config (``GET /tenant/{env}/{tenant}/config`` [C-code]); None when the
        tenant has none (hotglue says "no config for the tenant" [C-code], a 404 [I])."""
        try:
            answer = await self._call(ENDPOINTS["tenant_config"], None, tenant)
        except NotFoundError as exc:
            if "no config" in (exc.api_message or str(exc)).lower():
                return None
            raise
        data = answer.json()
        return data if isinstance(data, dict) else {}

    async def put_metadata(self, tenant: str, metadata: Metadata) -> None:
        """Replace the tenant's metadata: ``PUT /tenant/{env}/{tenant}/metadata`` with
        ``{"config": {"metadata": ...}}`` [C-code]."""
        body = {"config": {"metadata": metadata}}
        await self._call(ENDPOINTS["put_metadata"], None, tenant, json_body=body)

    async def get_state(
        self, flow_id: str, tenant: str, connector_id: str | None = None
    ) -> SyncState:
        """A link's sync state ({} when none): ``.../linkedSources/state`` [C-code], or a V2
        connector's ``/v2/.../linkedConnectors/state?connector_id=`` [I: 3P]."""
        if connector_id is None:
            answer = await self._call(ENDPOINTS["get_state"], flow_id, tenant)
        else:
            answer = await self._call(ENDPOINTS["get_state_v2"], flow_id, tenant,
                                      params={"connector_id": connector_id})  # fmt: skip
        data = answer.json()
        return data if isinstance(data, dict) else {}

    async def put_state(
        self, flow_id: str, tenant: str, connector_id: str, state: SyncState
    ) -> None:
        """Write a V2 connector's state back: ``PUT /v2/.../linkedConnectors/state`` with
        ``{"state": ...}`` [I: 3P]. No V1 write is known."""
        params = {"connector_id": connector_id}
        await self._call(ENDPOINTS["put_state_v2"], flow_id, tenant, params=params,
                         json_body={"state": state})  # fmt: skip

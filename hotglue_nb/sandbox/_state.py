"""The sandbox's live state and its error answers, shared by the routes and the app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from ._faults import FaultPlan, TokenBucket
from ._job import SandboxJob
from ._jobs import JobStore
from ._wire import Wire
from ._world import World

__all__ = ["AnswerLost", "ApiError", "SandboxState", "error_response", "json_response"]


class AnswerLost(Exception):
    """Raised inside the app to drop a connection mid-answer (the ``lose_answer`` fault)."""


class ApiError(Exception):
    def __init__(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ):
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
    wire: Wire = field(default_factory=Wire)
    #: (flow_id, tenant) -> {"ScheduleExpression": ..., "State": ...}
    schedules: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    #: tenant -> its metadata (None: the tenant has no config)
    metadata: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: (flow_id, tenant, connector_id or None) -> its Singer state
    bookmarks: dict[tuple[str, str, str | None], dict[str, Any]] = field(default_factory=dict)

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


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json")


def error_response(
    status: int, code: str | None, message: str, headers: dict[str, str] | None
) -> Response:
    """hotglue's Chalice body ``{"Code", "Message"}``; with no code, API Gateway's own
    ``{"message"}`` [I: AWS]."""
    body = {"Code": code, "Message": message} if code is not None else {"message": message}
    response = json_response(body, status=status)
    response.headers.update(headers or {})
    return response

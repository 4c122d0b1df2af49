"""A tiny scriptable hotglue for launch unit tests (httpx.MockTransport handler)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

KEY = "sk-test-secret"
ENV = "env.example"
FLOW = "flowAAAAA"

Script = Callable[[str, int], httpx.Response | Exception | str | None]


class FakeAPI:
    """Creates jobs on POST (unless the script says otherwise) and lists them on GET.

    ``script(tenant, attempt)`` may return a Response (sent instead, no job created),
    an Exception (raised, no job created), "lost" (job created, then ReadTimeout),
    "broken" (job created, unreadable 200) or None (normal 200).
    """

    def __init__(self, script: Script | None = None, *, delay: float = 0.0) -> None:
        self.script = script or (lambda tenant, attempt: None)
        self.delay = delay
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.gets: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.list_script: Callable[[str], httpx.Response | None] = lambda tenant: None
        self.on_post: Callable[[str, dict[str, Any]], None] | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != KEY:
            return httpx.Response(
                401, json={"Code": "UnauthorizedError", "Message": "Invalid x-api-key"}
            )
        parts = [unquote(p) for p in request.url.raw_path.decode().split("?")[0].split("/")[1:]]
        tenant = parts[2]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if request.method == "GET":
                self.gets.append(tenant)
                return self.list_script(tenant) or httpx.Response(
                    200, json=self.jobs.get(tenant, [])
                )
            return self._post(tenant, json.loads(request.content or b"{}"))
        finally:
            self.in_flight -= 1

    def _post(self, tenant: str, body: dict[str, Any]) -> httpx.Response:
        self.posts.append((tenant, body))
        if self.on_post is not None:
            self.on_post(tenant, body)
        attempt = sum(1 for t, _ in self.posts if t == tenant)
        action = self.script(tenant, attempt)
        if isinstance(action, httpx.Response):
            return action
        if isinstance(action, Exception):
            raise action
        job = self._create(tenant, body)
        if action == "lost":
            raise httpx.ReadTimeout("lost")
        if action == "broken":
            return httpx.Response(200, text=json.dumps(job)[:20])
        return httpx.Response(200, json=job)

    def _create(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        n = sum(len(v) for v in self.jobs.values())
        job = {
            "job_id": f"j{n:05d}",
            "job_name": f"{body.get('job_name', 'auto')}:SUFFIX{n:03d}",
            "tenant": tenant,
            "flow_id": FLOW,
            "env_id": ENV,
            "s3_root": f"{tenant}/flows/{FLOW}/jobs/2024/01/1/01/00/j{n:05d}",
            "status": "JOB_CREATED",
            "message": "created",
        }
        self.jobs.setdefault(tenant, []).append(job)
        return job

    def job_count(self, tenant: str | None = None) -> int:
        if tenant is not None:
            return len(self.jobs.get(tenant, []))
        return sum(len(v) for v in self.jobs.values())


def error(status: int, message: str = "nope", retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return httpx.Response(status, json={"Code": "X", "Message": message}, headers=headers)

"""The API client: AsyncHotglue (one method per endpoint) and its blocking twin Hotglue.

Usage:
    >>> async with AsyncHotglue() as client:           # HOTGLUE_API_KEY / HOTGLUE_ENV_ID
    ...     job = await client.run_job("l8odS2mce", "acme", override_start_date="2024-01-01")
    >>> Hotglue().list_tenants()                       # blocking; also inside Jupyter
"""

from __future__ import annotations

import json
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._config import DEFAULT_TIMEOUT, MASK, Credentials, resolve_credentials
from ._exceptions import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ConfigError,
    make_status_error,
)
from ._models import Job, QueuedJob, build_body
from ._paths import api_path
from ._runner import run_sync
from ._version import __version__

__all__ = ["AsyncHotglue", "Hotglue"]

T = TypeVar("T")


class AsyncHotglue:
    """Async client of the hotglue jobs API.

    **Parameters:**

    * **api_key**, **env_id**, **base_url** - else ``HOTGLUE_API_KEY``, ``HOTGLUE_ENV_ID``,
      ``HOTGLUE_BASE_URL`` (default ``https://api.hotglue.com``).
    * **timeout** - seconds per request (httpx.Timeout accepted).
    * **max_connections** - size of the connection pool.
    * **transport** - an httpx transport (``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        api_key: str | None = None,
        env_id: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.credentials: Credentials = resolve_credentials(api_key, env_id, base_url)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    @property
    def env_id(self) -> str:
        return self.credentials.env_id

    @property
    def base_url(self) -> str:
        return self.credentials.base_url

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(env_id={self.env_id!r}, base_url={self.base_url!r}, api_key={MASK!r})"

    async def __aenter__(self) -> AsyncHotglue:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def run_job(self, flow_id: str, tenant: str, **body: Any) -> Job | QueuedJob:
        """Start a job: ``POST /{env_id}/{flow_id}/{tenant}/jobs``.

        Body fields are keyword arguments checked against the documented fields. Returns a
        Job (200), or a QueuedJob (202) when it waits behind a running job. Not idempotent:
        this method never retries.
        """
        return await self._send_job(self._path(flow_id, tenant, "jobs"), tenant, build_body(body))

    async def _send_job(self, path: str, tenant: str, payload: dict[str, Any]) -> Job | QueuedJob:
        """POST an already validated body to an already encoded path (the launcher checks
        every row up front)."""
        data = await self._request("POST", path, tenant=str(tenant), json_body=payload)
        if data.status_code == 202:
            return QueuedJob.from_api(_as_dict(data))
        return Job.from_api(_as_dict(data))

    async def get_job_status(self, flow_id: str, tenant: str, job_root: str) -> Job:
        """Poll one job: ``GET /{env_id}/{flow_id}/{tenant}/jobs/status?job_root=``."""
        if not isinstance(job_root, str) or not job_root.strip():
            raise ConfigError(f"job_root must be the job's s3_root string, got {job_root!r}.")
        path = self._path(flow_id, tenant, "jobs", "status")
        data = await self._request("GET", path, tenant=str(tenant), params={"job_root": job_root})
        return Job.from_api(_as_dict(data))

    async def list_jobs(self, flow_id: str, tenant: str) -> list[Job]:
        """All jobs of a tenant in a flow: ``GET /{env_id}/{flow_id}/{tenant}/jobs``."""
        data = await self._request("GET", self._path(flow_id, tenant, "jobs"), tenant=str(tenant))
        return [Job.from_api(item) for item in _as_list(data) if isinstance(item, dict)]

    async def list_tenants(self) -> list[str]:
        """Tenant ids of the environment: ``GET /tenants/{env_id}``."""
        path = api_path("tenants", (self.env_id, "env_id"))
        data = await self._request("GET", path, tenant=None)
        return [str(item) for item in _as_list(data)]

    async def linked_sources(
        self,
        flow_id: str,
        tenant: str,
        *,
        catalog: bool = False,
        tap: str | None = None,
        config: bool = False,
    ) -> list[dict[str, Any]]:
        """Linked sources with their ``fieldMap`` (and Singer ``catalog`` / ``config`` when
        asked): ``GET /{env_id}/{flow_id}/{tenant}/linkedSources``."""
        params: dict[str, str] = {"catalog": "true"} if catalog else {}
        if config:
            params["config"] = "true"
        if tap is not None:
            params["tap_name"] = tap
        path = self._path(flow_id, tenant, "linkedSources")
        data = await self._request("GET", path, tenant=str(tenant), params=params)
        return [item for item in _as_list(data) if isinstance(item, dict)]

    def _path(self, flow_id: str, tenant: str, *tail: str) -> str:
        return api_path((self.env_id, "env_id"), (flow_id, "flow_id"), (tenant, "tenant"), *tail)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers={
                    "x-api-key": self.credentials.api_key,
                    "user-agent": f"hotglue-nb/{__version__}",
                },
                timeout=self._timeout,
                limits=self._limits,
                transport=self._transport,
            )
        return self._http

    async def _request(
        self,
        method: str,
        path: str,
        *,
        tenant: str | None,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> _Answer:
        """Send one request; map transport failures and error statuses to HotglueErrors."""
        try:
            response = await self._client().request(method, path, params=params, json=json_body)
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"{method} {path} timed out (tenant={tenant!r}): {type(exc).__name__}",
                method=method,
                path=path,
                tenant=tenant,
                cause=exc,
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"{method} {path} failed (tenant={tenant!r}): {type(exc).__name__}: {exc}",
                method=method,
                path=path,
                tenant=tenant,
                cause=exc,
            ) from exc
        if response.status_code >= 400:
            raise make_status_error(response, method=method, path=path, tenant=tenant)
        return _Answer(response, method, path, tenant)


class _Answer:
    """A success response whose JSON is parsed on demand (unreadable -> APIResponseError)."""

    def __init__(self, response: httpx.Response, method: str, path: str, tenant: str | None):
        self.status_code = response.status_code
        self._response = response
        self._where = (method, path, tenant)

    def json(self) -> Any:
        try:
            return json.loads(self._response.content) if self._response.content else None
        except ValueError:
            method, path, tenant = self._where
            raise APIResponseError(
                f"{method} {path} -> {self.status_code} with a body that is not JSON "
                f"(tenant={tenant!r}): {self._response.text[:200]!r}",
                method=method,
                path=path,
                tenant=tenant,
                status_code=self.status_code,
            ) from None


def _as_dict(answer: _Answer) -> dict[str, Any]:
    data = answer.json()
    return data if isinstance(data, dict) else {}


def _as_list(answer: _Answer) -> list[Any]:
    data = answer.json()
    return data if isinstance(data, list) else []


class Hotglue:
    """Blocking client with the same methods as AsyncHotglue.

    Works in scripts and inside Jupyter's running event loop: calls run on a dedicated
    event-loop thread, not by patching asyncio. Use as a context manager or call close().
    """

    def __init__(
        self,
        api_key: str | None = None,
        env_id: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.aio = AsyncHotglue(
            api_key,
            env_id,
            base_url,
            timeout=timeout,
            max_connections=max_connections,
            transport=transport,
        )

    @property
    def credentials(self) -> Credentials:
        return self.aio.credentials

    @property
    def env_id(self) -> str:
        return self.aio.env_id

    @property
    def base_url(self) -> str:
        return self.aio.base_url

    def __repr__(self) -> str:
        return f"Hotglue(env_id={self.env_id!r}, base_url={self.base_url!r}, api_key={MASK!r})"

    def __enter__(self) -> Hotglue:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._run(self.aio.aclose())

    def run_job(self, flow_id: str, tenant: str, **body: Any) -> Job | QueuedJob:
        """Start a job (see AsyncHotglue.run_job)."""
        return self._run(self.aio.run_job(flow_id, tenant, **body))

    def get_job_status(self, flow_id: str, tenant: str, job_root: str) -> Job:
        """Poll one job by its job_root (s3_root)."""
        return self._run(self.aio.get_job_status(flow_id, tenant, job_root))

    def list_jobs(self, flow_id: str, tenant: str) -> list[Job]:
        """All jobs of a tenant in a flow."""
        return self._run(self.aio.list_jobs(flow_id, tenant))

    def list_tenants(self) -> list[str]:
        """Tenant ids of the environment."""
        return self._run(self.aio.list_tenants())

    def linked_sources(
        self,
        flow_id: str,
        tenant: str,
        *,
        catalog: bool = False,
        tap: str | None = None,
        config: bool = False,
    ) -> list[dict[str, Any]]:
        """Linked sources with their fieldMap (and catalog / config when asked)."""
        coro = self.aio.linked_sources(flow_id, tenant, catalog=catalog, tap=tap, config=config)
        return self._run(coro)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return run_sync(coro)

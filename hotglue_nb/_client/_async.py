"""AsyncHotglue: one method per endpoint of the hotglue API.

Usage:
    >>> async with AsyncHotglue() as client:           # HOTGLUE_API_KEY / HOTGLUE_ENV_ID
    ...     job = await client.run_job("l8odS2mce", "acme", override_start_date="2024-01-01")

The client owns its requests: GETs are retried (``max_retries``, ``Retry-After`` honoured,
exponential back-off with jitter); the launch POST never is (job creation is not
idempotent [C]: the launch engine decides). ``with_options`` gives a sibling that shares the
connection pool, e.g. for another environment or a run's shared pacing.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import os
import random
from types import TracebackType
from typing import Any, TypedDict, Unpack, cast
from urllib.parse import urlencode

import httpx

from .._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_TRANSPORT,
    MASK,
    Credentials,
    resolve_credentials,
)
from .._endpoints import (
    ENDPOINTS,
    Endpoint,
    JobBody,
    build_body,
    job_query,
    segment,
    version_problems,
)
from .._exceptions import APIError, ConfigError, HotglueError, NotFoundError, make_status_error
from .._models import Job, QueuedJob
from .._types import Sleep
from ._answers import (
    JSON_HEADER,
    Answer,
    Body,
    Light,
    encode,
    encoded,
    started,
    transport_error,
)
from ._limits import as_timeout, check_retries, total_seconds, within
from ._pacing import Pacer
from ._pool import Pool, headers
from ._retry import back_off, get_is_retryable
from ._tenant_calls import TenantCalls

__all__ = ["AsyncHotglue", "ClientOptions", "SiblingOptions"]


class ClientOptions(TypedDict, total=False):
    """The keywords of a client beyond its credentials (see ``AsyncHotglue``)."""

    timeout: float | httpx.Timeout
    max_connections: int
    max_retries: int
    transport: httpx.AsyncBaseTransport | str | None
    http_client: httpx.AsyncClient | None
    sleep: Sleep | None


class SiblingOptions(TypedDict, total=False):
    """What a sibling may change (see ``AsyncHotglue.with_options``)."""

    env_id: str | None
    timeout: float | httpx.Timeout | None
    max_retries: int | None
    max_connections: int | None
    pacer: Pacer | None
    sleep: Sleep | None


class AsyncHotglue(TenantCalls):
    """Async client of the hotglue jobs API.

    **Parameters:**

    * **api_key**, **env_id**, **base_url** - else ``HOTGLUE_API_KEY``, ``HOTGLUE_ENV_ID``,
      ``HOTGLUE_BASE_URL`` (default ``https://api.hotglue.com``).
    * **timeout** - seconds per request (httpx.Timeout accepted).
    * **max_connections** - size of the connection pool.
    * **max_retries** - extra tries of a GET after a transient failure (default 2).
    * **transport** - ``"aiohttp"`` (default: httpx's API over aiohttp's faster pool),
      ``"httpx"`` (plain httpx), or an httpx transport (``httpx.MockTransport`` in tests);
      else ``HOTGLUE_TRANSPORT``.
    * **http_client** - your own ``httpx.AsyncClient`` (used as given, on its event loop).
    * **sleep** - the coroutine used to wait between retries (inject a fake one in tests).
    """

    def __init__(
        self,
        api_key: str | None = None,
        env_id: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | str | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.credentials: Credentials = resolve_credentials(api_key, env_id, base_url)
        self._timeout = as_timeout(timeout)
        self.max_retries = check_retries(max_retries)
        transport = transport or os.environ.get(ENV_TRANSPORT) or None
        _check_transport(transport, http_client)
        self._pool = Pool(self.credentials, max_connections, transport, http_client)
        self._set_fast_headers()
        self._owns_pool = True
        self._pacer: Pacer | None = None
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = random.Random()

    def _set_fast_headers(self) -> None:
        base = headers(self.credentials.api_key)
        self._fast_headers_get = base
        self._fast_headers = {**base, "content-type": "application/json"}
        self._timeouts = self._timeout.as_dict()
        self._total = total_seconds(self._timeout)

    @property
    def env_id(self) -> str:
        return self.credentials.env_id

    @property
    def base_url(self) -> str:
        return self.credentials.base_url

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(env_id={self.env_id!r}, base_url={self.base_url!r}, api_key={MASK!r})"

    def with_options(
        self,
        *,
        env_id: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        max_connections: int | None = None,
        pacer: Pacer | None = None,
        sleep: Sleep | None = None,
    ) -> AsyncHotglue:
        """A sibling client that shares this one's connection pool and key.

        ``env_id``, ``timeout``, ``max_retries`` and ``sleep`` change per sibling; ``pacer``
        makes every request wait for a shared rate and pause. A larger ``max_connections``
        needs a pool of its own (httpx pools have a fixed size): the sibling then opens one,
        and closing the sibling closes only that. The original is never changed.
        """
        twin = copy.copy(self)
        twin._owns_pool = False
        if env_id is not None:
            segment(env_id, "env_id")
            twin.credentials = dataclasses.replace(self.credentials, env_id=env_id)
        if timeout is not None:
            twin._timeout = as_timeout(timeout)
            twin._set_fast_headers()
        if max_retries is not None:
            twin.max_retries = check_retries(max_retries)
        if max_connections is not None and max_connections > self._pool.size:
            twin._pool, twin._owns_pool = self._pool.resized(max_connections), True
        twin._pacer = pacer if pacer is not None else self._pacer
        twin._sleep = sleep or self._sleep
        return twin

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
        """Close the connection pool (a sibling closes only a pool of its own)."""
        if self._owns_pool:
            await self._pool.aclose()

    async def run_job(
        self, /, flow_id: str, tenant: str, **fields: Unpack[JobBody]
    ) -> Job | QueuedJob:
        """Start a job: ``POST /{env_id}/{flow_id}/{tenant}/jobs``, or, when the body names a
        ``connector_id``, a two-way (V2) job: ``POST /v2/{env_id}/{flow_id}/{tenant}/jobs``
        with ``job_type='read'`` or ``'write'`` (a write job's records go in ``state``).

        Body fields are keyword arguments checked against the documented fields of that
        version. Returns a Job (200), or a QueuedJob (202) when it waits behind a running
        job. Not idempotent: this method never retries.
        """
        given = cast(dict[str, Any], fields)
        body = {k: v for k, v in given.items() if v is not None}  # None: the field is not sent
        name, problems = version_problems(body)  # V1 or V2, job_type lower-cased
        if problems:
            raise ConfigError(problems[0])
        ep = ENDPOINTS[name]
        payload = build_body(body, ep.body)
        return started(await self._call(ep, flow_id, tenant, json_body=payload))

    async def _post_job(self, path: str, tenant: str, payload: bytes) -> Job | QueuedJob:
        """``run_job`` for a row planned ahead: its POST path and JSON body made once (the
        launch's hot path; the plan validated both)."""
        return started(await self._request("POST", path, tenant, None, payload))

    async def get_job_status(self, flow_id: str, tenant: str, job_root: str) -> Job:
        """Poll one job, V1 or V2: ``GET /{env_id}/{flow_id}/{tenant}/jobs/status?job_root=``
        (hotglue's widget polls V2 jobs on this un-prefixed path too [C-code])."""
        if not isinstance(job_root, str) or not job_root.strip():
            raise ConfigError(f"job_root must be the job's s3_root string, got {job_root!r}.")
        params = {"job_root": job_root}
        answer = await self._call(ENDPOINTS["get_job_status"], flow_id, tenant, params=params)
        return Job.from_api(answer.json_dict())

    async def list_jobs(
        self, flow_id: str, tenant: str, *, tap: str | None = None,
        connector_id: str | None = None, count: int | None = None, v2: bool = False,
    ) -> list[Job]:  # fmt: skip
        """A tenant's recent jobs in a flow: ``GET /{env_id}/{flow_id}/{tenant}/jobs``.

        ``connector_id`` (a two-way flow) or ``tap`` (a V1 source) lists that entity's jobs,
        as hotglue's widget asks [C-code]; ``count`` asks for more jobs [I]. The list is
        probably short (hotglue's widget shows it as "the last 5 jobs" [I]): it is what the
        API returned, not the whole history. ``v2`` is accepted for compatibility and
        changes nothing: V2 jobs are listed on the same path.
        """
        del v2
        params = job_query(tap, connector_id, count)
        answer = await self._call(ENDPOINTS["list_jobs"], flow_id, tenant, params=params)
        return [Job.from_api(item) for item in answer.json_list() if isinstance(item, dict)]

    async def latest_job(
        self, flow_id: str, tenant: str, *, tap: str | None = None,
        connector_id: str | None = None, v2: bool = False,
    ) -> Job | None:  # fmt: skip
        """The tenant's last job in a flow (of ``connector_id`` / ``tap`` when given), or
        None before its first: ``GET /{env_id}/{flow_id}/{tenant}/jobs/latest``.

        How hotglue answers when there is no job yet is not documented [I]: an empty body,
        ``null``, ``{}`` or a 404 that says no job was found are all read as None. ``v2``
        changes nothing (kept for compatibility).
        """
        del v2
        params = job_query(tap, connector_id)
        try:
            answer = await self._call(ENDPOINTS["latest_job"], flow_id, tenant, params=params)
        except NotFoundError as exc:
            if "no job" in exc.api_message.lower():
                return None
            raise
        data = answer.json()
        return Job.from_api(data) if isinstance(data, dict) and data else None

    async def list_tenants(self) -> list[str]:
        """Tenant ids of the environment: ``GET /tenants/{env_id}``."""
        answer = await self._call(ENDPOINTS["list_tenants"])
        return [str(item) for item in answer.json_list()]

    async def supported_flows(self) -> list[dict[str, Any]]:
        """The environment's flows (``id``, ``name``, ``taps``, ``targets``; ``version`` 2 for
        a two-way flow): ``GET /{env_id}/flows/supported`` [C-code]."""
        answer = await self._call(ENDPOINTS["supported_flows"])
        return [item for item in answer.json_list() if isinstance(item, dict)]

    async def linked_connectors(
        self, flow_id: str, tenant: str, *, catalog: bool = False, connector_id: str | None = None,
        config: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """A two-way flow's linked connectors (each keyed ``id`` [C-code]) with their
        ``fieldMap`` (and ``catalog`` / ``config``, the saved selection among it, when asked):
        ``GET /v2/{env_id}/{flow_id}/{tenant}/linkedConnectors``."""
        params = {"catalog": "true" if catalog else None, "connector_id": connector_id}
        params["config"] = "true" if config else None
        kept = {k: v for k, v in params.items() if v is not None}
        answer = await self._call(ENDPOINTS["linked_connectors"], flow_id, tenant, params=kept)
        return [item for item in answer.json_list() if isinstance(item, dict)]

    async def linked_sources(
        self, flow_id: str, tenant: str, *, catalog: bool = False, tap: str | None = None,
        config: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Linked sources with their ``fieldMap`` (and Singer ``catalog`` / ``config`` when
        asked): ``GET /{env_id}/{flow_id}/{tenant}/linkedSources``."""
        params = {"catalog": "true" if catalog else None, "config": "true" if config else None}
        params["tap_name"] = tap
        kept = {k: v for k, v in params.items() if v is not None}
        answer = await self._call(ENDPOINTS["linked_sources"], flow_id, tenant, params=kept)
        return [item for item in answer.json_list() if isinstance(item, dict)]

    async def _call(
        self,
        ep: Endpoint,
        flow_id: str | None = None,
        tenant: str | None = None,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> Answer:
        """Send one call; a GET is tried again after a transient failure."""
        assert set(params or ()) <= set(ep.query), f"{ep.name}: query {params} not in the table"
        path = ep.url(env_id=self.env_id, flow_id=flow_id, tenant=tenant)
        return await self._request(ep.method, path, tenant, params, json_body)

    async def _request(
        self, method: str, path: str, tenant: str | None, params: dict[str, str] | None,
        body: Body,
    ) -> Answer:  # fmt: skip
        tries = 1 + (self.max_retries if method == "GET" else 0)
        for attempt in range(1, tries + 1):
            try:
                return await self._send(method, path, tenant, params, body)
            except HotglueError as exc:
                if attempt == tries or not get_is_retryable(exc):
                    raise
                await back_off(exc, attempt, rng=self._rng, sleep=self._sleep, pacer=self._pacer)
        raise AssertionError("unreachable")

    async def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json_body: Body,
    ) -> Any:
        """The HTTP exchange. On the default transport it goes straight to aiohttp: httpx's
        request, URL and header objects cost several times aiohttp's own CPU per request."""
        pool = self._pool
        fast = pool.fast()
        body = encode(json_body)
        if fast is None:
            headers = pool.headers if body is None else {**(pool.headers or {}), **JSON_HEADER}
            return await pool.get().request(
                method, pool.prefix + path, params=params, content=body, headers=headers,
                timeout=self._timeout,
            )  # fmt: skip
        url = self.base_url + path + ("?" + urlencode(params) if params else "")
        headers = self._fast_headers if body is not None else self._fast_headers_get
        status, raw, content = await fast.fetch(method, url, headers, body, self._timeouts)
        if 200 <= status < 300 and not encoded(raw):
            return Light(status, content)
        # httpx decodes what the server chose to encode (no Accept-Encoding is sent, so any
        # coding may come): gzip, deflate, and br / zstd when their packages are installed
        return httpx.Response(status, headers=raw, content=content,
                              request=httpx.Request(method, url))  # fmt: skip

    async def _send(
        self,
        method: str,
        path: str,
        tenant: str | None,
        params: dict[str, str] | None,
        json_body: Body,
    ) -> Answer:
        """One request; transport failures and error statuses become HotglueErrors."""
        if self._pacer is not None:
            await self._pacer.wait()
        key = self.credentials.api_key
        error: APIError | None = None
        try:
            response = await within(self._total, self._exchange(method, path, params, json_body))
        except httpx.RequestError as exc:  # transport failures, and an undecodable body
            error = transport_error(exc, method, path, tenant, key)
        if error is None and not 200 <= response.status_code < 300:  # a 3xx: nothing done
            error = make_status_error(response, method=method, path=path, tenant=tenant,
                                      secret=key, answered=self._pool.answered)  # fmt: skip
        if error is not None:
            raise error  # outside the except: no httpx exception (it holds the key) is chained
        self._pool.answered.add(method)
        if self._pacer is not None:
            self._pacer.speed_up()
        return Answer(response, method, path, tenant, key)


def _check_transport(transport: Any, http_client: Any) -> None:
    if transport not in (None, "aiohttp", "httpx") and not isinstance(
        transport, httpx.AsyncBaseTransport
    ):
        raise ConfigError(
            f"transport= is 'aiohttp' (default), 'httpx' or an httpx transport, got {transport!r}."
        )
    if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
        raise ConfigError(f"http_client= must be an httpx.AsyncClient, got {http_client!r}.")

"""The fleet's reads on the fan-out engine: every tenant's jobs, latest job or link health.

hotglue has no environment-wide job listing [C-code: hotglue's own clients fan out]: every
read names one tenant. So ``job_history`` is ``GET /tenants/{env}`` (when no tenants are
given) and then one ``GET .../jobs`` per tenant; ``latest_jobs`` one ``GET .../jobs/latest``;
``check_tenants`` one ``linkedSources`` and one ``jobs/latest`` per row. A tenant whose read
fails is data (``Read.error``), never an exception, except a refused key (401/403), which
stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from .._client import AsyncHotglue
from .._client._pacing import Pacer
from .._client._retry import decide
from .._exceptions import ConfigError, HotglueError, NotFoundError
from .._fanout import Event, Step, fan_out
from .._last_run import interrupted, stopped_by
from .._models import Job
from .._options import RunClients, WaitConfig, wait_config
from .._types import Tenants

__all__ = [
    "Operation",
    "Read",
    "ReadRun",
    "tenant_reads",
    "execute_reads",
    "prepare_reads",
    "read_health",
    "read_history",
    "read_latest",
]


@dataclass
class Read:
    """One tenant's read: what came back, or why nothing did."""

    row: int
    tenant: str
    flow_id: str
    data: Any = None
    error: str | None = None
    status: int | None = None
    connector_id: str | None = None  # a two-way (V2) flow: its connector's link and jobs
    exc: HotglueError | None = field(default=None, repr=False)  # why the read failed


@dataclass
class ReadRun:
    kind: str
    config: WaitConfig
    flow_id: str
    reads: list[Read] | None  # None until the environment's tenants are listed
    clients: RunClients
    pacer: Pacer
    refused: HotglueError | None = None  # the key was refused: every other read would be too
    connector_id: str | None = None  # the connector_id option (two-way flows)


def prepare_reads(
    kind: str, flow_id: str, tenants: Tenants | None, options: dict[str, Any]
) -> ReadRun:
    """Check the arguments and build the clients. Sends nothing."""
    if not isinstance(flow_id, str) or not flow_id.strip():
        raise ConfigError(f"flow_id must be the flow's id, got {flow_id!r}.")
    skipped = ("progress", "connector_id")
    names = {"history": "job_history", "latest": "latest_jobs", "check": "check_tenants"}
    opts = {k: v for k, v in options.items() if k not in skipped}
    config, _ = wait_config(opts, names.get(kind, kind))
    pacer = Pacer(config.rate_limit, clock=config.clock, sleep=config.sleep)
    clients = RunClients(config.connection, config, pacer)
    connector = options.get("connector_id")
    reads = None
    if tenants is not None:
        ids, connectors = _tenant_list(tenants, connector)
        if kind != "check":  # a tenant named twice is read once (its rows would double)
            ids, connectors = _once(ids, connectors)
        reads = _reads(ids, connectors, flow_id)
    run = ReadRun(kind, config, flow_id, reads, clients, pacer)
    run.connector_id = connector
    return run


def tenant_reads(tenants: Tenants, flow_id: str, connector: str | None = None) -> list[Read]:
    """One read per tenant of ``tenants`` (a tenant named twice: once); sends nothing."""
    ids, connectors = _once(*_tenant_list(tenants, connector))
    return _reads(ids, connectors, flow_id)


def _tenant_list(tenants: Tenants, connector: str | None) -> tuple[list[str], list[str | None]]:
    """The tenants, and per tenant the connector of a two-way flow (a ``connector_id``
    column beats the option; None: a V1 flow)."""
    connectors: list[str | None] = []
    if isinstance(tenants, pd.DataFrame):
        if "tenant" not in tenants:
            raise ConfigError("The tenants frame has no 'tenant' column.")
        if "connector_id" in tenants:
            connectors = [None if pd.isna(c) else str(c) for c in tenants["connector_id"]]
        tenants = tenants["tenant"]
    if isinstance(tenants, str) or not isinstance(tenants, Iterable):
        raise ConfigError("tenants must be a list of ids, a Series or a frame with 'tenant'.")
    ids = [str(t) for t in tenants]
    return ids, [c or connector for c in connectors] if connectors else [connector] * len(ids)


def _once(ids: list[str], connectors: list[str | None]) -> tuple[list[str], list[str | None]]:
    pairs = list(dict.fromkeys(zip(ids, connectors, strict=True)))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _reads(tenants: list[str], connectors: list[str | None], flow_id: str) -> list[Read]:
    pairs = enumerate(zip(tenants, connectors, strict=True))
    return [
        Read(row, tenant, flow_id, connector_id=connector) for row, (tenant, connector) in pairs
    ]


Operation = Callable[[AsyncHotglue, Read], Coroutine[Any, Any, Any]]


async def execute_reads(
    run: ReadRun,
    operation: Operation,
    build: Callable[[list[Read]], pd.DataFrame],
    on_event: Callable[[Event], None] | None = None,
) -> pd.DataFrame:
    """Read every tenant and ``build`` the frame; a refused key raises (the one error that
    is not data); an interrupt raises LaunchInterrupted with the frame of what was read."""
    try:
        if run.reads is None:
            tenants = await run.clients.root.list_tenants()
            run.reads = _reads(tenants, [run.connector_id] * len(tenants), run.flow_id)
        report = await fan_out(
            run.reads, partial(_read_op, run, operation), concurrency=run.config.concurrency,
            on_event=on_event, stop=lambda: run.refused is not None, pacer=run.pacer,
            clock=run.config.clock, sleep=run.config.sleep,
        )  # fmt: skip
    finally:
        await run.clients.aclose()
    if run.refused is not None:
        raise run.refused
    frame = build(run.reads)
    if report.interrupted:
        raise interrupted(frame, phase=run.kind)
    failed = [read.exc for read in run.reads if read.exc is not None]
    if run.reads and len(failed) == len(run.reads):  # "no jobs" must not read as "all good"
        raise stopped_by(_every_read_failed(failed[0], len(failed)), frame)
    return frame


def _every_read_failed(first: HotglueError, count: int) -> HotglueError:
    """The first failure, saying that it was every tenant's: the base URL, env or flow is
    most likely wrong (``hg.read_errors(exc.results)`` lists them all)."""
    if count > 1:
        first.args = (f"{first} — and so did the read of every one of the {count} tenants "
                      "(check base_url, env_id and flow_id; hg.read_errors(exc.results) "
                      "lists them)",)  # fmt: skip
    return first


async def _read_op(run: ReadRun, operation: Operation, read: Read) -> Step:
    client = run.clients.get(run.clients.root.env_id)
    try:
        read.data = await operation(client, read)
    except HotglueError as exc:
        read.error = f"{type(exc).__name__}: {exc}"
        read.status = getattr(exc, "status_code", None)
        read.exc = exc
        if decide(exc) == "abort":
            run.refused = exc
    return Step(Event(read.row, read.tenant, "error" if read.error else run.kind, True))


async def read_history(client: AsyncHotglue, read: Read, count: int | None = None) -> list[Job]:
    """The tenant's recent jobs in the flow (``count``: ask for that many [I]); a two-way
    flow's are its connector's, asked for by ``entity_id`` as hotglue's widget does
    [C-code], and kept to it in case the filter is not applied [I]."""
    jobs = await client.list_jobs(read.flow_id, read.tenant, connector_id=read.connector_id,
                                  count=count)  # fmt: skip
    if read.connector_id is None:
        return jobs
    return [job for job in jobs if job.connector_id in (None, read.connector_id)]


async def read_latest(client: AsyncHotglue, read: Read) -> Job | None:
    """The tenant's last job (a two-way flow's: its connector's)."""
    return await client.latest_job(read.flow_id, read.tenant, connector_id=read.connector_id)


async def read_health(client: AsyncHotglue, read: Read) -> dict[str, Any]:
    """The tenant's link (or None when the flow is not linked [I: a 404]) and last job; for
    a two-way flow, its connector's link (``disconnected`` / ``error`` as on sources [I])."""
    v2 = read.connector_id is not None
    try:
        if v2:
            links = await client.linked_connectors(
                read.flow_id, read.tenant, connector_id=read.connector_id)  # fmt: skip
        else:
            links = await client.linked_sources(read.flow_id, read.tenant)
    except NotFoundError:
        return {"sources": None, "latest": None}
    return {"sources": links, "latest": await read_latest(client, read)}

"""Each public fleet read as a ``Call``: its run, its per-tenant read and the frame it builds,
so the blocking and the async front ends run the same thing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd

from .._endpoints import job_query
from .._types import ProgressChoice, Tenants, When
from .._values import moment, now_utc
from ._preflight import check_frame
from ._reads import Operation, Read, ReadRun, prepare_reads, read_health, read_history, read_latest
from ._tables import history_frame, latest_frame

__all__ = ["Call", "check_call", "history_call", "latest_call"]


@dataclass
class Call:
    """A fleet read ready to run: the run, its per-tenant read and the frame it builds."""

    run: ReadRun
    operation: Operation
    build: Callable[[list[Read]], pd.DataFrame]
    progress: ProgressChoice


def history_call(
    flow_id: str, tenants: Tenants | None, since: When, until: When, now: When,
    options: dict[str, Any], count: int | None = None,
) -> Call:  # fmt: skip
    stamp = now_utc(now)
    start, end = moment(since, stamp, "since"), moment(until, stamp, "until")
    job_query(count=count)  # checks count before anything is sent
    run = prepare_reads("history", flow_id, tenants, options)
    env = run.clients.root.env_id
    build = lambda reads: history_frame(reads, env, start, end, count)  # noqa: E731
    return Call(run, partial(read_history, count=count), build, options.get("progress", True))


def latest_call(flow_id: str, tenants: Tenants | None, options: dict[str, Any]) -> Call:
    run = prepare_reads("latest", flow_id, tenants, options)
    env = run.clients.root.env_id
    return Call(
        run, read_latest, lambda reads: latest_frame(reads, env), options.get("progress", True)
    )


def check_call(
    tenants: Tenants, flow_id: str, now: When, dormant_days: int, options: dict[str, Any]
) -> Call:
    stamp = now_utc(now)
    run = prepare_reads("check", flow_id, tenants, options)
    build = lambda reads: check_frame(reads, stamp, dormant_days)  # noqa: E731
    return Call(run, read_health, build, options.get("progress", True))

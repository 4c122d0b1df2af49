"""Is a row ready to launch? ``hg.check_tenants``' frame, and the same rules for
``launch_jobs(preflight=True)``: the flow linked, the source link healthy, no job running,
the tenant not dormant."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._client import AsyncHotglue
from .._client._pacing import Pacer
from .._config import DORMANT_DAYS
from .._exceptions import HotglueError
from .._fanout import Clock, Sleep, Step, fan_out
from .._frames import CHECK_COLUMNS, apply_dtypes
from .._models import is_terminal
from .._values import utc_stamp
from ._reads import Read, read_health

__all__ = ["check_frame", "check_reads", "preflight_reasons"]


def check_frame(reads: list[Read], now: pd.Timestamp, dormant_days: int) -> pd.DataFrame:
    """One row per read: ``ready``, ``reason`` and what they were judged from."""
    return apply_dtypes(
        pd.DataFrame([_check_row(read, now, dormant_days) for read in reads]), CHECK_COLUMNS
    )[list(CHECK_COLUMNS)]


async def check_reads(
    reads: list[Read], client: AsyncHotglue, *, concurrency: int, pacer: Pacer, clock: Clock,
    sleep: Sleep,
) -> None:  # fmt: skip
    """Read each row's link and last job on the engine (a launch's pre-flight); a failed
    read keeps its error on the read."""

    async def check(read: Read) -> Step:
        try:
            read.data = await read_health(client, read)
        except HotglueError as exc:
            read.error = f"{type(exc).__name__}: {exc}"
        return Step()

    await fan_out(reads, check, concurrency=concurrency, pacer=pacer, clock=clock, sleep=sleep)


def preflight_reasons(
    read: Read, now: pd.Timestamp, allow: set[str], dormant_days: int = DORMANT_DAYS
) -> str | None:
    """Why a row should not be launched (the reasons ``allow`` does not waive), or None."""
    reason = _check_row(read, now, dormant_days)["reason"]
    kept = [r for r in (reason or "").split("; ") if r and r.split(":", 1)[0] not in allow]
    return "; ".join(kept) or None


def _check_row(read: Read, now: pd.Timestamp, dormant_days: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant": read.tenant, "flow_id": read.flow_id, "connector_id": read.connector_id,
    }  # fmt: skip
    if read.error:
        return row | {"ready": False, "reason": f"could not check: {read.error}"}
    sources, latest = read.data["sources"], read.data["latest"]
    reasons = []
    row["linked"] = sources is not None and len(sources) > 0
    if not row["linked"]:
        reasons.append("not_linked: the tenant has not linked this flow")
    broken = [s for s in sources or [] if s.get("disconnected") or s.get("error")]
    row["disconnected"] = any(bool(s.get("disconnected")) for s in sources or [])
    if broken:
        row["source_error"] = "; ".join(str(s.get("error") or "disconnected") for s in broken)
        reasons.append(f"disconnected: the source link is broken ({row['source_error']})")
    if latest is not None:
        row.update(last_status=latest.status, last_job_at=latest.start_time)
        row["running"] = not is_terminal(latest.status)
        if row["running"]:
            reasons.append("running: a job is running (queue_if_active_job=True would queue)")
        started = utc_stamp(latest.start_time)
        age = (now - started).total_seconds() / 86400 if started is not None else None
        row["days_since_last_job"] = round(age, 2) if age is not None else None
        if age is not None and age >= dormant_days:
            reasons.append(
                f"dormant: no job for {age:.0f} days (a run makes the tenant billable as active)"
            )
    return row | {"ready": not reasons, "reason": "; ".join(reasons) or None}

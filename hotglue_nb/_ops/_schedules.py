"""Schedules changed in bulk, journaled like launches.

Per row: read the current schedule, decide the change, write the intent — with the value
before — to disk, send it, write the outcome. A write whose answer is lost, or that failed
in a way that may still have acted, is settled by reading the schedule again: only a read
that shows it was not applied lets the same (idempotent) write go again; none is sent blind.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._client._async import AsyncHotglue
from .._client._schedules import Schedule
from .._exceptions import HotglueError
from .._fanout import Event
from .._fleet._reads import Read, ReadRun
from .._frames import CHANGE_COLUMNS, SCHEDULE_COLUMNS, apply_dtypes
from .._journal import Journal
from ._settle import settle_each, settled_write

__all__ = ["Change", "Want", "change_frame", "check_expression", "run_changes", "schedule_frame"]

Want = Callable[[Schedule], Schedule]  # the schedule wanted, given the one there was
_CRON = re.compile(r"cron\((\S+ ){5}\S+\)")
_RATE = re.compile(r"rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)")


def check_expression(value: Any) -> str | None:
    """Why ``value`` is not a schedule expression, or None. EventBridge's two forms are
    accepted: 6-field ``cron(min hour day month weekday year)`` and ``rate(N unit)`` (hotglue
    schedules are EventBridge rules [C-code]; whether it accepts more is unknown [I])."""
    if not isinstance(value, str):
        return f"schedule_expression must be text, got {type(value).__name__} {value!r}"
    if _CRON.fullmatch(value) or _RATE.fullmatch(value):
        return None
    fields = len(value.split())
    hint = " (a 5-field cron: add the year, e.g. 'cron(0 3 * * ? *)')" if fields == 5 else ""
    return (f"schedule_expression {value!r} is not 'cron(m h dom mon dow year)' or "
            f"'rate(N minutes|hours|days)'{hint}")  # fmt: skip


@dataclass
class Change:
    """One row's change: what is wanted, what was there, what was done."""

    row: int
    tenant: str
    flow_id: str
    connector_id: str | None
    want: Want
    before: Schedule | None = None  # as read, or as journaled by the run being resumed
    expect: Schedule | None = None  # restore: what the pause left; else someone changed it
    left: Schedule | None = None  # resumed: what the journal's earlier session left
    after: Schedule | None = None
    action: str = "none"
    outcome: str = "planned"
    error: str | None = None


async def run_changes(
    run: ReadRun, changes: list[Change], *, journal: Journal | None, dry_run: bool,
    overwrite: bool, on_event: Callable[[Event], None] | None = None,
) -> bool:  # fmt: skip
    """Settle every change; True when the run was interrupted. A refused key stops it."""
    client = run.clients.get(run.clients.root.env_id)
    rng = random.Random()

    async def settle(change: Change) -> None:
        await _settle(client, change, journal, dry_run, overwrite, rng, run)

    return await settle_each(run, changes, settle, what="schedules", journal=journal,
                             dry_run=dry_run, on_event=on_event,
                             noted=lambda change: {"flow_id": change.flow_id})  # fmt: skip


async def _settle(
    client: AsyncHotglue, change: Change, journal: Journal | None, dry_run: bool, overwrite: bool,
    rng: random.Random, run: ReadRun,
) -> None:  # fmt: skip
    current = await client.get_schedule(change.flow_id, change.tenant)
    change.before = change.before or current
    wanted = change.want(change.before)
    if _settled_before(change, current, overwrite) or _conflict(change, current, wanted, overwrite):
        return
    if current == wanted:
        change.after = current
        change.outcome = "unchanged" if wanted == change.before else "changed"
        return
    change.action, change.after = ("put" if wanted.exists else "delete"), wanted
    if dry_run:
        return
    if journal is not None:
        await journal.durable({"kind": "intent", "row": change.row, "tenant": change.tenant,
                               "flow_id": change.flow_id, "connector_id": change.connector_id,
                               "action": change.action, "before": _dict(change.before),
                               "after": _dict(wanted)})  # fmt: skip
    change.outcome = "unknown"  # from here it may be sent: an interrupt leaves it restorable
    await _write(client, change, wanted, rng, run)


def _settled_before(change: Change, current: Schedule, overwrite: bool) -> bool:
    """A resumed row: done by the earlier session, or changed by someone since (left alone
    unless ``overwrite``); False when that session did not get to it."""
    if change.left is None or overwrite or current == change.before:
        return False
    if current == change.left:
        change.after = current
        change.outcome = "changed" if current != change.before else "unchanged"
    else:
        change.after, change.outcome = current, "conflict"
        change.error = (f"changed since this journal's earlier run: now {_text(current)}, "
                        f"not {_text(change.left)} as it left; overwrite=True changes it "
                        "anyway")  # fmt: skip
    return True


def _conflict(change: Change, current: Schedule, wanted: Schedule, overwrite: bool) -> bool:
    """A restore finding what nobody expected: someone changed it; left alone."""
    if change.expect is None or current in (change.expect, wanted) or overwrite:
        return False
    change.after, change.outcome = current, "conflict"
    change.error = (f"changed since: now {_text(current)}, not {_text(change.expect)} "
                    "as left; overwrite=True puts it back anyway")  # fmt: skip
    return True


async def _write(
    client: AsyncHotglue, change: Change, wanted: Schedule, rng: random.Random, run: ReadRun
) -> None:
    async def write() -> None:
        if wanted.exists:
            await client.put_schedule(change.flow_id, change.tenant, wanted, change.connector_id)
        else:
            await client.delete_schedule(change.flow_id, change.tenant)

    async def read() -> Schedule:
        return await client.get_schedule(change.flow_id, change.tenant)

    try:
        done = await settled_write(write, read, wanted, run, rng, _text)
    except HotglueError:  # refused: nothing was done
        change.outcome, change.after = "failed", change.before
        raise
    change.outcome, change.error = done.outcome, done.error
    if done.outcome == "failed":  # answered and not applied; ``unknown`` keeps what was sent
        change.after = done.seen


def _dict(schedule: Schedule) -> dict[str, str | None]:
    return {"schedule_expression": schedule.expression, "state": schedule.state}


def _text(schedule: Schedule) -> str:
    return f"{schedule.expression} {schedule.state}" if schedule.exists else "no schedule"


def schedule_frame(reads: list[Read]) -> pd.DataFrame:
    """``hg.schedules``' frame: one row per read."""
    rows = []
    for read in reads:
        found: Schedule | None = read.data
        row: dict[str, Any] = {"tenant": read.tenant, "flow_id": read.flow_id,
                               "connector_id": read.connector_id, "error": read.error}  # fmt: skip
        if found is not None:
            row.update(has_schedule=found.exists, schedule_expression=found.expression,
                       state=found.state, raw=found.raw or None)  # fmt: skip
        rows.append(row)
    return apply_dtypes(pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS)), SCHEDULE_COLUMNS)


def change_frame(changes: list[Change]) -> pd.DataFrame:
    """The changes' frame: before, after, action, outcome per row."""
    rows = []
    for change in changes:
        before, after = change.before or Schedule(), change.after or Schedule()
        known = change.before is not None
        rows.append({
            "tenant": change.tenant, "flow_id": change.flow_id,
            "connector_id": change.connector_id, "action": change.action,
            "outcome": change.outcome, "changed": (before != after) if known else None,
            "had_schedule": before.exists if known else None,
            "before_expression": before.expression, "before_state": before.state,
            "has_schedule": after.exists if change.after is not None else None,
            "after_expression": after.expression, "after_state": after.state,
            "error": change.error,
        })  # fmt: skip
    return apply_dtypes(pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)), CHANGE_COLUMNS)

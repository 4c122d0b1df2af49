"""``launch_jobs(backup_state=...)``: before a row that resets its state is sent, its state
is saved (``hg.backup_state``'s files); a row whose backup failed is not sent, since the
reset would throw away the only copy of its bookmarks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._exceptions import HotglueError
from .._fanout import Event, Step, fan_out
from .._fleet._reads import Read
from .._ops._state import BACKUPS, save_state
from ._plan import RowPlan
from ._rows import LaunchRun, OnEvent, emit, row_result

__all__ = ["back_up"]

Record = Callable[[LaunchRun, RowPlan, dict[str, Any]], None]


async def back_up(
    run: LaunchRun, pending: list[RowPlan], on_event: OnEvent, record: Record
) -> list[RowPlan]:
    """Save the state of each pending row that resets it; the rows still to send."""
    resets = [plan for plan in pending if _resets(plan)]
    if not resets:
        return pending
    chosen = run.config.backup_state
    folder = BACKUPS / run.run_id if chosen is True else Path(str(chosen))
    reads = {plan.row: Read(plan.row, plan.tenant, plan.flow_id, connector_id=plan.connector_id)
             for plan in resets}  # fmt: skip

    async def one(plan: RowPlan) -> Step:
        read = reads[plan.row]
        try:
            state = await run.client(plan.env_id).get_state(
                plan.flow_id, plan.tenant, plan.connector_id)  # fmt: skip
            read.data = state
        except HotglueError as exc:
            read.error = f"{type(exc).__name__}: {exc}"
        return Step(Event(plan.row, plan.tenant, "state backup", False))

    config = run.config
    report = await fan_out(resets, one, concurrency=config.concurrency, pacer=run.pacer,
                           clock=config.clock, sleep=config.sleep)  # fmt: skip
    if report.interrupted:  # Ctrl-C while backing up: nothing is sent
        raise asyncio.CancelledError
    failed = set()
    for plan in resets:
        saved = save_state(folder, plan.env_id, reads[plan.row])
        if saved.get("path"):
            run.backups[plan.row] = str(saved["path"])
            continue
        error = (f"state backup failed ({saved.get('error')}): not sent, since "
                 "reset_source_state would lose the only copy of the bookmarks")  # fmt: skip
        record(run, plan, row_result(run, plan, "skipped", error=error))
        emit(on_event, plan.row, run.results[plan.row])
        failed.add(plan.row)
    return [plan for plan in pending if plan.row not in failed]


def _resets(plan: RowPlan) -> bool:
    return json.loads(plan.request_json).get("reset_source_state") is True

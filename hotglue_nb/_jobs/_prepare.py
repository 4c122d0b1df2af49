"""Before a launch sends anything: every row validated and planned, the journal opened (and
locked; read when resuming), the rows a resume carries over. No I/O but the journal."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pandas as pd

from .._client._pacing import Pacer
from .._exceptions import ConfigError
from .._frames import RESULT_COLUMNS
from .._journal import Journal, JournalState, find_journal, launch_journal_path, read_journal
from .._options import LaunchConfig, RunClients
from .._types import Tenants
from ._plan import as_frame, plan_rows
from ._resume import recorded_plan, resumed_config, row_keys
from ._rows import LaunchRun, base_result

__all__ = ["prepare_launch"]


_RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")


def prepare_launch(tenants: Tenants, config: LaunchConfig) -> LaunchRun:
    """Validate every row; open (and lock) the journal, reading it when resuming.

    Sends nothing; a bad argument, an unwritable or busy journal, or a resume that
    contradicts its run is a ConfigError here, before any request.
    """
    frame = as_frame(tenants)
    journal = _open_journal(config)
    try:
        return _prepare(frame, config, journal)
    except BaseException:
        if journal is not None:
            journal.close_now()
        raise


def _open_journal(config: LaunchConfig) -> Journal | None:
    if config.dry_run:
        return None
    if config.resume is not None:
        return Journal(find_journal(config.resume))
    path = launch_journal_path(config.journal, None, _new_run_id())
    if path is None:
        return None
    journal = Journal(path)
    if not journal.is_empty():
        journal.close_now()
        raise ConfigError(
            f"{path} already holds another run: pass resume={str(path)!r} to continue that "
            "run, or choose a new journal path (or journal=True) for a new one."
        )
    return journal


def _prepare(frame: pd.DataFrame, config: LaunchConfig, journal: Journal | None) -> LaunchRun:
    resumed = read_journal(journal.path) if journal is not None and config.resume else None
    keys, missing = row_keys(frame, resumed) if resumed else (None, [])
    if resumed:
        config = resumed_config(config, resumed)
    run_id = resumed.run_id if resumed else _run_id_of(journal)
    pacer = Pacer(config.rate_limit, clock=config.clock, sleep=config.sleep)
    clients = None if config.dry_run else RunClients(config.connection, config, pacer)
    env_id = config.connection.target_env()
    plan = plan_rows(
        frame, defaults=config.body, flow_id=config.flow_id, env_id=env_id, run_id=run_id,
        keys=keys,
    )  # fmt: skip
    if plan.problems and config.on_invalid == "raise":
        raise ConfigError(
            f"{len(plan.problems)} of {len(frame)} rows have problems; nothing was sent:\n"
            f"{plan.problem_text()}\nFix them, or pass on_invalid='skip' to launch the rest."
        )
    run = LaunchRun(config, frame, plan, run_id, env_id, resumed, clients, pacer, journal)
    run.not_in_frame = missing
    _record_invalid(run)
    if resumed:
        _carry_over(run, resumed)
    return run


def _run_id_of(journal: Journal | None) -> str:
    """A new run's id; with ``journal=True`` the one its default path was named after."""
    name = journal.path.stem if journal is not None else ""
    return name if _RUN_ID.fullmatch(name) else _new_run_id()


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _record_invalid(run: LaunchRun) -> None:
    for row, problems in run.plan.problems.items():
        tenant, flow, env = run.plan.skipped[row]
        run.results[row] = base_result(run.run_id, tenant, flow, env) | {
            "outcome": "skipped",
            "error": "invalid row: " + "; ".join(problems),
        }


def _carry_over(run: LaunchRun, state: JournalState) -> None:
    """Keep created/queued rows; a row sent before keeps its recorded request, and is looked
    for under it first unless its outcome proves there is no job."""
    for index, plan in enumerate(run.plan.rows):
        intents = state.intents.get(plan.key, [])
        outcome = state.outcomes.get(plan.key, {})
        seen = (outcome or (intents[-1] if intents else {})).get("tenant", plan.tenant)
        if seen != plan.tenant:
            raise ConfigError(
                f"This frame is not the one of run {state.run_id}: row {plan.label!r} was "
                f"tenant {seen!r} there and is {plan.tenant!r} here. Resume with the same frame."
            )
        run.prior_attempts[plan.row] = len(intents)
        if outcome.get("outcome") in ("created", "queued"):
            run.results[plan.row] = {k: outcome.get(k) for k in RESULT_COLUMNS}
            continue
        if intents:
            run.plan.rows[index] = recorded_plan(plan, intents[-1])
        if intents and outcome.get("outcome") in (None, "unknown"):
            run.check_first.add(plan.row)

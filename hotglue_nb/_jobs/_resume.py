"""A resume continues a run as it was started (its journal's header), never as a new one.

The flow, env, base URL and body defaults come from the journal; arguments that contradict
them are refused. Rows are matched to the run's rows by their label; a row already sent
keeps the request (job name, flow, body) recorded in its intent, so an in-flight row is
always looked for under the name it was sent with.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pandas as pd

from .._config import ENV_BASE_URL, ENV_ENV_ID
from .._endpoints import ENDPOINTS, run_endpoint
from .._exceptions import ConfigError
from .._journal import JournalState
from .._options import Connection, LaunchConfig
from ._plan import RowPlan, coerce_defaults

__all__ = ["recorded_plan", "resumed_config", "row_keys"]


def resumed_config(config: LaunchConfig, state: JournalState) -> LaunchConfig:
    """``config`` completed from the journal; a contradiction is a ConfigError naming it."""
    run, conn = state.run, config.connection
    env = _same("env_id", _given_env(conn), run.get("env_id"), state)
    base_url = _same("base_url", _given_base_url(conn), run.get("base_url"), state)
    flow_id = _same("flow_id", config.flow_id, run.get("flow_id"), state)
    recorded = run.get("defaults")
    defaults = config.body if recorded is None else _same_defaults(config.body, recorded, state)
    if conn.client is None:
        conn = dataclasses.replace(conn, env_id=env, base_url=base_url)
    return dataclasses.replace(config, connection=conn, flow_id=flow_id, body=defaults)


def _given_env(conn: Connection) -> str | None:
    if conn.env_id is not None:
        return conn.env_id
    return conn.client.env_id if conn.client is not None else os.environ.get(ENV_ENV_ID)


def _given_base_url(conn: Connection) -> str | None:
    if conn.client is not None:
        return conn.client.base_url
    url = conn.base_url or os.environ.get(ENV_BASE_URL)
    return url.rstrip("/") if url else None


def _same(name: str, given: Any, recorded: Any, state: JournalState) -> Any:
    if given is not None and recorded is not None and given != recorded:
        raise ConfigError(
            f"Run {state.run_id} was started with {name}={recorded!r}; this resume says "
            f"{given!r}. A resume continues the run as it was started: drop {name} (or fix "
            "HOTGLUE_* variables), or start a new run without resume= for new settings."
        )
    return recorded if recorded is not None else given


def _same_defaults(
    given: dict[str, Any] | Any, recorded: dict[str, Any], state: JournalState
) -> dict[str, Any]:
    for name, value in coerce_defaults(given).items():
        if recorded.get(name) != value:
            was = recorded.get(name, "(not set)")
            raise ConfigError(
                f"Run {state.run_id} was started with {name}={was!r}; this resume says "
                f"{value!r}. A resume sends the remaining rows exactly as the run would have: "
                f"drop {name}=, or start a new run without resume= for new settings."
            )
    return dict(recorded)


def row_keys(frame: pd.DataFrame, state: JournalState) -> tuple[list[int], list[str]]:
    """Each frame row's number in the run (by label), and the run's rows the frame lacks."""
    labels = [str(label) for label in state.run.get("labels") or []]
    by_label = {label: key for key, label in enumerate(labels)}
    keys = []
    for label in frame.index:
        key = by_label.get(str(label))
        if key is None:
            raise ConfigError(
                f"Row {label!r} is not a row of run {state.run_id}: a resume sends only the "
                "run's own rows (same index labels). Start a new run for new rows."
            )
        keys.append(key)
    missing = sorted(set(range(len(labels))) - set(keys))
    return keys, [labels[key] for key in missing]


def recorded_plan(plan: RowPlan, intent: dict[str, Any]) -> RowPlan:
    """The row as its last intent sent it: same tenant, flow, env, job name and body."""
    ids = {"env_id": intent["env_id"], "flow_id": intent["flow_id"], "tenant": intent["tenant"]}
    path = ENDPOINTS[run_endpoint(intent["request"])].url(**ids)
    where = (plan.row, plan.label, plan.key)
    return RowPlan.make(
        where, (ids["tenant"], ids["flow_id"], ids["env_id"]), intent["request"], path
    )

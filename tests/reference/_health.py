"""Fleet health: one row per tenant (and flow) of a history, with a ``problem`` label.

Usage:
    >>> history = hg.job_history(flow_id, since="30d")
    >>> health = hg.fleet_health(history)          # one row per tenant, worst first
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hotglue_nb._config import DORMANT_DAYS
from hotglue_nb._frames import HEALTH_COLUMNS, apply_dtypes, require
from hotglue_nb._types import When
from hotglue_nb._values import moment, now_utc, record_total

from ._frames import sort_jobs
from ._triage import row_text

__all__ = ["PROBLEMS", "fleet_health"]

PROBLEMS = ("failing", "dormant", "flaky", "records_drop", "slow", "ok")


def fleet_health(
    history: pd.DataFrame,
    *,
    now: When = None,
    window: When = "30d",
    dormant_days: int = DORMANT_DAYS,
    flaky_rate: float = 0.8,
    drop_ratio: float = 0.5,
    slow_factor: float = 2.0,
) -> pd.DataFrame:
    """One row per tenant and flow of a ``job_history`` frame, worst first.

    (And per connector, for a two-way flow.) ``problem``: ``failing`` (its last finished job
    failed), ``dormant`` (no job for ``dormant_days``; read a longer history to see them),
    ``flaky`` (success rate below ``flaky_rate``), ``records_drop`` (the last success moved less
    than ``drop_ratio`` x the median records), ``slow`` (the last job took more than
    ``slow_factor`` x the median), else ``ok``. ``failing_since`` is the start of the first job
    of the current failure streak. ``jobs``, ``success_rate`` and the medians count the jobs of
    the last ``window`` (a span like "30d", or a start time); the last job, streak and dormancy
    use the whole history.

    ``history_complete`` (from ``job_history``) is False for a tenant whose job list may
    have been cut short by the API: its ``failure_streak``, ``failing_since`` (at or before)
    and the history behind dormancy are then lower bounds, and ``jobs`` / ``success_rate``
    count only the jobs listed.

    Parameters
    ----------
    history : DataFrame
        A ``job_history`` frame (``tenant``, ``flow_id``, ``start_time``, ``succeeded``...).
    now : date, datetime, Timestamp or str, optional
        The moment dormancy and ``window`` count back from (default: now).
    window : str, date, datetime, Timestamp or None
        The span of the counts and medians (default ``"30d"``; None: the whole history).
    dormant_days : int
        Days without a job that make a tenant ``dormant`` (default 30).
    flaky_rate : float
        A success rate below it is ``flaky`` (default 0.8).
    drop_ratio : float
        Last records below it x the median are a ``records_drop`` (default 0.5).
    slow_factor : float
        A last job longer than it x the median is ``slow`` (default 2.0).

    Returns
    -------
    DataFrame
        ``problem``, ``last_status``, ``last_message``, ``last_job_at``,
        ``last_success_at``, ``failure_streak``, ``failing_since``, ``jobs``,
        ``success_rate``, ``records_ratio``, ``days_since_last_job``, ``history_complete``...

    Raises
    ------
    ConfigError
        Not a ``job_history`` frame, or a ``window`` that is not a moment.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve(history_days=30) as sb:
    ...     history = hg.job_history(sb.flow_id, since="30d", **sb.credentials)
    >>> health = hg.fleet_health(history, window="14d")
    >>> health[health["problem"] != "ok"]
    """
    require(history, ("tenant", "flow_id", "start_time", "succeeded"), "a job_history frame")
    stamp = now_utc(now)
    limits = (dormant_days, flaky_rate, drop_ratio, slow_factor, moment(window, stamp, "window"))
    keys = ["tenant", "flow_id"] + (["connector_id"] if "connector_id" in history else [])
    rows = [
        _health(sort_jobs(group), stamp, limits)
        for _, group in history.groupby(keys, sort=True, dropna=False)
    ]
    frame = apply_dtypes(pd.DataFrame(rows, columns=list(HEALTH_COLUMNS)), HEALTH_COLUMNS)
    order = frame["problem"].map({p: i for i, p in enumerate(PROBLEMS)})
    return (
        frame.assign(_o=order)
        .sort_values(["_o", "tenant"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _health(group: pd.DataFrame, now: pd.Timestamp, limits: tuple[Any, ...]) -> dict[str, Any]:
    last = group.iloc[-1]
    every = group[group["succeeded"].notna()]
    streak = _streak(every["succeeded"].astype(bool).tolist())
    since = limits[-1]
    recent = group if since is None else group[group["start_time"] >= since]
    done = recent[recent["succeeded"].notna()]
    ok = done[done["succeeded"].astype(bool)]
    totals = ok["records"].map(record_total) if "records" in ok else pd.Series(dtype=float)
    row = {
        "tenant": last["tenant"], "flow_id": last["flow_id"], "env_id": last.get("env_id"),
        "last_status": last["status"], "last_stage": last.get("failed_stage"),
        "last_message": row_text(last),
        "last_job_at": last["start_time"],
        "last_success_at": _last_success(every),
        "failure_streak": streak,
        "failing_since": every["start_time"].iloc[-streak] if streak else None,
        "jobs": len(recent), "success_rate": done["succeeded"].mean() if len(done) else None,
        "median_duration_s": done["duration_s"].median() if len(done) else None,
        "last_duration_s": done["duration_s"].iloc[-1] if len(done) else None,
        "last_records": totals.iloc[-1] if len(totals) else None,
        "median_records": totals.median() if len(totals) else None,
        "days_since_last_job": (now - last["start_time"]).total_seconds() / 86400,
        "tap": last.get("tap"),
        "history_complete": _complete(group),
        "connector_id": last.get("connector_id"),
    }  # fmt: skip
    median = row["median_records"]
    row["records_ratio"] = row["last_records"] / median if median else None
    row["problem"] = _problem(row, limits)
    return row


def _complete(group: pd.DataFrame) -> Any:
    """False when the tenant's list may have been cut short; NA for a frame without the
    column (one built by hand)."""
    if "history_complete" not in group:
        return None
    flags = group["history_complete"]
    return None if flags.isna().all() else bool(flags.fillna(True).all())


def _last_success(done: pd.DataFrame) -> Any:
    ok = done[done["succeeded"].astype(bool)]
    return ok["start_time"].iloc[-1] if len(ok) else None


def _streak(outcomes: list[bool]) -> int:
    count = 0
    for succeeded in reversed(outcomes):
        if succeeded:
            break
        count += 1
    return count


def _problem(row: dict[str, Any], limits: tuple[Any, ...]) -> str:
    dormant_days, flaky_rate, drop_ratio, slow_factor, _ = limits

    def known(value: Any) -> bool:
        return value is not None and not pd.isna(value)

    if row["failure_streak"]:
        return "failing"
    if row["days_since_last_job"] >= dormant_days:
        return "dormant"
    if known(row["success_rate"]) and row["success_rate"] < flaky_rate:
        return "flaky"
    if known(row["records_ratio"]) and row["records_ratio"] < drop_ratio:
        return "records_drop"
    median, last = row["median_duration_s"], row["last_duration_s"]
    if known(median) and known(last) and last > slow_factor * median:
        return "slow"
    return "ok"

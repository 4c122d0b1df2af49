"""Fleet health: one row per tenant (and flow) of a history, with a ``problem`` label.

Usage:
    >>> history = hg.job_history(flow_id, since="30d")
    >>> health = hg.fleet_health(history)          # one row per tenant, worst first
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._config import DORMANT_DAYS
from .._frames import HEALTH_COLUMNS, apply_dtypes, require
from .._types import When
from .._values import moment, now_utc
from ._groups import Groups, Mask, Positions, timeline
from ._triage import row_texts

ArrayLike = pd.Series | npt.NDArray[np.generic] | pd.api.extensions.ExtensionArray

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
    limits = Limits(dormant_days, flaky_rate, drop_ratio, slow_factor)
    since = moment(window, stamp, "window")
    keys = ["tenant", "flow_id"] + (["connector_id"] if "connector_id" in history else [])
    columns = _columns(history, keys, stamp, since) if len(history) else {}
    frame = apply_dtypes(pd.DataFrame(columns, columns=list(HEALTH_COLUMNS)), HEALTH_COLUMNS)
    problems = _problems(frame, limits)
    frame["problem"] = pd.Series(problems, index=frame.index, dtype=frame["problem"].dtype)
    order = frame["problem"].map({p: i for i, p in enumerate(PROBLEMS)})
    return (
        frame.assign(_o=order)
        .sort_values(["_o", "tenant"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


class Limits(NamedTuple):
    dormant_days: int
    flaky_rate: float
    drop_ratio: float
    slow_factor: float


def _columns(
    history: pd.DataFrame, keys: list[str], now: pd.Timestamp, since: pd.Timestamp | None
) -> dict[str, ArrayLike]:
    """Every health column but ``problem``, one value per group, computed for all groups at
    once on the rows in time order."""
    order, groups = timeline(history, keys)
    succeeded = history["succeeded"].take(order)
    known = succeeded.notna().to_numpy()
    good = known & succeeded.fillna(False).astype(bool).to_numpy()
    starts = pd.to_datetime(history["start_time"], utc=True, errors="coerce").take(order)
    recent = np.ones(len(order), bool) if since is None else (starts >= since).to_numpy()
    done, ok = recent & known, recent & good
    last = history.take(order[groups.ends]).reset_index(drop=True)
    out: dict[str, ArrayLike] = {
        name: last[name]
        for name in ("tenant", "flow_id", "env_id", "tap", "connector_id", "status",
                     "failed_stage")
        if name in last
    }  # fmt: skip
    out["last_status"] = out.pop("status")
    if "failed_stage" in out:
        out["last_stage"] = out.pop("failed_stage")
    out["last_message"] = row_texts(last)
    out["last_job_at"] = last_job = _stamps(starts, groups.ends)
    out["last_success_at"] = _stamps(starts, groups.last(good))
    out |= _streak(groups, known, good, starts)
    out["jobs"] = groups.count(recent)
    n_done = groups.count(done)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["success_rate"] = np.where(n_done > 0, groups.count(ok) / n_done, np.nan)
    durations = _floats(history, "duration_s", order)
    out["median_duration_s"] = groups.median(durations, done)
    out["last_duration_s"] = _floats_at(durations, groups.last(done))
    out |= _records(history, order, groups, ok)
    out["days_since_last_job"] = ((now - last_job).dt.total_seconds() / 86400).array
    out["history_complete"] = _complete(history, order, groups)
    return out


def _streak(groups: Groups, known: Mask, good: Mask, starts: pd.Series) -> dict[str, ArrayLike]:
    """The finished jobs that failed since the last success, and when the first of them
    started."""
    bad = known & ~good
    last_good = groups.last(good)
    before = np.concatenate([[0], np.cumsum(bad)])
    from_ = np.maximum(last_good, groups.starts - 1) + 1
    streak = before[groups.ends + 1] - before[from_]
    first_bad = groups.first(bad & (np.arange(groups.size) > groups.spread(last_good)))
    since = _stamps(starts, np.where(streak > 0, first_bad, -1))
    return {"failure_streak": streak, "failing_since": since}


def _records(
    history: pd.DataFrame, order: Positions, groups: Groups, ok: Mask
) -> dict[str, ArrayLike]:
    """Records of the window's successes: the last one, the median, their ratio (None when
    the median is 0 or unknown)."""
    if "records" not in history:
        return {}
    cells = history["records"].to_numpy(object)[order[ok]]
    totals = np.full(groups.size, np.nan)
    totals[ok] = [float(sum(c.values())) if isinstance(c, dict) else np.nan for c in cells]
    median = groups.median(totals, ok)
    median[groups.count(ok) == 0] = np.nan
    last = _floats_at(totals, groups.last(ok))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(median == 0, np.nan, last / median)
    return {"last_records": last, "median_records": median, "records_ratio": ratio}


def _complete(history: pd.DataFrame, order: Positions, groups: Groups) -> ArrayLike:
    """False when the tenant's list may have been cut short; NA for a frame without the
    column (one built by hand) or a group where it is never known."""
    if "history_complete" not in history:
        return pd.array([pd.NA] * len(groups), dtype="boolean")
    flags = history["history_complete"].take(order)
    seen = groups.count(flags.notna().to_numpy())
    cut = groups.count(~flags.fillna(True).astype(bool).to_numpy())
    complete = pd.Series(cut == 0, dtype="boolean")
    return complete.mask(seen == 0)


def _stamps(starts: pd.Series, rows: Positions) -> pd.Series:
    """The start times at ``rows`` (NaT at -1)."""
    values = starts.take(np.where(rows >= 0, rows, 0)).reset_index(drop=True)
    return values.where(pd.Series(rows >= 0))


def _floats(history: pd.DataFrame, name: str, order: Positions) -> npt.NDArray[np.float64]:
    if name not in history:
        return np.full(len(order), np.nan)
    return history[name].to_numpy(dtype=float, na_value=np.nan)[order]


def _floats_at(values: npt.NDArray[np.float64], rows: Positions) -> npt.NDArray[np.float64]:
    return np.asarray(np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan), dtype=np.float64)


def _problems(frame: pd.DataFrame, limits: Limits) -> npt.NDArray[np.object_]:
    """The first problem that holds, in ``PROBLEMS`` order (an unknown value holds none)."""

    def holds(values: pd.Series) -> npt.NDArray[np.bool_]:
        return values.fillna(False).astype(bool).to_numpy()

    median, last = frame["median_duration_s"], frame["last_duration_s"]
    tests = [
        holds(frame["failure_streak"] > 0),
        holds(frame["days_since_last_job"] >= limits.dormant_days),
        holds(frame["success_rate"] < limits.flaky_rate),
        holds(frame["records_ratio"] < limits.drop_ratio),
        holds(last > limits.slow_factor * median),
    ]
    return np.select(tests, list(PROBLEMS[:-1]), default=PROBLEMS[-1])

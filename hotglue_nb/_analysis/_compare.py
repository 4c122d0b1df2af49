"""Before and after, per tenant: did a rerun fix it? Any mix of results, history or latest
frames.

Usage:
    >>> hg.compare(history, rerun)       # fixed / newly_failing / still_failing / ...
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._exceptions import ConfigError
from .._frames import require
from .._values import record_total

__all__ = ["CHANGES", "compare"]

CHANGES = ("newly_failing", "fixed", "still_failing", "still_ok", "unknown")


def compare(before: pd.DataFrame, after: pd.DataFrame, *, how: str = "after") -> pd.DataFrame:
    """Per tenant (and flow): did it get better or worse between two frames?

    The frames are results, history or latest, in any mix. ``change`` is one of newly_failing,
    fixed, still_failing, still_ok, unknown; records and duration before/after and their change.
    ``how="after"`` keeps the tenants of ``after`` (a rerun), ``"outer"`` all of both.
    ``attrs["summary"]`` counts each change.

    Parameters
    ----------
    before, after : DataFrame
        Frames with ``tenant`` and ``flow_id`` (results, history or latest); each tenant's
        latest finished job counts.
    how : {"after", "outer"}
        Keep the tenants of ``after``, or of both.

    Returns
    -------
    DataFrame
        One row per tenant and flow: ``ok_before``, ``ok_after``, ``change``,
        ``records_before`` / ``_after`` / ``_change``, ``duration_s_before`` / ``_after`` /
        ``_change``.

    Raises
    ------
    ConfigError
        A frame without ``tenant`` and ``flow_id``, or another ``how``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve(history_days=30) as sb:
    ...     history = hg.job_history(sb.flow_id, since="30d", **sb.credentials)
    ...     failing = hg.fleet_health(history).query("problem == 'failing'")
    ...     rerun = hg.launch_jobs(hg.retry_frame(failing), wait=True, **sb.credentials)
    >>> hg.compare(history, rerun).attrs["summary"]
    """
    if how not in ("after", "outer"):
        raise ConfigError(f"how= is 'after' or 'outer', not {how!r}.")
    joined = _state(before).merge(
        _state(after),
        left_index=True,
        right_index=True,
        how="outer",
        suffixes=("_before", "_after"),
    )
    if how == "after":
        joined = joined[joined["ok_after"].notna() | joined["seen_after"].fillna(False)]
    pairs = zip(joined["ok_before"], joined["ok_after"], strict=True)
    joined["change"] = [_change(b, a) for b, a in pairs]
    for name in ("records", "duration_s"):
        joined[f"{name}_change"] = joined[f"{name}_after"] - joined[f"{name}_before"]
    out = joined.reset_index().drop(columns=["seen_before", "seen_after"])
    out = out.astype({"ok_before": "boolean", "ok_after": "boolean", "change": "string"})
    out.attrs["summary"] = {c: int((out["change"] == c).sum()) for c in CHANGES}
    return out


def _state(frame: pd.DataFrame) -> pd.DataFrame:
    """(tenant, flow_id) -> ok, records, duration_s of the latest finished job in ``frame``."""
    require(frame, ("tenant", "flow_id"), "a results, history or latest frame")
    data = pd.DataFrame(
        {
            "tenant": frame["tenant"].astype("string"),
            "flow_id": frame["flow_id"].astype("string"),
            "ok": frame["succeeded"] if "succeeded" in frame else pd.NA,
            "duration_s": frame.get("duration_s"),
        }
    )
    data.index = pd.RangeIndex(len(data))
    groups = data.groupby(["tenant", "flow_id"], sort=True)
    codes = groups.ngroup().fillna(-1).to_numpy(dtype=np.int64)  # -1: a key is NA
    seen = groups.size().index
    at = frame["start_time"] if "start_time" in frame else frame.get("launched_at")
    by_time = _time_order(at, len(data))
    rank = np.empty(len(data), dtype=np.int64)
    rank[by_time] = np.arange(len(data))
    done = data["ok"].notna().to_numpy() & (codes >= 0)
    latest = np.full(len(seen), -1, dtype=np.int64)
    np.maximum.at(latest, codes[done], rank[done])  # per group, its latest finished job
    rows = by_time[latest[latest >= 0]]
    state = data.iloc[rows].assign(records=_records(frame, rows))
    state = state.set_index(["tenant", "flow_id"]).reindex(seen)
    return (
        state[["ok", "records", "duration_s"]]
        .assign(seen=True)
        .astype({"records": "Float64", "duration_s": "Float64"})
    )


def _time_order(at: pd.Series | None, size: int) -> npt.NDArray[np.int64]:
    """Positions in order of ``at`` (stable, no time first), the frame's order without it."""
    if at is None:
        return np.arange(size, dtype=np.int64)
    times = at.reset_index(drop=True)
    ordered = times.sort_values(kind="stable", na_position="first").index
    return np.asarray(ordered, dtype=np.int64)


def _records(frame: pd.DataFrame, rows: npt.NDArray[np.int64]) -> npt.NDArray[Any] | None:
    """Records moved by the jobs at ``rows``: the streams' total, else ``processed_rows``."""
    if "records" in frame:
        return frame["records"].iloc[rows].map(record_total).to_numpy()
    if "processed_rows" in frame:
        return frame["processed_rows"].iloc[rows].to_numpy()
    return None


def _change(before: Any, after: Any) -> str:
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return "unknown"
    return {
        (True, True): "still_ok", (True, False): "newly_failing",
        (False, True): "fixed", (False, False): "still_failing",
    }[(bool(before), bool(after))]  # fmt: skip

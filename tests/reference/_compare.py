"""Before and after, per tenant: did a rerun fix it? Any mix of results, history or latest
frames.

Usage:
    >>> hg.compare(history, rerun)       # fixed / newly_failing / still_failing / ...
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hotglue_nb._exceptions import ConfigError
from hotglue_nb._frames import require
from hotglue_nb._values import record_total

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
            "records": frame["records"].map(record_total) if "records" in frame
            else frame.get("processed_rows"),
            "duration_s": frame.get("duration_s"),
            "at": frame["start_time"] if "start_time" in frame else frame.get("launched_at"),
            "seen": True,
        }
    )  # fmt: skip
    data = data.sort_values("at", kind="stable", na_position="first")
    done = data[data["ok"].notna()]
    last = done.groupby(["tenant", "flow_id"]).tail(1).set_index(["tenant", "flow_id"])
    seen = data.groupby(["tenant", "flow_id"])["seen"].any()
    last = last.drop(columns=["seen", "at"]).reindex(seen.index)
    return last.assign(seen=seen).astype({"records": "Float64", "duration_s": "Float64"})


def _change(before: Any, after: Any) -> str:
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return "unknown"
    return {
        (True, True): "still_ok", (True, False): "newly_failing",
        (False, True): "fixed", (False, False): "still_failing",
    }[(bool(before), bool(after))]  # fmt: skip

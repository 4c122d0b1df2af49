"""The frame helpers the reference used, verbatim from before the column-wise builders."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hotglue_nb._frames import HISTORY_COLUMNS, Columns, apply_dtypes


def frame_of(rows: list[dict[str, Any]], columns: Columns = HISTORY_COLUMNS) -> pd.DataFrame:
    """A frame of ``columns`` from row dicts (a missing key is NA), on a 0..n-1 index."""
    data = {name: [row.get(name) for row in rows] for name in columns}
    return apply_dtypes(pd.DataFrame(data), columns)


def job_times(frame: pd.DataFrame) -> pd.Series:
    """When each job happened: its start, else its last update (a job without a start time
    must not pass for the tenant's latest)."""
    starts = frame["start_time"]
    return starts.fillna(frame["last_updated"]) if "last_updated" in frame else starts


def sort_jobs(frame: pd.DataFrame) -> pd.DataFrame:
    """By tenant, then time; a job with no time at all first (never taken as the latest)."""
    order = frame.assign(_t=job_times(frame)).sort_values(
        ["tenant", "_t"], kind="stable", na_position="first"
    )
    return order.drop(columns="_t")

"""The history frame to and from the store's ``jobs`` table, a column at a time: one SQL
column per frame column (times as fixed-width ISO text in UTC, so they compare as text;
``records`` as JSON), so 450,000 rows need no dict per row either way."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .._frames import HISTORY_COLUMNS, columns_frame

__all__ = ["COLUMNS", "TIMES", "frame_of_columns", "iso", "sql_columns", "to_sql_time"]

#: the stored columns, in the table's order (``history_complete`` comes from the spans)
COLUMNS = [c for c in HISTORY_COLUMNS if c != "history_complete"]
TIMES = ("start_time", "last_updated")
FLAGS = ("succeeded", "scheduled_job")


def to_sql_time(values: pd.Series) -> list[str | None]:
    """UTC times as ``2026-09-01T00:00:00.000000000Z`` (fixed width: text order is time
    order), None for NaT."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce").to_numpy("datetime64[ns]")
    text = np.datetime_as_string(stamps, unit="ns", timezone="UTC")
    return [None if t == "NaT" else str(t) for t in text.tolist()]


def iso(value: Any) -> str | None:
    """One time as ``to_sql_time`` writes it (None for a missing one)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return to_sql_time(pd.Series([value]))[0]


def sql_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Each stored column as a list of values sqlite3 binds (Python scalars, None)."""
    out: dict[str, list[Any]] = {}
    for name in COLUMNS:
        if name not in frame:
            out[name] = [None] * len(frame)
        elif name in TIMES:
            out[name] = to_sql_time(frame[name])
        elif name == "records":
            out[name] = [json.dumps(r) if isinstance(r, dict) else None for r in frame[name]]
        else:
            column = frame[name]
            out[name] = column.astype(object).where(column.notna(), None).tolist()
            if name in FLAGS:  # stored as 0 / 1, which both engines' INTEGER take
                out[name] = [None if v is None else int(v) for v in out[name]]
    return out


def frame_of_columns(data: dict[str, list[Any]]) -> pd.DataFrame:
    """The ``job_history`` frame from the store's columns (``COLUMNS``, ``complete``, and
    ``sort_time``), sorted by tenant then time as the query asked: checked, since an
    engine may aggregate a subquery's rows in another order."""
    tenants, times = data["tenant"], data["sort_time"]
    if not _in_order(tenants, times):
        order = sorted(range(len(tenants)), key=lambda at: (tenants[at], times[at] or ""))
        data = {name: [values[at] for at in order] for name, values in data.items()}
    size = len(data["tenant"])
    for name in FLAGS:
        data[name] = [None if v is None else bool(v) for v in data[name]]
    data["history_complete"] = [bool(v) for v in data.pop("complete")]
    del data["sort_time"]
    return columns_frame(data, pd.RangeIndex(size), HISTORY_COLUMNS)


def _in_order(tenants: list[str], times: list[str | None]) -> bool:
    if len(tenants) < 2:
        return True
    tenant = np.array(tenants, dtype=object)
    time = np.array([t or "" for t in times], dtype=object)  # a job without times: first
    same = tenant[:-1] == tenant[1:]
    return bool(np.all((tenant[:-1] < tenant[1:]) | (same & (time[:-1] <= time[1:]))))

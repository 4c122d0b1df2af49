"""The results DataFrame: its columns, dtypes and outcome vocabulary (ARCHITECTURE §5)."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Final, Literal, cast

import pandas as pd

from ._exceptions import HotglueWarning

__all__ = [
    "NOTICES",
    "OUTCOMES",
    "RESULT_COLUMNS",
    "WAIT_COLUMNS",
    "Outcome",
    "columns_frame",
    "results_frame",
    "last_run",
    "remember",
    "warn_notices",
]

Outcome = Literal["created", "queued", "rejected", "unknown", "skipped"]
OUTCOMES: Final = ("created", "queued", "rejected", "unknown", "skipped")

#: column -> pandas dtype, in display order
RESULT_COLUMNS: Final[dict[str, str]] = {
    "tenant": "string",
    "flow_id": "string",
    "env_id": "string",
    "connector_id": "string",  # two-way (V2) rows only
    "job_type": "string",  # V2: read / write
    "outcome": "string",
    "http_status": "Int64",
    "job_id": "string",
    "job_name": "string",
    "job_root": "string",
    "status": "string",
    "message": "string",
    "error": "string",
    "attempts": "Int64",
    "request": "string",
    "run_id": "string",
    "launched_at": "datetime64[ns, UTC]",
    "elapsed_s": "Float64",
}
#: added by wait_for_jobs
WAIT_COLUMNS: Final[dict[str, str]] = {
    "finished": "boolean",
    "succeeded": "boolean",
    "failed_stage": "string",
    "processed_rows": "Int64",
    "duration_s": "Float64",
    "last_updated": "datetime64[ns, UTC]",
    "polls": "Int64",
    "export_summary": "string",  # write jobs: JSON {object: {success, fail, existing, updated}}
    "export_failures": "string",  # write jobs: JSON {object: [positions in the batch sent]}
}


def results_frame(
    rows: Sequence[dict[str, Any]],
    index: pd.Index | Sequence[Hashable],
    columns: dict[str, str] = RESULT_COLUMNS,
) -> pd.DataFrame:
    """Build a frame with exactly ``columns`` (in order) and their nullable dtypes.

    Built column by column (not ``from_records``), so 100,000 rows need no 2-D object array.
    """
    data = {name: [row.get(name) for row in rows] for name in columns}
    return columns_frame(data, index, columns)


def columns_frame(
    data: dict[str, list[Any]],
    index: pd.Index | Sequence[Hashable],
    columns: dict[str, str] = RESULT_COLUMNS,
) -> pd.DataFrame:
    """Like ``results_frame`` from lists already made per column (absent columns are NA).

    Consumes ``data``: each list is let go once typed, so a frame of 100,000 rows never
    holds its Python strings and their typed copies all at once.
    """
    labels = index if isinstance(index, pd.Index) else pd.Index(cast(Any, list(index)))
    typed = {}
    for name, dtype in columns.items():  # arrays, not Series: a Series would align on 0..n-1
        typed[name] = _typed(data.pop(name, None), dtype, len(labels)).array
    return pd.DataFrame(typed, index=labels, copy=False)


def apply_dtypes(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    for name, dtype in columns.items():
        if name not in frame:
            frame[name] = pd.Series(pd.NA, index=frame.index, dtype=object)
        frame[name] = _typed(frame[name], dtype)
    return frame


#: Strings keep Python storage whatever pandas' default: the cells are Python strings
#: already, and an Arrow copy of them doubles a 100,000-row frame's peak while it is built.
STRING: Final = pd.StringDtype("python")


def _typed(values: pd.Series | list[Any] | None, dtype: str, length: int = 0) -> pd.Series:
    if values is None:
        values = [None] * length
    if dtype.startswith("datetime"):
        series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        stamps = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
        return stamps.astype(cast(Any, dtype))
    typed: Any = STRING if dtype == "string" else dtype
    if isinstance(values, pd.Series):
        return values.astype(typed)
    made: pd.Series = pd.Series(values, dtype=typed)
    return made


#: frame.attrs keys that the user must hear about, and what to tell them
NOTICES: Final[dict[str, str]] = {
    "journal_error": "the run journal could not be written ({}): the results frame is now "
    "the only full record of the jobs created; save it (hg.export_results)",
    "not_in_frame": "rows of the resumed run not in this tenants frame were left as they "
    "were (labels: {}); hg.load_run(journal) shows every row of the run",
}


_LAST: list[pd.DataFrame] = []


def remember(frame: Any) -> None:
    """Keep the frame of the last run (finished or interrupted) for ``hg.last_run()``."""
    if isinstance(frame, pd.DataFrame):
        _LAST[:] = [frame]


def last_run() -> pd.DataFrame | None:
    """The results of the last ``launch_jobs`` / ``wait_for_jobs`` in this process, finished
    or interrupted (and the partial frame of an interrupted fleet read): after a Ctrl-C they
    are here even when the exception was never bound."""
    return _LAST[0] if _LAST else None


def warn_notices(frame: pd.DataFrame) -> pd.DataFrame:
    """Warn (HotglueWarning) about what ``frame.attrs`` says went wrong on the side; keep the
    frame for ``hg.last_run()``."""
    remember(frame)
    for key, text in NOTICES.items():
        if frame.attrs.get(key):
            value = frame.attrs[key]
            shown = ", ".join(map(str, value[:20])) if isinstance(value, list) else value
            warnings.warn(text.format(shown), HotglueWarning, stacklevel=3)
    return frame

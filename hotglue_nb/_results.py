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
    labels = index if isinstance(index, pd.Index) else pd.Index(cast(Any, list(index)))
    frame = pd.DataFrame(data, index=labels)
    return apply_dtypes(frame, columns)


def apply_dtypes(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    for name, dtype in columns.items():
        if name not in frame:
            frame[name] = pd.Series(pd.NA, index=frame.index, dtype=object)
        if dtype.startswith("datetime"):
            stamps = pd.to_datetime(frame[name], utc=True, errors="coerce", format="ISO8601")
            frame[name] = stamps.astype(cast(Any, dtype))
        else:
            frame[name] = frame[name].astype(cast(Any, dtype))
    return frame


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

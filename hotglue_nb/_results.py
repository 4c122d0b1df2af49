"""The results DataFrame: its columns, dtypes and outcome vocabulary (ARCHITECTURE §5)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Final, Literal, cast

import pandas as pd

__all__ = [
    "OUTCOMES",
    "RESULT_COLUMNS",
    "WAIT_COLUMNS",
    "Outcome",
    "results_frame",
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

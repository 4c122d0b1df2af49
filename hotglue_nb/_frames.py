"""Every frame kind hotglue_nb returns, in one registry: its columns, their dtypes, and the
builders that type them (ARCHITECTURE §5 for the results frame).

The kinds: results (``launch_jobs``) and the columns a wait adds; history and latest
(``job_history`` / ``latest_jobs``); the errors of a fleet read; health; the pre-launch
check; a write's batch and export-count columns. ``KNOWN_COLUMNS`` is their union, which
``read_results`` uses to read any export back typed.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Final, Literal, cast

import pandas as pd

from ._exceptions import ConfigError

__all__ = [
    "BATCH_COLUMNS",
    "CHANGE_COLUMNS",
    "CHECK_COLUMNS",
    "COUNT_COLUMNS",
    "EDIT_COLUMNS",
    "ERROR_COLUMNS",
    "HEALTH_COLUMNS",
    "HISTORY_COLUMNS",
    "KNOWN_COLUMNS",
    "OUTCOMES",
    "RESULT_COLUMNS",
    "SCHEDULE_COLUMNS",
    "STRING",
    "WAIT_COLUMNS",
    "Columns",
    "Outcome",
    "apply_dtypes",
    "columns_frame",
    "read_errors",
    "require",
    "require_results",
    "results_frame",
]

#: column -> pandas dtype, in display order
Columns = dict[str, str]

Outcome = Literal["created", "queued", "rejected", "unknown", "skipped"]
OUTCOMES: Final = ("created", "queued", "rejected", "unknown", "skipped")

RESULT_COLUMNS: Final[Columns] = {
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
    "state_backup": "string",  # launch_jobs(backup_state=): the state saved before the reset
    "launched_at": "datetime64[ns, UTC]",
    "elapsed_s": "Float64",
}
#: added by wait_for_jobs
WAIT_COLUMNS: Final[Columns] = {
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
#: a job_history / latest_jobs frame
HISTORY_COLUMNS: Final[Columns] = {
    "tenant": "string", "flow_id": "string", "env_id": "string", "job_id": "string",
    "job_name": "string", "job_root": "string", "status": "string", "succeeded": "boolean",
    "failed_stage": "string", "start_time": "datetime64[ns, UTC]",
    "last_updated": "datetime64[ns, UTC]", "duration_s": "Float64", "processed_rows": "Int64",
    "records": "object", "message": "string", "error": "string", "scheduled_job": "boolean",
    "sync_type": "string", "tap": "string", "connector_id": "string", "job_type": "string",
    "history_complete": "boolean",  # False: the tenant's list may have been cut short [I]
}  # fmt: skip
#: ``hg.schedules``: a tenant's schedule of a flow
SCHEDULE_COLUMNS: Final[Columns] = {
    "tenant": "string", "flow_id": "string", "connector_id": "string",
    "has_schedule": "boolean", "schedule_expression": "string", "state": "string",
    "raw": "object", "error": "string",
}  # fmt: skip
#: ``hg.set_schedules`` / ``pause_schedules`` / ``restore_schedules``: each row's change
CHANGE_COLUMNS: Final[Columns] = {
    "tenant": "string", "flow_id": "string", "connector_id": "string", "action": "string",
    "outcome": "string", "changed": "boolean", "had_schedule": "boolean",
    "before_expression": "string", "before_state": "string", "has_schedule": "boolean",
    "after_expression": "string", "after_state": "string", "error": "string",
}  # fmt: skip
#: ``hg.update_tenant_metadata``: each tenant's edit (metadata as JSON text)
EDIT_COLUMNS: Final[Columns] = {
    "tenant": "string", "action": "string", "outcome": "string", "changed": "boolean",
    "had_config": "boolean", "before": "string", "after": "string", "set_keys": "string",
    "removed_keys": "string", "error": "string",
}  # fmt: skip
#: ``attrs["errors"]`` of a fleet read: the tenants whose read failed
ERROR_COLUMNS: Final[Columns] = {
    "tenant": "string", "flow_id": "string", "http_status": "Int64", "error": "string",
}  # fmt: skip
HEALTH_COLUMNS: Final[Columns] = {
    "tenant": "string", "flow_id": "string", "env_id": "string", "problem": "string",
    "last_status": "string", "last_stage": "string", "last_message": "string",
    "last_job_at": "datetime64[ns, UTC]", "last_success_at": "datetime64[ns, UTC]",
    "failure_streak": "Int64", "failing_since": "datetime64[ns, UTC]", "jobs": "Int64",
    "success_rate": "Float64", "median_duration_s": "Float64", "last_duration_s": "Float64",
    "last_records": "Int64", "median_records": "Float64", "records_ratio": "Float64",
    "days_since_last_job": "Float64", "tap": "string", "history_complete": "boolean",
    "connector_id": "string",  # two-way (V2) flows: health is per connector
}  # fmt: skip
CHECK_COLUMNS: Final[Columns] = {
    "tenant": "string", "flow_id": "string", "connector_id": "string", "ready": "boolean",
    "reason": "string",
    "linked": "boolean", "disconnected": "boolean", "source_error": "string",
    "running": "boolean", "last_status": "string", "last_job_at": "datetime64[ns, UTC]",
    "days_since_last_job": "Float64",
}  # fmt: skip
#: a write batch: ``first_row`` is its first record, counted within its tenant's (and
#: connector's) records
BATCH_COLUMNS: Final[Columns] = {"object": "string", "batch": "Int64", "first_row": "Int64",
                                 "record_count": "Int64"}  # fmt: skip
#: the export counts of a batch's object, once waited for
COUNT_COLUMNS: Final[Columns] = {"success": "Int64", "fail": "Int64", "existing": "Int64",
                                 "updated": "Int64"}  # fmt: skip
#: every column hotglue_nb writes and its dtype (a name means the same in every kind)
KNOWN_COLUMNS: Final[Columns] = {
    name: dtype
    for kind in (
        HISTORY_COLUMNS,
        HEALTH_COLUMNS,
        CHECK_COLUMNS,
        RESULT_COLUMNS,
        WAIT_COLUMNS,
        BATCH_COLUMNS,
        COUNT_COLUMNS,
        CHANGE_COLUMNS,
    )  # fmt: skip
    for name, dtype in kind.items()
}


def results_frame(
    rows: Sequence[dict[str, Any]],
    index: pd.Index | Sequence[Hashable],
    columns: Columns = RESULT_COLUMNS,
) -> pd.DataFrame:
    """Build a frame with exactly ``columns`` (in order) and their nullable dtypes.

    Built column by column (not ``from_records``), so 100,000 rows need no 2-D object array.
    """
    data = {name: [row.get(name) for row in rows] for name in columns}
    return columns_frame(data, index, columns)


def columns_frame(
    data: dict[str, list[Any]],
    index: pd.Index | Sequence[Hashable],
    columns: Columns = RESULT_COLUMNS,
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


def apply_dtypes(frame: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """Give ``frame`` each of ``columns`` with its dtype (a missing column is added, NA)."""
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


def read_errors(frame: pd.DataFrame) -> pd.DataFrame:
    """The tenants whose read failed in the fleet read that made ``frame``.

    The fleet reads are ``job_history``, ``latest_jobs`` and ``check_tenants``; the frame is
    empty when every read worked.

    The frame keeps them in ``frame.attrs["errors"]`` as plain dicts (pandas compares attrs
    when frames are concatenated, merged or filtered); a concat of two reads keeps the
    first's, as pandas does.

    Parameters
    ----------
    frame : DataFrame
        A fleet read's frame (or the ``.results`` of the error that stopped one).

    Returns
    -------
    DataFrame
        One row per tenant and flow: ``tenant``, ``flow_id``, ``http_status``, ``error``.

    Raises
    ------
    ConfigError
        ``frame`` is not a DataFrame.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     history = hg.job_history(sb.flow_id, since="7d", **sb.credentials)
    >>> hg.read_errors(history)
    """
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"read_errors takes a frame of job_history / latest_jobs, got "
                          f"{type(frame).__name__}.")  # fmt: skip
    rows = frame.attrs.get("errors") or []
    if isinstance(rows, pd.DataFrame):  # a frame pickled by an earlier version
        rows = rows.to_dict("records")
    data = {name: [row.get(name) for row in rows] for name in ERROR_COLUMNS}
    return apply_dtypes(pd.DataFrame(data), ERROR_COLUMNS)


def require_results(frame: Any) -> None:
    """Refuse anything but the results frame of a launch or a wait."""
    require(frame, ("outcome",), "the results frame of launch_jobs / wait_for_jobs")


def require(frame: Any, columns: tuple[str, ...], what: str) -> None:
    """Refuse anything but a frame with ``columns``, naming the frame expected."""
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        raise ConfigError(f"Expected {what} (columns {', '.join(columns)}).")

"""Save results and read them back, with their dtypes, and rebuild a past run from its journal.

CSV and XLSX keep nested JSON (``request``) as readable JSON text; Parquet keeps everything.
Text that a spreadsheet would run as a formula (a cell starting with ``= + - @``, a tab or a
carriage return: OWASP's CSV-injection rule) is written with a leading ``'`` and read back
without it, so opening an export runs nothing and the round trip is exact. Ids that pandas
would read as missing (``NA``, ``null``, ``None``...) stay text: only an empty cell is missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import pandas as pd

from ._exceptions import ConfigError
from ._frames import KNOWN_COLUMNS, RESULT_COLUMNS, WAIT_COLUMNS, apply_dtypes
from ._journal import find_journal, read_journal

__all__ = ["FORMATS", "export_results", "load_run", "read_results"]

FORMATS = (".csv", ".parquet", ".xlsx")
INDEX_NAME = "row"


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"{path.name}: save results as one of {', '.join(FORMATS)}.")
    return suffix


def export_results(results: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write results (or a history, health or check frame) to .csv, .parquet or .xlsx.

    The format is chosen by the extension; ``read_results`` reads any of them back with their
    dtypes.

    Parameters
    ----------
    results : DataFrame
        Any frame of hotglue_nb (its index is kept).
    path : str or PathLike
        The file to write; ``.parquet`` needs pyarrow, ``.xlsx`` openpyxl.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ConfigError
        Another extension, or the format's package is not installed.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> path = hg.export_results(hg.last_run(), "run.xlsx")
    """
    target = Path(path)
    kind = _format(target)
    frame = results.copy()
    frame.index.name = frame.index.name or INDEX_NAME
    if kind != ".parquet":
        frame = _escaped(_json_cells(frame))
    if kind == ".csv":
        frame.to_csv(target, lineterminator="\r\n")  # so a CR inside a cell is quoted
    elif kind == ".parquet":
        _need("pyarrow", "parquet")
        frame.to_parquet(target)
    else:
        _need("openpyxl", "excel")
        for column in frame.select_dtypes(include=["datetimetz"]).columns:
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
        frame, rest = _split_long(frame)
        with pd.ExcelWriter(target) as sheets:
            frame.to_excel(sheets, sheet_name="results")
            if len(rest):
                rest.to_excel(sheets, sheet_name=CONTINUED, index=False)
    return target


#: Excel keeps at most 32,767 characters in a cell; a longer one (a write batch's records,
#: a large override_field_map) is cut there in the results sheet and continues, in parts, on
#: this sheet, which read_results puts back together
CONTINUED = "continued"
CELL_CHARS = 16_000  # Excel counts UTF-16 units: a character may take two (an emoji)


def _split_long(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts: list[dict[str, Any]] = []
    for number, column in enumerate(frame.columns):
        values = frame[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        long = values.map(lambda v: isinstance(v, str) and _units(v) > 2 * CELL_CHARS,
                          na_action="ignore")  # fmt: skip
        for position in [i for i, flag in enumerate(long.fillna(False)) if flag]:
            text = values.iloc[position]
            chunks = [text[i : i + CELL_CHARS] for i in range(0, len(text), CELL_CHARS)]
            frame.iloc[position, number] = chunks[0]
            parts += [{"row": position, "column": str(column), "part": n, "text": _escape(c)}
                      for n, c in enumerate(chunks[1:], start=1)]  # fmt: skip
    return frame, pd.DataFrame(parts, columns=["row", "column", "part", "text"])


def _units(text: str) -> int:
    """A text's length as Excel counts it (UTF-16 code units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _joined(frame: pd.DataFrame, source: Path) -> pd.DataFrame:
    """A workbook's long cells put back together from its ``continued`` sheet."""
    try:
        rest = pd.read_excel(source, sheet_name=CONTINUED, dtype={"text": str, "column": str},
                             keep_default_na=False)  # fmt: skip
    except ValueError:  # no such sheet: no long cells
        return frame
    for key, group in rest.sort_values("part").groupby(["row", "column"]):
        position, column = cast(tuple[int, str], key)
        extra = "".join(_unescape(t) for t in group["text"])
        at = cast(int, frame.columns.get_loc(column))
        frame.iloc[int(position), at] = str(frame.iloc[int(position), at]) + extra
    return frame


def read_results(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read what ``export_results`` wrote, with the results dtypes restored.

    Parameters
    ----------
    path : str or PathLike
        A ``.csv``, ``.parquet`` or ``.xlsx`` file written by ``export_results``.

    Returns
    -------
    DataFrame
        The frame as it was exported: its index, every known column with its dtype.

    Raises
    ------
    ConfigError
        No such file, another extension, or the format's package is not installed.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> results = hg.read_results("run.xlsx")
    >>> again = hg.retry_frame(results)
    """
    source = Path(path)
    kind = _format(source)
    if not source.exists():
        raise ConfigError(f"No results file at {source}.")
    only_empty: Any = {"keep_default_na": False, "na_values": [""]}  # "NA" may be a tenant
    if kind == ".csv":
        frame = pd.read_csv(source, index_col=0, dtype=_text_columns(), **only_empty)
    elif kind == ".parquet":
        _need("pyarrow", "parquet")
        frame = pd.read_parquet(source)
    else:
        _need("openpyxl", "excel")
        frame = pd.read_excel(source, index_col=0, dtype=_text_columns(), **only_empty,
                              sheet_name=0)  # fmt: skip
    if kind != ".parquet":
        frame = _escaped(frame, undo=True)
    if kind == ".xlsx":
        frame = _joined(frame, source)
    if frame.index.name == INDEX_NAME:
        frame.index.name = None  # the placeholder export_results gave an unnamed index
    if "records" in frame:  # a history's per-stream counts, written as JSON text
        frame["records"] = frame["records"].map(
            lambda v: json.loads(v) if isinstance(v, str) else v
        )
    columns = {k: v for k, v in KNOWN_COLUMNS.items() if k in frame}
    return apply_dtypes(frame, columns)


# OWASP's formula starters; "#" (Excel reads "#N/A" as an error value); and "'" itself, so
# that the escape is reversible
_RISKY = ("=", "+", "-", "@", "\t", "\r", "#", "'")


def _escape(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_RISKY) else value


def _unescape(value: Any) -> Any:
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def _escaped(frame: pd.DataFrame, *, undo: bool = False) -> pd.DataFrame:
    """Prefix risky text cells with ``'`` (or take that prefix off again)."""

    fix = _unescape if undo else _escape

    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(fix, na_action="ignore")
    if frame.index.dtype == object or pd.api.types.is_string_dtype(frame.index):
        frame.index = frame.index.map(fix)
    return frame


def _json_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Dict or list cells (a history's per-stream ``records``) as JSON text."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, (dict, list))).any():
            frame[column] = values.map(
                lambda v: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
            )
    return frame


def _text_columns() -> dict[str, Any]:
    return {k: "string" for k, v in KNOWN_COLUMNS.items() if v == "string"}


def _need(module: str, extra: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise ConfigError(
            f"This format needs {module}: pip install 'hotglue_nb[{extra}]'."
        ) from None


def load_run(journal: str | os.PathLike[str]) -> pd.DataFrame:
    """The whole picture of a past run from its journal (path or run id), offline.

    Rows with an outcome show it (with final statuses when wait_for_jobs recorded them);
    rows sent without a recorded outcome are ``unknown``; rows never sent are ``skipped``.

    Parameters
    ----------
    journal : str or PathLike
        The journal's path, or the run id of one in ``hotglue-runs/``.

    Returns
    -------
    DataFrame
        One row per row of the run, with its labels: the results columns and the wait's;
        ``attrs["journal"]`` is the journal's path.

    Raises
    ------
    ConfigError
        No such journal, or a file that cannot be read as one.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> run = hg.load_run("hotglue-runs/20250101T120000-a1b2c3.jsonl")
    >>> done = hg.wait_for_jobs(run)
    """
    state = read_journal(find_journal(journal))
    labels = state.run.get("labels") or []
    seen = [*state.intents, *state.outcomes, -1]
    count = len(labels) if labels else max(seen) + 1
    tenants = state.run.get("tenants") or []
    rows = [_row(state, row, tenants[row] if row < len(tenants) else None) for row in range(count)]
    frame = pd.DataFrame.from_records(rows, columns=[*RESULT_COLUMNS, *WAIT_COLUMNS])
    frame.index = pd.Index(labels if labels else range(len(frame)))
    frame.attrs["journal"] = str(state.path)
    return apply_dtypes(frame, {**RESULT_COLUMNS, **WAIT_COLUMNS})


def _row(state: Any, row: int, tenant: str | None) -> dict[str, Any]:
    status = state.statuses.get(row)
    if status:
        return {k: v for k, v in status.items() if k not in ("kind", "row")}
    outcome = state.outcomes.get(row)
    if outcome:
        return {k: v for k, v in outcome.items() if k not in ("kind", "row")}
    intents = state.intents.get(row)
    run_id = state.run_id
    if intents:
        last = intents[-1]
        return {
            "tenant": last["tenant"], "flow_id": last["flow_id"], "env_id": last["env_id"],
            "outcome": "unknown", "job_name": last["job_name"], "attempts": len(intents),
            "error": "sent, but the run stopped before its outcome was recorded",
            "run_id": run_id, "request": _json(last.get("request")),
        }  # fmt: skip
    return {"tenant": tenant, "outcome": "skipped", "error": "not sent", "run_id": run_id}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)

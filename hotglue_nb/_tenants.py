"""read_tenants: a tenants spreadsheet (CSV, XLSX, ODS) -> a validated tenants DataFrame."""

from __future__ import annotations

import difflib
import importlib.util
import io
import os
import re
from collections.abc import Hashable
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast

import pandas as pd

from ._endpoints import BODY_FIELDS, coerce_field
from ._exceptions import ConfigError, TenantsFileError
from ._values import is_blank
from ._warnings import warn

__all__ = ["ALIASES", "normal_header", "read_tenants"]

ALIASES = {
    "tenant": "tenant", "tenant_id": "tenant", "tenantid": "tenant", "tenant_name": "tenant",
    "flow": "flow_id", "flow_id": "flow_id", "flowid": "flow_id",
    "env": "env_id", "env_id": "env_id", "environment": "env_id", "environment_id": "env_id",
}  # fmt: skip
EXCEL = (".xlsx", ".xlsm")
FLOAT_ID = re.compile(r"^(\d+)\.0+$")
Source = str | os.PathLike[str] | IO[bytes] | IO[str]


def read_tenants(
    path_or_buffer: Source | pd.DataFrame,
    *,
    sheet: str | int | None = None,
    tenant_column: str | None = None,
    on_invalid: str = "raise",
) -> pd.DataFrame:
    """Read and check a tenants file (CSV, XLSX, ODS) or frame, ready for ``launch_jobs``.

    Ids are read as text (leading zeros kept; ``12598713.0`` from a numeric cell becomes
    ``12598713``), headers are matched loosely (``Tenant ID`` -> ``tenant``), JSON cells are
    parsed for object fields, dates explicitly (Excel date cells or ISO text; an ambiguous or
    impossible date is refused, never guessed). Every problem is reported at once, with the
    spreadsheet's own row numbers (the header is row 1).

    Parameters
    ----------
    path_or_buffer : str, PathLike, file object or DataFrame
        A ``.csv``/``.txt``, ``.xlsx``/``.xlsm`` or ``.ods`` file, an open one, or a frame.
    sheet : str or int, optional
        The workbook's sheet (default: the first; refused if another has a tenant column).
    tenant_column : str, optional
        The header of the tenant ids, if not one ``read_tenants`` recognises.
    on_invalid : {"raise", "skip"}
        Raise on any problem, or drop the bad rows with a warning that lists them.

    Returns
    -------
    DataFrame
        ``tenant`` (and ``flow_id``, ``env_id``, body fields typed by their kind; other
        columns as they were), indexed by the spreadsheet row number (``row``).

    Raises
    ------
    TenantsFileError
        The file cannot be read or has problems; ``.problems`` lists every one.
    ConfigError
        ``on_invalid`` is neither ``"raise"`` nor ``"skip"``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> tenants = hg.read_tenants("tenants.xlsx", on_invalid="skip")
    >>> results = hg.launch_jobs(tenants, flow_id="l8odS2mce")
    """
    if on_invalid not in ("raise", "skip"):
        raise ConfigError(f"on_invalid must be 'raise' or 'skip', got {on_invalid!r}.")
    if isinstance(path_or_buffer, pd.DataFrame):  # a frame already: the same checks
        raw = path_or_buffer.astype(object).reset_index(drop=True)
        raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
        raw, name = raw, "the frame"
    else:
        raw, name = _read(path_or_buffer, sheet)
    frame = _rename(raw, tenant_column, name)
    problems: dict[int, list[str]] = {}
    out = _convert(frame, problems)
    _duplicates(out, problems)
    return _finish(out, problems, on_invalid, name)


def _read(source: Source, sheet: str | int | None) -> tuple[pd.DataFrame, str]:
    name, kind = _kind(source)
    try:
        if kind == "csv":
            frame = _csv(source, name)
        else:
            excel: Any = pd.read_excel
            frame = excel(
                source, sheet_name=sheet or 0, dtype=object, engine=_engine(kind),
                keep_default_na=False, na_values=[""],  # "NA", "null"... may be tenant ids
            )  # fmt: skip
    except FileNotFoundError:
        raise TenantsFileError(f"No such file: {name}.") from None
    except ValueError as exc:
        if "Worksheet" in str(exc) or "sheet" in str(exc).lower():
            raise TenantsFileError(f"{name}: {exc}. Pass sheet= with one of its sheets.") from None
        raise TenantsFileError(f"{name} cannot be read as {kind.upper()}: {exc}") from None
    except TenantsFileError:
        raise
    except Exception as exc:  # parsers raise many types (BadZipFile, ParserError, ...)
        raise TenantsFileError(f"{name} cannot be read as {kind.upper()}: {exc}") from None
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")  # spreadsheet rows
    if kind != "csv" and sheet is None:
        _other_sheets(source, frame, name)
    if kind == "xlsx":
        _mark_uncached(source, sheet, frame)
    return frame, name


def _csv(source: Source, name: str) -> pd.DataFrame:
    """A CSV as Excel and Sheets write them: UTF-8 (BOM or not) or UTF-16, separated by
    commas, semicolons (a European Excel) or tabs, sniffed from the first lines."""
    data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else source.read()
    if isinstance(data, bytes):
        try:
            utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
            data = data.decode("utf-16" if utf16 else "utf-8-sig")
        except UnicodeDecodeError:
            raise TenantsFileError(
                f"{name} is not UTF-8 text: save it as 'CSV UTF-8 (comma delimited)'."
            ) from None
    head = "\n".join(data.splitlines()[:20])
    sep = max(",;\t|", key=lambda c: (head.count(c), c == ","))
    try:
        return pd.read_csv(io.StringIO(data), sep=sep, dtype=str, keep_default_na=False,
                           skip_blank_lines=False)  # fmt: skip
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not found:
            raise
        want, line, saw = found.groups()
        raise TenantsFileError(
            f"{name}, line {line}: {saw} cells where the header has {want} (a trailing "
            f"{sep!r}?): remove the extra separators, or name the extra column in the header."
        ) from None


def _other_sheets(source: Source, frame: pd.DataFrame, name: str) -> None:
    """No sheet= given: tenants on another sheet (or on several) must not pass unseen."""
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        excel: Any = pd.read_excel
        sheets = excel(source, sheet_name=None, nrows=0, engine=_engine("xlsx"))
    except Exception:
        return
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    with_ids = [str(n) for n, f in sheets.items()
                if any(ALIASES.get(normal_header(c)) == "tenant" for c in f.columns)]  # fmt: skip
    first = any(ALIASES.get(normal_header(c)) == "tenant" for c in frame.columns)
    if len(with_ids) > 1:
        raise TenantsFileError(f"{name}: the sheets {with_ids} all have a tenant column: "
                               "pass sheet= with the one to launch.")  # fmt: skip
    if with_ids and not first:
        raise TenantsFileError(f"{name}: the first sheet has no tenant column; sheet "
                               f"{with_ids[0]!r} has one: pass sheet={with_ids[0]!r}.")  # fmt: skip


class _Uncached:
    """A formula cell read without a value (a workbook written by a script, never opened)."""

    def __repr__(self) -> str:
        return "<formula without a saved value>"


UNCACHED = _Uncached()


def _mark_uncached(source: Source, sheet: str | int | None, frame: pd.DataFrame) -> None:
    """Mark the formula cells that came back empty, so their rows are reported, not dropped."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl comes with the excel extra
        return
    if hasattr(source, "seek"):
        source.seek(0)
    book: Any = openpyxl.load_workbook(source, read_only=True, data_only=False)
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet or 0]
        for cells in ws.iter_rows(min_row=2, max_col=len(frame.columns)):
            for position, cell in enumerate(cells):
                row: Any = getattr(cell, "row", None)
                if cell.data_type == "f" and row in frame.index:
                    if is_blank(frame.iat[row - 2, position]):
                        frame.iat[row - 2, position] = cast(Any, UNCACHED)
    finally:
        book.close()


def _kind(source: Source) -> tuple[str, str]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        suffix = path.suffix.lower()
        if suffix in (".csv", ".txt"):
            return path.name, "csv"
        if suffix in EXCEL:
            return path.name, "xlsx"
        if suffix == ".ods":
            return path.name, "ods"
        raise TenantsFileError(f"{path.name}: tenants files must be .csv, .xlsx or .ods.")
    head = source.read(2)
    source.seek(0)
    is_zip = head in (b"PK", "PK")  # xlsx/ods are zip files
    return "<buffer>", ("xlsx" if is_zip else "csv")


def _engine(kind: str) -> str:
    if importlib.util.find_spec("python_calamine") is not None:
        return "calamine"
    if kind == "ods":
        raise TenantsFileError("Reading .ods needs python-calamine: pip install python-calamine.")
    if importlib.util.find_spec("openpyxl") is None:
        raise TenantsFileError("Reading .xlsx needs openpyxl: pip install 'hotglue_nb[excel]'.")
    return "openpyxl"


def normal_header(header: Hashable) -> str:
    """A header as compared with ``ALIASES`` (lower case, spaces and dashes as _)."""
    return re.sub(r"[\s\-]+", "_", str(header).strip().lower())


def _rename(frame: pd.DataFrame, tenant_column: str | None, name: str) -> pd.DataFrame:
    mapping: dict[Hashable, str] = {}
    kept: list[Hashable] = []
    problems = []
    for col in frame.columns:
        key = normal_header(col)
        target = ALIASES.get(key) or (key if key in BODY_FIELDS else None)
        if tenant_column is not None and str(col) == tenant_column:
            target = "tenant"
        elif tenant_column is not None and target == "tenant":
            mapping[col] = f"{col}_original"  # tenant_column= wins; keep this one aside
            continue
        if target is None:
            close = difflib.get_close_matches(key, [*BODY_FIELDS, *ALIASES], n=1, cutoff=0.8)
            if close:
                problems.append(f"column {col!r} looks like a misspelt {close[0]!r}; rename it")
            kept.append(col)  # the user's own columns (notes, owner...) travel along
            continue
        if target in mapping.values():
            problems.append(f"columns map twice to {target!r}: keep one")
        mapping[col] = target
    if "tenant" not in mapping.values():
        headers = ", ".join(map(repr, frame.columns))
        problems.append(
            f"no tenant column (headers: {headers}); name it 'tenant' or pass tenant_column="
        )
    if problems:
        raise TenantsFileError(f"{name}: " + "; ".join(problems) + ".", problems)
    return frame[[*mapping, *kept]].rename(columns=mapping)


def _convert(frame: pd.DataFrame, problems: dict[int, list[str]]) -> pd.DataFrame:
    blank = frame.map(is_blank).all(axis=1)
    frame = frame[~blank]
    columns: dict[str, list[Any]] = {}
    for col in frame.columns:
        values = []
        for row, cell in frame[col].items():
            value, problem = _cell(str(col), cell)
            values.append(value)
            if problem:
                problems.setdefault(int(row), []).append(f"column {col!r}: {problem}")  # type: ignore[call-overload]
        columns[str(col)] = values
    return pd.DataFrame(columns, index=frame.index)


def _cell(col: str, cell: Any) -> tuple[Any, str | None]:
    if cell is UNCACHED:
        return None, (
            "a formula without a saved value (the file was written by a script): open and "
            "save it in Excel, or write the values themselves"
        )
    if is_blank(cell):
        return None, ("blank tenant id" if col == "tenant" else None)
    if col in ("tenant", "flow_id", "env_id"):
        return _id(cell)
    kind = BODY_FIELDS.get(col)
    if kind is None:
        return cell, None
    try:
        if kind == "date-time":
            return _date(cell), None
        if kind == "boolean":
            return _bool(cell), None
        if kind == "object":
            return coerce_field(col, kind, cell), None
        return str(cell).strip(), None
    except ConfigError as exc:
        return cell, str(exc)


def _id(cell: Any) -> tuple[str | None, str | None]:
    if isinstance(cell, bool):
        return None, f"{cell!r} is not an id"
    if isinstance(cell, (int, float)) and abs(cell) > 2**53:
        return None, (
            f"{cell!r} is a number too large for a spreadsheet to keep exactly (beyond 2**53): "
            "store ids as text (format the column as Text)"
        )
    if isinstance(cell, float):
        if not cell.is_integer():
            return None, f"{cell!r} is not a whole-number id"
        return str(int(cell)), None
    text = str(cell).strip()
    match = FLOAT_ID.match(text)
    return (match.group(1) if match else text), None


def _date(cell: Any) -> pd.Timestamp:
    if isinstance(cell, (datetime, date)):
        stamp = pd.Timestamp(cell)
    else:
        text = str(cell).strip()
        if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
            raise ConfigError(
                f"{text!r} is not an unambiguous date: write it as YYYY-MM-DD "
                "(or use a real date cell)"
            )
        try:
            stamp = pd.Timestamp(datetime.fromisoformat(text))
        except ValueError:
            raise ConfigError(f"{text!r} is not a valid date") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}


def _bool(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    text = str(cell).strip().lower()
    if isinstance(cell, (int, float)) and cell in (0, 1):
        return bool(cell)
    if text in TRUE | FALSE:
        return text in TRUE
    raise ConfigError(f"{cell!r} is not TRUE/FALSE")


def _duplicates(frame: pd.DataFrame, problems: dict[int, list[str]]) -> None:
    keys = [c for c in ("tenant", "flow_id", "env_id") if c in frame]
    seen: dict[tuple[Any, ...], int] = {}
    for row, values in zip(frame.index, frame[keys].itertuples(index=False), strict=True):
        key = tuple(values)
        if is_blank(key[0]):  # a bad id is reported once, as itself
            continue
        if key in seen:
            what = " + ".join(f"{k}={v!r}" for k, v in zip(keys, key, strict=True) if v)
            problems.setdefault(int(row), []).append(f"duplicate of row {seen[key]} ({what})")
        else:
            seen[key] = int(row)


def _finish(
    frame: pd.DataFrame, problems: dict[int, list[str]], on_invalid: str, name: str
) -> pd.DataFrame:
    lines = [f"row {row}: {msg}" for row, msgs in sorted(problems.items()) for msg in msgs]
    if lines and on_invalid == "raise":
        shown = "\n  ".join(lines[:50]) + (
            f"\n  ... and {len(lines) - 50} more" if len(lines) > 50 else ""
        )
        raise TenantsFileError(
            f"{name}: {len(problems)} row(s) have problems:\n  {shown}\n"
            "Fix the file, or pass on_invalid='skip' to drop these rows.",
            lines,
        )
    if lines:
        warn(f"{name}: skipped {len(problems)} bad row(s): " + "; ".join(lines))
        frame = frame.drop(index=list(problems))
    return _dtypes(frame)


def _dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    for col in frame.columns:
        kind = BODY_FIELDS.get(col)
        if col in ("tenant", "flow_id", "env_id") or kind == "string":
            frame[col] = frame[col].astype("string")
        elif kind == "boolean":
            frame[col] = frame[col].astype("boolean")
        elif kind == "date-time":
            frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame

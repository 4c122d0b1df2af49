"""Records as JSON, faithfully: the values a write job carries in ``state``."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .._exceptions import ConfigError
from .._values import to_python

__all__ = ["record_values"]


def record_values(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON records, typed faithfully: ints stay ints, a missing value (None, NaN,
    NA, NaT) is null, timestamps and dates are ISO-8601, durations ISO-8601 too, Decimals
    exact (as text), numpy scalars and arrays Python ones; lists and dicts are converted
    inside. What JSON cannot carry (bytes, infinity, other objects) is refused with its row
    and column named."""
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise ConfigError(f"The records have columns named alike {twice}: rename them.")
    values = []
    for name, column in zip(columns, frame.columns, strict=True):
        cells = _narrow_floats(frame[column]) or frame[column].tolist()
        values.append([_cell(v, name, n) for n, v in enumerate(cells)])
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _cell(value: Any, column: str, row: int) -> Any:
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, dict):
        return _object(value, column, row)
    if isinstance(value, list | tuple | np.ndarray):
        return [_cell(v, column, row) for v in list(value)]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, datetime | date):  # pd.Timestamp too
        return value.isoformat()
    if isinstance(value, np.datetime64):  # inside a list column (Parquet list<timestamp>)
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.isoformat()
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        value = float(str(value))  # float32 19.99 goes as 19.99, not its double expansion
    if isinstance(value, timedelta | np.timedelta64):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, Decimal):
        return None if value.is_nan() else str(value)
    value = to_python(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ConfigError(f"Record {row}, column {column!r}: infinity cannot go as JSON.")
        return value
    if isinstance(value, str | bool | int):
        return value
    raise ConfigError(
        f"Record {row}, column {column!r}: a {type(value).__name__} cannot go as JSON; "
        "convert the column (e.g. to text) first."
    )


def _object(value: dict[Any, Any], column: str, row: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key)
        if name in out:
            raise ConfigError(
                f"Record {row}, column {column!r}: the keys {given[name]!r} and {key!r} are "
                f"one key ({name!r}) in JSON, so one value would be lost; rename one of them."
            )
        out[name], given[name] = _cell(item, column, row), key
    return out


def _narrow_floats(column: pd.Series) -> list[Any] | None:
    """A float32 / float16 column's values as the numbers they show (``19.99``), not the
    double expansion ``tolist`` gives (``19.989999771118164``); None for any other column."""
    dtype: Any = column.dtype
    numpy_dtype: Any = getattr(dtype, "numpy_dtype", dtype)
    if getattr(numpy_dtype, "kind", "") != "f" or numpy_dtype.itemsize >= 8:
        return None
    kind = numpy_dtype.type
    return [None if pd.isna(v) else float(str(kind(v))) for v in column.tolist()]

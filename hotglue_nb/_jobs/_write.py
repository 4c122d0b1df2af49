"""Records of a DataFrame to two-way (V2) write jobs: batches, and the failed records back.

A write job carries its records in ``state`` keyed by unified-schema object [C]
(``{"Contact": [{...}, ...]}``). ``write_frame`` turns a records frame into a launch frame,
one row per batch, so that ``launch_jobs`` sends each batch exactly once under its own job
name, journaled and resumable like any run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd

from .._exceptions import ConfigError
from .._frames import BATCH_COLUMNS
from .._options import LaunchOptions
from .._values import to_python

__all__ = [
    "DEFAULT_MAX_BYTES", "object_counts", "record_values", "with_batches", "with_counts",
    "write_frame", "write_plan",
]  # fmt: skip

#: a batch's JSON stays under this many bytes unless told otherwise. hotglue publishes no
#: limit [I]; AWS API Gateway caps a request at 10 MB and Lambda at 6 MB, so 1 MB is well under.
DEFAULT_MAX_BYTES = 1_000_000
BODY_ROOM = 1_024  # bytes of a write request that are not records
COUNTS = ("success", "fail", "existing", "updated")


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
        cells = frame[column].tolist()
        values.append([_cell(v, name, n) for n, v in enumerate(cells)])
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _cell(value: Any, column: str, row: int) -> Any:
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, dict):
        return {str(k): _cell(v, column, row) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_cell(v, column, row) for v in list(value)]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, datetime | date):  # pd.Timestamp too
        return value.isoformat()
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


def write_frame(
    records: pd.DataFrame,
    *,
    tenant: Any,
    connector_id: str | None,
    object_name: str,
    batch_size: int | None,
    max_bytes: int,
) -> pd.DataFrame:
    """The launch frame: one row per batch (``tenant``, ``connector_id``, ``job_type``,
    ``state`` and where the batch lies in ``records``).

    ``tenant``: one id, or many (a list, or a frame with ``tenant`` and maybe
    ``connector_id``): every tenant gets all the records. ``None``: the records' own
    ``tenant`` (and ``connector_id``) columns say where each record goes.
    """
    _check(records, tenant, connector_id, object_name, batch_size, max_bytes)
    object_name = object_name.strip()
    rows: list[dict[str, Any]] = []
    own = [c for c in ("tenant", "connector_id") if c in records]
    for (who, connector), positions in _groups(records, _targets(tenant, connector_id)):
        values = record_values(records.iloc[positions].drop(columns=own))
        for start, end in batches(values, batch_size, max_bytes):
            rows.append({
                "tenant": who, "connector_id": connector, "job_type": "write",
                "state": {object_name: values[start:end]}, "object": object_name,
                "batch": len(rows), "first_row": start, "record_count": end - start,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["tenant", "connector_id", "job_type", "state",
                                       *BATCH_COLUMNS])  # fmt: skip


def write_plan(
    records: pd.DataFrame, object_name: str, tenant: Any, batch_size: int | None,
    max_bytes: int, options: LaunchOptions,
) -> tuple[pd.DataFrame, LaunchOptions]:  # fmt: skip
    """What ``write_records`` (blocking or async) hands to ``launch_jobs``: the batch frame,
    and the options without ``connector_id`` (the frame has it), a tenant's batches side by
    side unless told otherwise."""
    opts = cast(LaunchOptions, dict(options))
    connector_id = opts.pop("connector_id", None)
    opts.setdefault("ignore_parallel_jobs", True)
    frame = write_frame(records, tenant=tenant, connector_id=connector_id, object_name=object_name,
                        batch_size=batch_size, max_bytes=max_bytes)  # fmt: skip
    return frame, opts


Target = tuple[Any, Any]  # (tenant, connector_id); None: from the records' own column


def _targets(tenant: Any, connector_id: str | None) -> list[Target]:
    if isinstance(tenant, pd.DataFrame):
        if "tenant" not in tenant:
            raise ConfigError("The tenants frame given as tenant= has no 'tenant' column.")
        own = tenant["connector_id"] if "connector_id" in tenant else [None] * len(tenant)
        return [(t, c if c is not None and c == c else connector_id)
                for t, c in zip(tenant["tenant"], own, strict=True)]  # fmt: skip
    if isinstance(tenant, list | tuple | pd.Series | pd.Index):
        return [(t, connector_id) for t in tenant]
    return [(tenant, connector_id)]


def _groups(records: pd.DataFrame, targets: list[Target]) -> Iterator[tuple[Target, list[int]]]:
    """(tenant, connector) -> positions of its records, in the records' order."""
    groups: dict[Target, list[int]] = {}
    size = len(records)
    for tenant, connector in targets:
        who = records["tenant"].tolist() if tenant is None else [tenant] * size
        via = records["connector_id"].tolist() if connector is None else [connector] * size
        for position, key in enumerate(zip(who, via, strict=True)):
            if any(v is None or v is pd.NA or v != v or str(v).strip() == "" for v in key):
                raise ConfigError(
                    f"Record at position {position} has no tenant or connector_id: give "
                    "tenant= and connector_id=, or fill the records' own columns."
                )
            groups.setdefault((to_python(key[0]), to_python(key[1])), []).append(position)
    yield from groups.items()  # ids as given: the launch checks them as for any row


def batches(
    values: list[dict[str, Any]], batch_size: int | None, max_bytes: int
) -> Iterator[tuple[int, int]]:
    """[start, end) of each batch: at most ``batch_size`` records and ``max_bytes`` of JSON."""
    room = max_bytes - BODY_ROOM  # the request's other fields (job name, connector, ...)
    start, size, limit = 0, 2, batch_size or len(values) or 1  # 2: the list's brackets
    for end, record in enumerate(values):
        length = len(json.dumps(record, sort_keys=True).encode()) + 2  # as the plan writes it
        if length + 2 > room:
            raise ConfigError(
                f"The record at position {end} alone is {length:,} bytes of JSON, too many "
                f"for max_bytes={max_bytes:,} (which also holds the rest of the request): "
                "raise max_bytes or trim the record."
            )
        if end > start and (end - start >= limit or size + length > room):
            yield start, end
            start, size = end, 2
        size += length
    if start < len(values):
        yield start, len(values)


def _check(
    records: Any, tenant: Any, connector_id: Any, object_name: Any, batch_size: Any,
    max_bytes: Any,
) -> None:  # fmt: skip
    if not isinstance(records, pd.DataFrame):
        raise ConfigError(f"records must be a DataFrame, got {type(records).__name__}.")
    many_with_connectors = isinstance(tenant, pd.DataFrame) and "connector_id" in tenant
    for name, given in (("tenant", tenant), ("connector_id", connector_id)):
        if name == "connector_id" and many_with_connectors:
            continue
        if given is None and name not in records:
            raise ConfigError(f"Say where the records go: {name}='...', or a {name!r} column.")
        if given is not None and name in records:  # which one? and never drop a field
            raise ConfigError(f"The records have a {name!r} column and {name}= was given: "
                              f"drop {name}= to use the column, or rename the column.")  # fmt: skip
    if not isinstance(object_name, str) or not object_name.strip():
        raise ConfigError("object= names the unified-schema object written, e.g. 'Contact'.")
    bad_size = isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    if batch_size is not None and bad_size:
        raise ConfigError(f"batch_size must be a whole number >= 1 or None, got {batch_size!r}.")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 4 * BODY_ROOM:
        raise ConfigError(
            f"max_bytes must be a whole number >= {4 * BODY_ROOM}, got {max_bytes!r}."
        )


def with_batches(results: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The launch's results with where each batch lies, and, once waited for, its object's
    ``success`` / ``fail`` / ``existing`` / ``updated`` counts."""
    out = results.copy()
    for name, dtype in BATCH_COLUMNS.items():
        out[name] = frame[name].astype(cast(Any, dtype)).array
    return with_counts(out)


def with_counts(out: pd.DataFrame) -> pd.DataFrame:
    """(Re)compute a write's count columns from ``export_summary`` (also after a separate
    ``wait_for_jobs`` of write_records' results)."""
    summaries = out["export_summary"] if "export_summary" in out else [None] * len(out)
    counts = [object_counts(text, obj) for text, obj in zip(summaries, out["object"], strict=True)]
    for name in COUNTS:
        out[name] = pd.array([c.get(name) for c in counts], dtype="Int64")
    return out


def object_counts(text: Any, object_name: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    tally = json.loads(text).get(str(object_name))
    return {k: v for k, v in tally.items() if isinstance(v, int)} if isinstance(tally, dict) else {}

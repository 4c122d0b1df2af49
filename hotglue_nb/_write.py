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
from datetime import date, datetime
from typing import Any, cast

import pandas as pd

from ._exceptions import ConfigError
from ._plan import to_python

__all__ = ["DEFAULT_MAX_BYTES", "failed_records", "record_values", "write_frame"]

#: a batch's JSON stays under this many bytes unless told otherwise. hotglue publishes no
#: limit [I]; AWS API Gateway caps a request at 10 MB and Lambda at 6 MB, so 1 MB is well under.
DEFAULT_MAX_BYTES = 1_000_000
#: ``first_row``: the batch's first record, counted within its tenant's (and connector's) records
BATCH_COLUMNS = {"object": "string", "batch": "Int64", "first_row": "Int64", "records": "Int64"}
COUNTS = ("success", "fail", "existing", "updated")


def record_values(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON records, typed faithfully: ints stay ints, a missing value (None, NaN,
    NA, NaT) is null, timestamps and dates are ISO-8601, numpy scalars become Python ones."""
    columns = [str(c) for c in frame.columns]
    values = [[_cell(v) for v in frame[c].tolist()] for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):  # pd.Timestamp too
        return value.isoformat()
    value = to_python(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_frame(
    records: pd.DataFrame,
    *,
    tenant: str | None,
    connector_id: str | None,
    object_name: str,
    batch_size: int | None,
    max_bytes: int,
) -> pd.DataFrame:
    """The launch frame: one row per batch (``tenant``, ``connector_id``, ``job_type``,
    ``state`` and where the batch lies in ``records``). With ``tenant=None`` the records'
    own ``tenant`` (and ``connector_id``) columns say where each record goes."""
    _check(records, tenant, connector_id, object_name, batch_size, max_bytes)
    rows: list[dict[str, Any]] = []
    for (who, connector), positions in _groups(records, tenant, connector_id):
        part = records.iloc[positions].drop(columns=["tenant", "connector_id"], errors="ignore")
        values = record_values(part)
        for start, end in batches(values, batch_size, max_bytes):
            rows.append({
                "tenant": who, "connector_id": connector, "job_type": "write",
                "state": {object_name: values[start:end]}, "object": object_name,
                "batch": len(rows), "first_row": start, "records": end - start,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["tenant", "connector_id", "job_type", "state",
                                       *BATCH_COLUMNS])  # fmt: skip


def _groups(
    records: pd.DataFrame, tenant: str | None, connector_id: str | None
) -> Iterator[tuple[tuple[str, str], list[int]]]:
    """(tenant, connector) -> positions of its records, in the records' order."""
    who = records["tenant"].tolist() if tenant is None else [tenant] * len(records)
    has_own = connector_id is None and "connector_id" in records
    via = records["connector_id"].tolist() if has_own else [connector_id] * len(records)
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(zip(who, via, strict=True)):
        if any(v is None or pd.isna(v) or str(v).strip() == "" for v in key):
            raise ConfigError(
                f"Record at position {position} has no tenant or connector_id: give "
                "tenant= and connector_id=, or fill the records' own columns."
            )
        groups.setdefault((str(key[0]), str(key[1])), []).append(position)
    yield from groups.items()


def batches(
    values: list[dict[str, Any]], batch_size: int | None, max_bytes: int
) -> Iterator[tuple[int, int]]:
    """[start, end) of each batch: at most ``batch_size`` records and ``max_bytes`` of JSON."""
    start, size, limit = 0, 2, batch_size or len(values) or 1  # 2: the list's brackets
    for end, record in enumerate(values):
        length = len(json.dumps(record, ensure_ascii=False, allow_nan=False).encode()) + 1
        if length + 2 > max_bytes:
            raise ConfigError(
                f"The record at position {end} alone is {length:,} bytes of JSON, over "
                f"max_bytes={max_bytes:,}: raise max_bytes or trim the record."
            )
        if end > start and (end - start >= limit or size + length > max_bytes):
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
    if tenant is None and "tenant" not in records:
        raise ConfigError("Say where the records go: tenant='...', or a 'tenant' column.")
    if connector_id is None and "connector_id" not in records:
        raise ConfigError("Say which connector writes: connector_id='...' (a linked connector "
                          "of the two-way flow), or a 'connector_id' column.")  # fmt: skip
    if not isinstance(object_name, str) or not object_name.strip():
        raise ConfigError("object= names the unified-schema object written, e.g. 'Contact'.")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ConfigError(f"batch_size must be a whole number >= 1 or None, got {batch_size!r}.")
    if not isinstance(max_bytes, int) or max_bytes < 1024:
        raise ConfigError(f"max_bytes must be a whole number >= 1024, got {max_bytes!r}.")


def with_batches(results: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The launch's results with where each batch lies, and, once waited for, its object's
    ``success`` / ``fail`` / ``existing`` / ``updated`` counts."""
    out = results.copy()
    for name, dtype in BATCH_COLUMNS.items():
        out[name] = frame[name].astype(cast(Any, dtype)).array
    summaries = out["export_summary"] if "export_summary" in out else [None] * len(out)
    counts = [_counts(text, obj) for text, obj in zip(summaries, out["object"], strict=True)]
    for name in COUNTS:
        out[name] = pd.array([c.get(name) for c in counts], dtype="Int64")
    return out


def _counts(text: Any, object_name: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    tally = json.loads(text).get(str(object_name))
    return {k: v for k, v in tally.items() if isinstance(v, int)} if isinstance(tally, dict) else {}


def failed_records(results: pd.DataFrame, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """The records the target refused, from ``write_records(..., wait=True)``'s results.

    With ``records`` (the frame given to ``write_records``) the rows come back as they were,
    with their own index labels; without it, they are rebuilt from the requests sent (JSON
    values). Either way a ``batch`` column says which job carried each one.
    """
    if not {"export_failures", "request", "first_row", "object"} <= set(results.columns):
        raise ConfigError("failed_records needs the results of write_records(..., wait=True).")
    found: list[tuple[tuple[str, str], int]] = []  # (tenant, connector), offset in its records
    rebuilt: list[dict[str, Any]] = []
    batch_of: list[Any] = []
    for row in results.to_dict("records"):
        failed = _failed_positions(row["export_failures"], row["object"])
        sent = json.loads(str(row["request"]))["state"][row["object"]] if failed else []
        key = (str(row["tenant"]), str(row["connector_id"]))
        found += [(key, int(row["first_row"]) + n) for n in failed]
        rebuilt += [sent[n] for n in failed]
        batch_of += [row["batch"]] * len(failed)
    if records is None:
        out = pd.DataFrame(rebuilt)
    else:
        groups = dict(_groups(records, *_single(results)))
        out = records.iloc[[groups[key][offset] for key, offset in found]].copy()
    out["batch"] = pd.array(batch_of, dtype="Int64")
    return out


def _single(results: pd.DataFrame) -> tuple[str | None, str | None]:
    """The tenant and connector every batch shares (None: each record says its own)."""
    tenants, connectors = results["tenant"].unique(), results["connector_id"].unique()
    return (str(tenants[0]) if len(tenants) == 1 else None,
            str(connectors[0]) if len(connectors) == 1 else None)  # fmt: skip


def _failed_positions(text: Any, object_name: Any) -> list[int]:
    if not isinstance(text, str):
        return []
    found = json.loads(text).get(str(object_name))
    return [int(n) for n in found] if isinstance(found, list) else []

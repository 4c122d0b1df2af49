"""Records of a DataFrame to two-way (V2) write jobs: batches, and the failed records back.

A write job carries its records in ``state`` keyed by unified-schema object [C]
(``{"Contact": [{...}, ...]}``). ``write_frame`` turns a records frame into a launch frame,
one row per batch, so that ``launch_jobs`` sends each batch exactly once under its own job
name, journaled and resumable like any run.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, cast

import pandas as pd

from .._endpoints import V2_BODY_FIELDS
from .._exceptions import ConfigError, HotglueError
from .._frames import BATCH_COLUMNS
from .._journal import JournalState, find_journal, read_journal
from .._last_run import remember
from .._options import LaunchOptions
from .._values import to_python
from ._records import record_values

__all__ = [
    "COUNTS", "DEFAULT_MAX_BYTES", "body_defaults", "interrupted_write", "object_counts",
    "record_values", "with_batches", "with_counts", "write_frame", "write_plan",
]  # fmt: skip

#: a batch's JSON stays under this many bytes unless told otherwise. hotglue publishes no
#: limit [I]; AWS API Gateway caps a request at 10 MB and Lambda at 6 MB, so 1 MB is well under.
DEFAULT_MAX_BYTES = 1_000_000
BODY_ROOM = 1_024  # the smallest max_bytes is 4x this
SLACK = 16  # bytes kept free beyond the measured request
COUNTS = ("success", "fail", "existing", "updated")


def write_frame(
    records: pd.DataFrame,
    *,
    tenant: Any,
    connector_id: str | None,
    object_name: str,
    batch_size: int | None,
    max_bytes: int,
    body: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The launch frame: one row per batch (``tenant``, ``connector_id``, ``job_type``,
    ``state`` and where the batch lies in ``records``), each labelled by its identity.

    ``tenant``: one id, or many (a list, or a frame with ``tenant`` and maybe
    ``connector_id``): every tenant gets all the records. ``None``: the records' own
    ``tenant`` (and ``connector_id``) columns say where each record goes. ``body``: the
    other fields every request carries (measured, so a request stays within ``max_bytes``).

    A batch's label is a digest of where it goes and of its records' index labels and
    values: a resume matches batches by it, so the same records given in another order (or
    changed) can never be taken for the batches already sent.
    """
    _check(records, tenant, connector_id, object_name, batch_size, max_bytes)
    object_name = object_name.strip()
    rows: list[dict[str, Any]] = []
    keys: list[str] = []
    own = [c for c in ("tenant", "connector_id") if c in records]
    for (who, connector), positions in _groups(records, _targets(tenant, connector_id)):
        values = record_values(records.iloc[positions].drop(columns=own))
        labels = [str(label) for label in records.index[positions]]
        room = max_bytes - _overhead(body or {}, connector, object_name)
        for start, end in batches(values, batch_size, room, max_bytes):
            keys.append(_identity(len(rows), (who, connector, object_name),
                                  labels[start:end], values[start:end]))  # fmt: skip
            rows.append({
                "tenant": who, "connector_id": connector, "job_type": "write",
                "state": {object_name: values[start:end]}, "object": object_name,
                "batch": len(rows), "first_row": start, "record_count": end - start,
            })  # fmt: skip
    columns = ["tenant", "connector_id", "job_type", "state", *BATCH_COLUMNS]
    return pd.DataFrame(rows, columns=columns, index=pd.Index(keys, dtype=object))


def _identity(number: int, where: tuple[Any, ...], labels: list[str], values: list[Any]) -> str:
    text = json.dumps([list(map(str, where)), labels, values], sort_keys=True, default=str)
    return f"batch-{number}-{hashlib.sha256(text.encode()).hexdigest()[:20]}"


#: a job name as the launch makes it: ``<name>~<run id: 22 characters>-<row: 6+ digits>``
_NAME_SUFFIX = 1 + 22 + 1 + 9


def _overhead(body: dict[str, Any], connector: Any, object_name: str) -> int:
    """Bytes of a write request that are not records: its other fields, the unique job
    name and the empty ``state``, written as the launch writes the request."""
    name = str(body.get("job_name") or "hotglue-nb") + "x" * _NAME_SUFFIX
    shell = {**body, "connector_id": str(connector), "job_type": "write", "job_name": name,
             "state": {object_name: []}}  # fmt: skip
    return len(json.dumps(shell, sort_keys=True, default=str).encode()) + SLACK


def body_defaults(options: LaunchOptions) -> dict[str, Any]:
    """The request fields every batch carries from the options (``environment_variables``,
    ``job_name``...), for measuring."""
    return {k: v for k, v in dict(options).items() if k in V2_BODY_FIELDS and v is not None}


def write_plan(
    records: pd.DataFrame, object_name: str, tenant: Any, batch_size: int | None,
    max_bytes: int, options: LaunchOptions,
) -> tuple[pd.DataFrame, LaunchOptions]:  # fmt: skip
    """What ``write_records`` (blocking or async) hands to ``launch_jobs``: the batch frame,
    and the options without ``connector_id`` (the frame has it), a tenant's batches side by
    side unless told otherwise. A resume is checked against the batches its run planned."""
    opts = cast(LaunchOptions, dict(options))
    connector_id = opts.pop("connector_id", None)
    opts.setdefault("ignore_parallel_jobs", True)
    frame = write_frame(records, tenant=tenant, connector_id=connector_id, object_name=object_name,
                        batch_size=batch_size, max_bytes=max_bytes,
                        body=body_defaults(opts))  # fmt: skip
    if opts.get("resume") is not None:
        _same_batches(frame, read_journal(find_journal(cast(str, opts["resume"]))))
    return frame, opts


def _same_batches(frame: pd.DataFrame, state: JournalState) -> None:
    planned = [str(label) for label in state.run.get("labels") or []]
    differ = [key for key in frame.index if key not in set(planned)]
    if differ or len(frame) != len(planned):
        raise ConfigError(
            f"These records do not make the batches run {state.run_id} planned ({len(planned)} "
            f"batches; {len(differ)} of the {len(frame)} made now differ): a batch is its "
            "records' index labels and values, in order. Resume with the same records in the "
            "same order (and the same batch_size / max_bytes), or start a new run without "
            "resume= (hg.failed_records of the old run says what it did not write)."
        )


Target = tuple[Any, Any]  # (tenant, connector_id); None: from the records' own column


def _targets(tenant: Any, connector_id: str | None) -> list[Target]:
    targets = _target_list(tenant, connector_id)
    seen = Counter(targets)
    twice = sorted({str(t[0]) for t, n in seen.items() if n > 1})
    if twice:
        raise ConfigError(
            f"tenant= names {twice} more than once: each would get every record again. "
            "Give each tenant (and connector) once, e.g. tenants.drop_duplicates('tenant')."
        )
    return targets


def _target_list(tenant: Any, connector_id: str | None) -> list[Target]:
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
    values: list[dict[str, Any]], batch_size: int | None, room: int, max_bytes: int
) -> Iterator[tuple[int, int]]:
    """[start, end) of each batch: at most ``batch_size`` records, and records whose JSON
    (as the request writes them) fits in ``room`` bytes (``max_bytes`` less the rest of the
    request)."""
    start, size, limit = 0, 2, batch_size or len(values) or 1  # 2: the list's brackets
    for end, record in enumerate(values):
        length = len(json.dumps(record, sort_keys=True).encode()) + 2  # ", " between records
        if length + 2 > room:
            raise ConfigError(
                f"The record at position {end} alone is {length:,} bytes of JSON, and the "
                f"rest of the request takes {max_bytes - room:,}: too many for "
                f"max_bytes={max_bytes:,}. Raise max_bytes, trim the record, or send less "
                "with every batch (environment_variables, overrides)."
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
    ``success`` / ``fail`` / ``existing`` / ``updated`` counts; numbered 0..n-1 like
    ``batch`` (the batch identities stay in the journal). Kept for ``hg.last_run()``."""
    out = results.copy()
    for name, dtype in BATCH_COLUMNS.items():
        out[name] = frame[name].astype(cast(Any, dtype)).array
    out.index = pd.RangeIndex(len(out))
    out = with_counts(out)
    remember(out)
    return out


def interrupted_write(exc: HotglueError, frame: pd.DataFrame) -> HotglueError:
    """A write stopped part-way (an interrupt, a refused key): its results with their batch
    columns (``failed_records`` and ``record_fates`` read them), on the exception and in
    ``hg.last_run()``."""
    partial = getattr(exc, "results", None)
    if isinstance(partial, pd.DataFrame):
        exc.results = with_batches(partial, frame)  # type: ignore[attr-defined]
    return exc


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

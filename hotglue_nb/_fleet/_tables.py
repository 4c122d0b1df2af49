"""The frames of the fleet reads: one row per job (history), per tenant (latest), and the
tenants whose read failed (``attrs["errors"]``)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._endpoints import LIST_CAP
from .._frames import HISTORY_COLUMNS, columns_frame
from .._models import Job, is_failed, is_terminal
from .._values import durations_s
from .._warnings import warn
from ._reads import Read

Counts = dict[str, Any]  # metrics.recordCount: {stream: records}
CUT_SHORT = "cut_short"  # frame.attrs key of the note

__all__ = [
    "warn_cut_short",
    "errors_frame",
    "history_frame",
    "job_columns",
    "latest_frame",
    "list_limit",
]


def job_columns(jobs: list[Job], owners: list[Read], env_id: str) -> dict[str, Any]:
    """The history columns of ``jobs`` (each read by the ``owners`` at the same position),
    built a column at a time: 450,000 jobs must not become 450,000 dicts."""
    (job_id, job_name, job_root, status, starts, ends, message, error, scheduled, tap,
     job_type, flow_id, job_env, connector, raw) = _fields(jobs)  # fmt: skip
    failed, finished = _per_status(is_failed, status), _per_status(is_terminal, status)
    processed, records = _counts(raw, jobs)
    return {
        "tenant": [read.tenant for read in owners],
        "flow_id": [f or read.flow_id for f, read in zip(flow_id, owners, strict=True)],
        "env_id": [e or env_id for e in job_env],
        "job_id": job_id, "job_name": job_name, "job_root": job_root, "status": status,
        "succeeded": [(not f) if d else None for f, d in zip(failed, finished, strict=True)],
        "failed_stage": _per_status(_failed_stage, status), "start_time": starts,
        "last_updated": ends,
        "duration_s": durations_s(starts, ends, np.array(finished, dtype=bool)),
        "processed_rows": processed, "records": records, "message": message, "error": error,
        "scheduled_job": scheduled, "sync_type": [r.get("sync_type") for r in raw], "tap": tap,
        "connector_id": [c or read.connector_id for c, read in zip(connector, owners, strict=True)],
        "job_type": job_type,
    }  # fmt: skip


_FIELDS = ("job_id", "job_name", "s3_root", "status", "start_time", "last_updated", "message",
           "error", "scheduled_job", "tap", "job_type", "flow_id", "env_id", "connector_id",
           "raw")  # fmt: skip


def _fields(jobs: list[Job]) -> list[list[Any]]:
    """``_FIELDS`` of every job, one list per field (each ``attrgetter`` map runs in C)."""
    return [list(map(operator.attrgetter(name), jobs)) for name in _FIELDS]


def _failed_stage(status: str | None) -> str | None:
    return status.rsplit("_FAILED", 1)[0] if is_failed(status) and status else None


def _per_status(rule: Callable[[Any], Any], statuses: list[Any]) -> list[Any]:
    """``rule`` of each status, worked out once per distinct status."""
    try:
        known = {status: rule(status) for status in set(statuses)}
    except TypeError:  # a status that is not text (and not hashable): one at a time
        return [rule(status) for status in statuses]
    return [known[status] for status in statuses]


def _counts(
    raw: list[dict[str, Any]], jobs: list[Job]
) -> tuple[pd.api.extensions.ExtensionArray, list[Counts | None]]:
    """Per job: ``processed_rows``, else its streams' total (``Job.records``); and the
    ``metrics.recordCount`` per stream [C] (None when empty or not a mapping)."""
    metrics = [r.get("metrics") for r in raw]
    counts = [m.get("recordCount") if isinstance(m, dict) else None for m in metrics]
    records: list[Counts | None] = [c if isinstance(c, dict) and c else None for c in counts]
    given = [job.processed_rows for job in jobs]
    totals = _totals(records)
    if totals is None:  # counts that are not all plain integers: as Job.records adds them
        totals = [job.records for job in jobs]
    processed = [t if g is None else g for g, t in zip(given, totals, strict=True)]
    return pd.array(processed, dtype="Int64"), records


def _totals(records: list[Counts | None]) -> list[int | None] | None:
    """Each job's total over its streams, or None unless every count is a plain int (the
    sums run as C-level maps)."""
    present = [counts for counts in records if counts is not None]
    if set(map(type, chain.from_iterable(map(dict.values, present)))) - {int}:
        return None
    found = map(sum, map(dict.values, present))
    return [None if counts is None else next(found) for counts in records]


def history_frame(
    reads: list[Read], env_id: str, since: pd.Timestamp | None, until: pd.Timestamp | None,
    count: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Every job read, within [since, until), sorted by tenant then start time, each row
    saying whether its tenant's list was whole (``history_complete``, see ``list_limit``)."""
    limit = list_limit(reads, count)
    jobs: list[Job] = []
    owners: list[Read] = []
    whole: list[bool] = []
    for read in reads:
        listed = read.data or []
        jobs += listed
        owners += [read] * len(listed)
        whole += [_whole(listed, limit, since)] * len(listed)
    starts, ends = _stamps(jobs, "start_time"), _stamps(jobs, "last_updated")
    order = _job_order(owners, starts.fillna(ends), since, until).tolist()
    jobs, owners = [jobs[i] for i in order], [owners[i] for i in order]
    columns = job_columns(jobs, owners, env_id)
    columns.update(start_time=starts.take(order), last_updated=ends.take(order))
    columns["history_complete"] = [whole[i] for i in order]
    frame = columns_frame(columns, pd.RangeIndex(len(jobs)), HISTORY_COLUMNS)
    frame.attrs["errors"] = errors_frame(reads)
    frame.attrs["list_limit"] = limit
    _warn_cut(reads, frame, limit)
    return frame


def _stamps(jobs: list[Job], name: str) -> pd.Series:
    """A time of every job as a UTC datetime column (NaT where not a time)."""
    values = pd.Series(list(map(operator.attrgetter(name), jobs)), dtype=object)
    stamps = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return stamps.astype("datetime64[ns, UTC]")  # pandas 3 picks the unit from the text


def _job_order(
    owners: list[Read], times: pd.Series, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> npt.NDArray[np.intp]:
    """The jobs within [since, until) by tenant, then time (no time first), ties as listed:
    ``sort_jobs``' order, worked out before the columns so that they are built in it."""
    keep = np.ones(len(times), dtype=bool)
    if since is not None:
        keep &= (times >= since).to_numpy(dtype=bool)
    if until is not None:
        keep &= (times < until).to_numpy(dtype=bool)
    ranks = {tenant: rank for rank, tenant in enumerate(sorted({r.tenant for r in owners}))}
    tenant = np.fromiter((ranks[read.tenant] for read in owners), np.int64, len(owners))
    stamps = times.to_numpy("datetime64[ns]").view(np.int64)  # NaT is the least
    kept = np.flatnonzero(keep)
    return kept[np.lexsort((stamps[kept], tenant[kept]))]


def list_limit(reads: list[Read], count: int | None) -> int:
    """How long a job list that may have been cut short is [I]: hotglue's widget shows the
    list as "the last 5 jobs", so 5 while no list is longer; ``count`` when lists longer than
    5 show it was honoured; else the longest list read (the cap, if there is one, is at
    least that)."""
    longest = max((len(read.data or []) for read in reads if not read.error), default=0)
    if longest <= LIST_CAP:
        return LIST_CAP
    return count if count is not None and count >= longest else longest


def _whole(jobs: list[Job], limit: int, since: pd.Timestamp | None) -> bool:
    """A list shorter than the limit is whole; so is one reaching back before ``since`` (the
    list holds a tenant's latest jobs [I])."""
    if len(jobs) < limit:
        return True
    if since is None:
        return False
    starts = pd.to_datetime(pd.Series([job.start_time for job in jobs], dtype=object),
                            utc=True, errors="coerce", format="ISO8601")  # fmt: skip
    return bool((starts < since).any())


def _warn_cut(reads: list[Read], frame: pd.DataFrame, limit: int) -> None:
    """Note cut-short lists on the frame: it is built on the loop's thread, so the warning
    is given by ``warn_cut_short`` on the caller's, pointing at the user's own line."""
    cut = frame.loc[~frame["history_complete"].fillna(True).astype(bool), "tenant"].nunique()
    if cut:
        frame.attrs[CUT_SHORT] = (
            f"job_history: the job lists of {cut} of {len(reads)} tenants came back with "
            f"{limit} jobs, so they may be cut short by the API (its list looks capped [I]); "
            "their rows have history_complete=False and streaks, failing_since and dormancy "
            "built on them are lower bounds. Ask for more with count=, or keep outcomes as "
            "they happen."
        )


def warn_cut_short(frame: pd.DataFrame) -> None:
    """The cut-short warning noted on ``frame`` (taken off it), from the caller's thread."""
    message = frame.attrs.pop(CUT_SHORT, None)
    if message:
        warn(str(message))  # at the user's line, whatever wrappers stand between


def latest_frame(reads: list[Read], env_id: str) -> pd.DataFrame:
    """Each tenant's last job; a tenant without one keeps its row."""
    jobs = [read.data if read.data is not None else Job() for read in reads]  # none: a blank row
    columns = job_columns(jobs, reads, env_id)
    frame = columns_frame(columns, pd.RangeIndex(len(jobs)), HISTORY_COLUMNS)
    frame.attrs["errors"] = errors_frame(reads)
    return frame


def errors_frame(reads: list[Read]) -> list[dict[str, Any]]:
    """The tenants whose read failed, with the status and error: plain dicts, so that pandas
    (which compares ``attrs`` with ``==`` in concat, merge and filters) can compare them;
    ``hg.read_errors(frame)`` gives them as a typed frame."""
    return [{"tenant": r.tenant, "flow_id": r.flow_id, "http_status": r.status, "error": r.error}
            for r in reads if r.error]  # fmt: skip

"""The fate of every record of a write batch: written, refused, not written or unknown,
from its job's status, ``exportSummary`` counts and the refused entries ``_details`` places.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pandas as pd

from .._exceptions import ConfigError
from .._warnings import warn
from ._details import locate
from ._records import record_values
from ._write import COUNTS, object_counts

__all__ = ["FATES", "failed_records", "record_fates"]

FATES = ("written", "refused", "not_written", "unknown")


def record_fates(results: pd.DataFrame, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every record of ``write_records``' results with what became of it.

    ``fate``: ``written`` (its job ended and the target did not refuse it), ``refused`` (the
    target refused it: ``exportDetails``), ``not_written`` (its batch was never sent or was
    refused with proof, or its job failed without writing) or ``unknown`` (its batch's
    answer was lost and no job list could settle it, its job has not ended, or the job
    counts failures without saying which). ``reason`` says why, ``batch`` which job carried
    it. With ``records`` (the frame given to ``write_records``) the rows come back as they
    were, with their own index labels (each matched to what was sent by its values); without
    it, they are rebuilt from the requests sent (JSON values).

    Parameters
    ----------
    results : DataFrame
        What ``write_records`` returned (waited for), or ``hg.last_run()`` after an
        interrupted one.
    records : DataFrame, optional
        The records given to ``write_records``.

    Returns
    -------
    DataFrame
        One row per record sent: the record's columns, ``batch``, ``fate``, ``reason``.

    Raises
    ------
    ConfigError
        ``results`` is not a ``write_records`` frame, or ``records`` not the frame written.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> import pandas as pd
    >>> from hotglue_nb import sandbox
    >>> contacts = pd.DataFrame({"email": ["ann@example.com", "nobody"], "name": ["Ann", "X"]})
    >>> with sandbox.serve() as sb:
    ...     tenant, connector = next(iter(sb.connected_tenants().items()))
    ...     written = hg.write_records(contacts, object="Contact", flow_id=sb.v2_flow_id,
    ...                                tenant=tenant, connector_id=connector, wait=True,
    ...                                poll_interval=0.5, **sb.credentials)
    >>> hg.record_fates(written, contacts)["fate"].value_counts()
    """
    needed = {"request", "first_row", "object", "batch", "tenant", "connector_id", "outcome"}
    if not isinstance(results, pd.DataFrame) or not needed <= set(results.columns):
        raise ConfigError("record_fates / failed_records need the results of write_records "
                          "(or hg.last_run() after an interrupted one).")  # fmt: skip
    found: list[tuple[tuple[str, str], int, Any, str, str]] = []  # group, offset, batch, ...
    sent_values: list[Any] = []
    for row in cast(list[dict[str, Any]], results.to_dict("records")):
        if row["request"] is None or row["request"] is pd.NA:
            continue  # a batch not planned (an invalid row): nothing was sent
        sent = json.loads(str(row["request"]))["state"][row["object"]]
        key = (str(row["tenant"]), str(row["connector_id"]))
        for n, (fate, why) in enumerate(_fates(row, sent)):
            found.append((key, int(row["first_row"]) + n, row["batch"], fate, why))
            sent_values.append(sent[n])
    out = pd.DataFrame(sent_values) if records is None else _originals(records, found, sent_values)
    out["batch"] = pd.array([f[2] for f in found], dtype="Int64")
    out["fate"] = pd.array([f[3] for f in found], dtype="string")
    out["reason"] = pd.array([f[4] for f in found], dtype="string")
    return out


def failed_records(results: pd.DataFrame, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """The records that were not written, from ``write_records``' results (waited for).

    The ``refused`` and ``not_written`` rows of ``record_fates`` (with ``fate``, ``reason`` and
    ``batch``) — safe to write again.

    Records whose fate is ``unknown`` (a lost answer, a job still running, failures not
    located) are never among them: a HotglueWarning names their batches (wait for them, or
    look at ``record_fates``). With ``records`` the rows come back as they were given.

    Parameters
    ----------
    results : DataFrame
        What ``write_records`` returned (waited for), or ``hg.last_run()``.
    records : DataFrame, optional
        The records given to ``write_records``; without them the records are rebuilt from
        the requests sent.

    Returns
    -------
    DataFrame
        The records not written: their columns, ``batch``, ``fate``, ``reason``.

    Raises
    ------
    ConfigError
        As for ``record_fates``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> import pandas as pd
    >>> from hotglue_nb import sandbox
    >>> contacts = pd.DataFrame({"email": ["ann@example.com", "nobody"], "name": ["Ann", "X"]})
    >>> with sandbox.serve() as sb:
    ...     tenant, connector = next(iter(sb.connected_tenants().items()))
    ...     where = dict(object="Contact", flow_id=sb.v2_flow_id, tenant=tenant,
    ...                  connector_id=connector, wait=True, poll_interval=0.5, **sb.credentials)
    ...     written = hg.write_records(contacts, **where)
    ...     refused = hg.failed_records(written, contacts)
    ...     fixed = refused.drop(columns=["batch", "fate", "reason"]).assign(email="x@example.com")
    ...     again = hg.write_records(fixed, **where)
    """
    fates = record_fates(results, records)
    unknown = fates["fate"] == "unknown"
    if unknown.any():
        batches = sorted({int(b) for b in fates.loc[unknown, "batch"]})
        warn(
            f"batches {batches} are left out ({int(unknown.sum())} records): what became of "
            "their records is not known yet (a lost answer, a job not finished, or failures not "
            "located) — wait_for_jobs, or see hg.record_fates(results)"
        )
    return fates[fates["fate"].isin(["refused", "not_written"]).to_numpy(dtype=bool)]


def _fates(row: dict[str, Any], sent: list[Any]) -> list[tuple[str, str]]:
    """(fate, reason) of each record of a batch, in the order sent."""
    count = len(sent)
    outcome = row["outcome"]
    if outcome == "unknown":
        why = f"batch unknown: {_known(row.get('error')) or 'its answer was lost'}"
        return [("unknown", why)] * count
    if outcome not in ("created", "queued"):
        why = f"batch {outcome}: {row.get('error') or row.get('message') or ''}".rstrip(": ")
        return [("not_written", why)] * count
    picked = _not_written(row, sent)
    status = row.get("status")
    if picked is None:
        state = ("not finished" if row.get("finished") is not True
                 else "what it wrote is not accounted for record by record")  # fmt: skip
        return [("unknown", f"job {status or 'not followed'}: {state}")] * count
    lost = dict(picked)
    out = []
    for n in range(count):
        cause = lost.get(n)
        if cause is None:
            out.append(("written", f"written: job {status}"))
        else:  # a failed job without details lost the batch; else the target refused it
            out.append(("not_written" if cause.startswith("job ") else "refused", cause))
    return out


def _originals(
    records: pd.DataFrame, found: list[tuple[Any, ...]], sent_values: list[Any]
) -> pd.DataFrame:
    """The rows of ``records`` that were sent, each found by its place in its group and
    checked against the values sent (or looked for among the group by its values, when the
    records were reordered); records that were never sent are refused with the fix. Each
    group's values are converted once, and looked up by their JSON text."""
    own = [c for c in ("tenant", "connector_id") if c in records]
    groups: dict[Any, _Group] = {}
    picked = []
    for (key, offset, *_), sent in zip(found, sent_values, strict=True):
        group = groups.get(key) or groups.setdefault(key, _Group(records, key, own))
        position = group.take(offset, sent)
        if position is None:
            raise ConfigError(
                "records= is not the frame these batches were written from (a record sent "
                f"for tenant {key[0]!r} is not in it): pass the records given to "
                "write_records, or leave records= out to rebuild them from the requests."
            )
        picked.append(position)
    return records.iloc[picked].copy()


class _Group:
    """One (tenant, connector) group of ``records``: its positions, values, and which are
    still unclaimed (the same records may go to many tenants: claims are per group)."""

    def __init__(self, records: pd.DataFrame, key: tuple[str, str], own: list[str]) -> None:
        self.positions = _positions(records, *key)
        self.values = record_values(records.iloc[self.positions].drop(columns=own))
        self.by_text: dict[str, list[int]] = {}
        for n in reversed(range(len(self.values))):  # popped from the end: first one first
            self.by_text.setdefault(_text_of(self.values[n]), []).append(n)
        self.used: set[int] = set()

    def take(self, offset: int, sent: Any) -> int | None:
        if offset < len(self.values) and offset not in self.used and self.values[offset] == sent:
            return self._claim(offset)
        stack = self.by_text.get(_text_of(sent), [])
        while stack:
            n = stack.pop()
            if n not in self.used:
                return self._claim(n)
        return None

    def _claim(self, n: int) -> int:
        self.used.add(n)
        return self.positions[n]


def _text_of(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _not_written(row: dict[str, Any], sent: list[Any]) -> list[tuple[int, str]] | None:
    """(position, reason) of a launched batch's records not written; None when not known
    yet. A job that failed at EXPORT because some records were refused (hotglue's own
    wording [C]) says which in its export details; one without them lost the whole batch."""
    count = len(sent)
    status = row.get("status")
    if row.get("finished") is not True:
        return None
    failed = isinstance(status, str) and "FAILED" in status
    if not isinstance(row.get("export_summary"), str):  # no per-record word
        if failed and str(status).startswith("EXPORT"):
            return None  # the export had begun: some records may be written
        if failed:  # it failed before writing anything: the whole batch
            cause = _known(row.get("error")) or _known(row.get("message")) or ""
            return [(n, f"job {status}: {cause}".rstrip(": ")) for n in range(count)]
    entries = _failed_entries(row.get("export_failures"), row["object"])
    counts = object_counts(row.get("export_summary"), row["object"])
    if counts.get("fail", 0) > len(entries):
        return None  # failures counted but not located
    if failed and sum(counts.get(k, 0) for k in COUNTS) < count:
        return None  # a failed job that does not account for every record sent
    return locate(entries, sent)


def _positions(records: pd.DataFrame, tenant: str, connector: str) -> list[int]:
    """Where a batch's records lie in ``records``: every record, narrowed by the records' own
    ``tenant`` / ``connector_id`` columns when they have them (as write_records grouped)."""
    keep = pd.Series(True, index=range(len(records)))
    for name, value in (("tenant", tenant), ("connector_id", connector)):
        if name in records:
            keep &= records[name].astype(str).reset_index(drop=True) == value
    return [int(n) for n in keep[keep].index]


def _failed_entries(text: Any, object_name: Any) -> list[Any]:
    if not isinstance(text, str):
        return []
    found = json.loads(text).get(str(object_name))
    return list(found) if isinstance(found, list) else []


def _known(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

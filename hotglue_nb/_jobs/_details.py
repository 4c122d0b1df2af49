"""Which records of a write batch the target refused, from the job's ``exportDetails``.

Real details are built from the target's bookmarks [C-code: hotglue's target SDK]: one
``{success, hash, id?, externalId?, error?}`` per record processed, where ``hash`` is the
SHA-256 of the record as the target saw it (after mapping), and a record repeating an
earlier one gets **no entry**. So a failed entry is matched to the record sent by its
``externalId`` or ``id``, else by its hash, and only as a labelled fallback by position
(when the details are exactly one per record sent, nothing skipped).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .._models import Job

__all__ = ["BY_POSITION", "export_fields", "locate"]

BY_POSITION = "refused by the target (matched by position [I])"
_KEYS = ("externalId", "id")


def export_fields(job: Job | None) -> dict[str, str | None]:
    """A write job's outcome per object [C: ``metrics.exportSummary``] and its refused
    entries per object (``export_failures``: their index among the details, how many
    details there were, and the ``id`` / ``externalId`` / ``hash`` / ``error`` they carry)."""
    metrics = job.raw.get("metrics") if job is not None else None
    summary = metrics.get("exportSummary") if isinstance(metrics, dict) else None
    if not isinstance(summary, dict) or not summary:
        return {"export_summary": None, "export_failures": None}
    details = metrics.get("exportDetails") if isinstance(metrics, dict) else None
    failures = {
        stream: _refused_entries(items)
        for stream, items in (details if isinstance(details, dict) else {}).items()
        if isinstance(items, list)
    }
    return {"export_summary": json.dumps(summary), "export_failures": json.dumps(failures)}


def _refused_entries(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("success") is False:
            kept = {k: item[k] for k in (*_KEYS, "hash", "error") if item.get(k) not in (None, "")}
            out.append({"index": index, "of": len(items), **kept})
    return out


def locate(entries: list[Any], sent: list[Any]) -> list[tuple[int, str]] | None:
    """(position in ``sent``, reason) of each refused entry; None when one cannot be placed.

    Each record is blamed at most once: a repeat of a refused record is not (it had no
    entry of its own). Entries written by an earlier version (plain positions) are read as
    positions.
    """
    claimed: set[int] = set()
    out = []
    for entry in entries:
        position: int | None
        if isinstance(entry, int) and not isinstance(entry, bool):
            position, why = entry, "refused by the target"
        elif isinstance(entry, dict):
            position, why = _place(entry, sent, claimed)
        else:
            return None
        if position is None or not 0 <= position < len(sent) or position in claimed:
            return None
        claimed.add(position)
        out.append((position, why))
    return out


def _place(entry: dict[str, Any], sent: list[Any], claimed: set[int]) -> tuple[int | None, str]:
    cause = entry.get("error")
    why = f"refused by the target: {_text(cause)}" if cause else "refused by the target"
    for key in _KEYS:
        if entry.get(key) not in (None, ""):
            found = _first(sent, claimed, lambda r, k=key: _same(r.get(k), entry[k]))
            if found is not None:
                return found, why
    if entry.get("hash"):
        found = _first(sent, claimed, lambda r: entry["hash"] in _hashes(r))
        if found is not None:
            return found, why
    if entry.get("of") == len(sent):
        return int(entry["index"]), BY_POSITION + (f": {_text(cause)}" if cause else "")
    return None, why


def _first(sent: list[Any], claimed: set[int], match: Any) -> int | None:
    for position, record in enumerate(sent):
        if position not in claimed and isinstance(record, dict) and match(record):
            return position
    return None


def _same(value: Any, wanted: Any) -> bool:
    return value is not None and str(value) == str(wanted)


def _hashes(record: dict[str, Any]) -> set[str]:
    """The record's SHA-256 as hotglue's SDK makes it (``json.dumps`` as is [C-code]), and
    with sorted keys (for a target that sorts)."""
    texts = {json.dumps(record), json.dumps(record, sort_keys=True)}
    return {hashlib.sha256(text.encode()).hexdigest() for text in texts}


def _text(cause: Any) -> str:
    if isinstance(cause, str):
        return cause
    if isinstance(cause, dict) and isinstance(cause.get("message"), str):
        return str(cause["message"])
    return json.dumps(cause, default=str)

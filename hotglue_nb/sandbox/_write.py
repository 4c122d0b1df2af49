"""A two-way write job's outcome, record by record, as hotglue's target SDK reports it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["refusals", "write_summary"]


def write_summary(state: Any, reject_every: int) -> tuple[dict[str, int], dict[str, Any]]:
    """A write job's outcome per object [I: the rules are ours]: a record whose ``email`` is
    not an address fails, as does every ``reject_every``-th record; one with an ``id`` updates
    an existing record; a repeat of an earlier record of the batch is ``existing``; others are
    ``success``. ``exportDetails`` is built as hotglue's target SDK builds it [C-code]: one
    ``{success, hash, id?, externalId?, error?}`` per record processed, ``hash`` the SHA-256
    of ``json.dumps(record)`` (keys as they came), and **no entry** for a repeat."""
    counts: dict[str, int] = {}
    summary: dict[str, Any] = {"exportSummary": {}, "exportDetails": {}}
    for stream, records in (state or {}).items():
        rows = records if isinstance(records, list) else []
        tally = {"success": 0, "fail": 0, "existing": 0, "updated": 0}
        details, seen = [], set()
        for number, record in enumerate(rows, start=1):
            digest = hashlib.sha256(json.dumps(record).encode()).hexdigest()
            outcome = _write_outcome(record, number, reject_every, digest in seen)
            tally[outcome] += 1
            if digest not in seen:
                details.append(_detail(record, digest, outcome, number))
            seen.add(digest)
        counts[stream] = len(rows)
        summary["exportSummary"][stream] = tally
        summary["exportDetails"][stream] = details
    return counts, summary


def _detail(record: Any, digest: str, outcome: str, number: int) -> dict[str, Any]:
    own = record if isinstance(record, dict) else {}
    entry: dict[str, Any] = {"success": outcome != "fail", "hash": digest}
    if own.get("externalId") not in (None, ""):
        entry["externalId"] = own["externalId"]
    target_id = own.get("id") if own.get("id") not in (None, "") else None
    if outcome == "success":
        target_id = f"hg{digest[:10]}"  # the id the target gave the new record [I]
    if target_id is not None:
        entry["id"] = target_id
    if outcome == "fail":
        entry["error"] = json.dumps({"status": "error", "category": "VALIDATION_ERROR",
                                     "message": _refusal(own, number)})  # fmt: skip
    return entry


def _refusal(record: dict[str, Any], number: int) -> str:
    email = record.get("email", "@")
    if not isinstance(email, str) or "@" not in email:
        return f"Property values were not valid: INVALID_EMAIL {email!r}"
    return f"Record {number} was refused by the target: RATE_OF_CHANGE_TOO_HIGH"


def refusals(summary: dict[str, Any]) -> str | None:
    """A failed write's ``error`` text: the target's refusals, as real jobs carry them [C]."""
    texts: list[str] = [d["error"] for items in summary["exportDetails"].values() for d in items
             if d.get("error")]  # fmt: skip
    if not texts:
        return None
    more = f" (and {len(texts) - 1} more records refused)" if len(texts) > 1 else ""
    return texts[0] + more


def _write_outcome(record: Any, number: int, reject_every: int, repeated: bool) -> str:
    """A repeat is skipped as ``existing`` whatever became of the record it repeats (the SDK
    skips a hash it has processed [C-code])."""
    if repeated:
        return "existing"
    if not isinstance(record, dict):
        return "fail"
    email = record.get("email", "@")
    if (
        not isinstance(email, str)
        or "@" not in email
        or (reject_every and number % reject_every == 0)
    ):
        return "fail"
    return "updated" if record.get("id") not in (None, "") else "success"

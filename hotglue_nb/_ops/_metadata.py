"""Tenant metadata in bulk: the frame of a read, labels joined onto any frame, and edits by
read, merge, write (hotglue's PUT replaces the whole metadata [I, strong], so keys a sheet
does not mention are kept by sending them back), journaled, a lost answer read back."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from .._client._async import AsyncHotglue
from .._client._metadata import Metadata, metadata_of
from .._endpoints import segment
from .._exceptions import ConfigError, HotglueError
from .._fanout import Event
from .._fleet._reads import Read, ReadRun
from .._frames import EDIT_COLUMNS, apply_dtypes
from .._journal import Journal
from .._values import is_blank, to_python
from ._settle import settle_each, settled_write

__all__ = [
    "DELETE", "FIXED", "SHOWN", "Edit", "edit_frame", "edits_from_frame", "metadata_frame",
    "run_edits",
]  # fmt: skip

FIXED = ("tenant", "metadata", "error")  # tenant_metadata's own columns
#: a cell of ``update_tenant_metadata`` that removes its key (an empty cell leaves it alone)
DELETE = "(delete)"
SHOWN = 10  # bad rows named in one error


def metadata_frame(reads: list[Read]) -> pd.DataFrame:
    """One row per tenant: ``metadata`` (the dict; None without a config), one column per
    key (a key named like a fixed column becomes ``metadata.<key>``), ``error``."""
    rows: list[dict[str, Any]] = []
    keys: dict[str, None] = {}  # in the order first seen
    for read in reads:
        found: Metadata | None = read.data
        row: dict[str, Any] = {"tenant": read.tenant, "metadata": found, "error": read.error}
        for key, value in (found or {}).items():
            name = f"metadata.{key}" if key in FIXED else str(key)
            keys.setdefault(name, None)
            row[name] = value
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["tenant", *keys, "metadata", "error"])
    return frame.astype({"tenant": "string", "error": "string", "metadata": object})


@dataclass
class Edit:
    """One tenant's edit: keys to set and to remove; what was there, what was left."""

    row: int
    tenant: str
    sets: dict[str, Any]
    removes: list[str] = field(default_factory=list)
    before: Metadata | None = None
    after: Metadata | None = None
    read: bool = False
    action: str = "none"
    outcome: str = "planned"
    error: str | None = None

    def merged(self, current: Metadata | None) -> Metadata:
        out = {k: v for k, v in (current or {}).items() if k not in self.removes}
        return {**out, **self.sets}


async def run_edits(
    run: ReadRun, edits: list[Edit], *, journal: Journal | None, dry_run: bool,
    on_event: Callable[[Event], None] | None = None,
) -> bool:  # fmt: skip
    """Settle every edit; True when the run was interrupted. A refused key stops it."""
    client = run.clients.get(run.clients.root.env_id)
    rng = random.Random()

    async def settle(edit: Edit) -> None:
        await _settle(client, edit, journal, dry_run, rng, run)

    return await settle_each(run, edits, settle, what="metadata", journal=journal,
                             dry_run=dry_run, on_event=on_event)  # fmt: skip


async def _settle(
    client: AsyncHotglue, edit: Edit, journal: Journal | None, dry_run: bool, rng: random.Random,
    run: ReadRun,
) -> None:  # fmt: skip
    current = metadata_of(await client.tenant_config(edit.tenant))
    edit.before, edit.read = current, True
    wanted = edit.merged(current)
    if wanted == (current or {}):
        edit.after, edit.outcome = current, "unchanged"
        return
    edit.action, edit.after = "put", wanted
    if dry_run:
        return
    if journal is not None:
        await journal.durable({"kind": "intent", "row": edit.row, "tenant": edit.tenant,
                               "action": "put", "before": current, "after": wanted})  # fmt: skip

    async def write() -> None:
        await client.put_metadata(edit.tenant, wanted)

    async def read() -> Metadata | None:
        return metadata_of(await client.tenant_config(edit.tenant))

    edit.outcome = "unknown"  # from here it may be sent
    try:
        done = await settled_write(write, read, wanted, run, rng, _json)
    except HotglueError:  # refused: nothing was done
        edit.outcome, edit.after = "failed", edit.before
        raise
    edit.outcome, edit.error = done.outcome, done.error
    if done.outcome == "failed":
        edit.after = done.seen
    elif done.outcome == "changed" and edit.removes:  # a merging PUT [I] cannot remove a key
        await _removed(client, edit, wanted)


async def _removed(client: AsyncHotglue, edit: Edit, wanted: Metadata) -> None:
    seen = metadata_of(await client.tenant_config(edit.tenant))
    kept = [key for key in edit.removes if key in (seen or {})]
    if kept:
        edit.outcome, edit.after = "failed", seen
        edit.error = (f"the API kept {', '.join(kept)} after a write without it: its write "
                      "merges rather than replaces [I], so keys cannot be removed "
                      "this way")  # fmt: skip


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def edit_frame(edits: list[Edit]) -> pd.DataFrame:
    """Per tenant: the action, outcome, the metadata before and after (JSON text)."""
    rows = [{
        "tenant": e.tenant, "action": e.action, "outcome": e.outcome,
        "changed": (e.before or {}) != (e.after or {}) if e.read else None,
        "had_config": e.before is not None if e.read else None,
        "before": _json(e.before), "after": _json(e.after),
        "set_keys": ", ".join(map(str, e.sets)) or None,
        "removed_keys": ", ".join(e.removes) or None, "error": e.error,
    } for e in edits]  # fmt: skip
    return apply_dtypes(pd.DataFrame(rows, columns=list(EDIT_COLUMNS)), EDIT_COLUMNS)


def edits_from_frame(frame: Any) -> list[Edit]:
    """``update_tenant_metadata``'s edits; every bad row named at once, before any request."""
    if not isinstance(frame, pd.DataFrame) or "tenant" not in frame:
        raise ConfigError("update_tenant_metadata takes a DataFrame with a 'tenant' column.")
    keys = [c for c in frame.columns if c not in FIXED]  # a read's own columns are not keys
    if not keys:
        raise ConfigError("update_tenant_metadata: no key columns besides 'tenant' (and a "
                          "read's own 'metadata' / 'error').")  # fmt: skip
    bad_names = [repr(c) for c in keys if not isinstance(c, str) or c != c.strip() or not c]
    if bad_names:
        raise ConfigError(
            f"update_tenant_metadata: key names must be text: {', '.join(bad_names)}."
        )
    edits: list[Edit] = []
    problems: list[str] = []
    seen: dict[str, Any] = {}
    for row, (label_, cells) in enumerate(zip(frame.index, frame.to_dict("records"), strict=True)):
        tenant = cells["tenant"]
        where = f"row {label_!r} (tenant {tenant!r})"
        if is_blank(tenant):
            problems.append(f"{where}: no tenant")
            continue
        try:
            segment(to_python(tenant), "tenant")
        except ConfigError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if str(tenant) in seen:
            problems.append(f"{where}: the tenant of row {seen[str(tenant)]!r} again")
            continue
        seen[str(tenant)] = label_
        sets: dict[str, Any] = {}
        removes: list[str] = []
        nested: list[str] = []
        for key in keys:
            value = cells[key]
            if isinstance(value, (dict, list, tuple, set)):
                nested.append(key)
            elif isinstance(value, str) and value == DELETE:
                removes.append(key)
            elif not is_blank(value):
                plain = _plain(value)
                if plain is _UNSENDABLE:
                    nested.append(
                        f"{key} ({type(value).__name__}: not text, a number or true/false)"
                    )
                else:
                    sets[key] = plain
        if nested:
            problems.append(f"{where}: metadata is flat; {', '.join(nested)} cannot be a value")
            continue
        edits.append(Edit(row, str(tenant), sets, removes))
    if problems:
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        listed = "\n  ".join(problems[:SHOWN]) + more
        raise ConfigError(f"update_tenant_metadata: {len(problems)} row(s) cannot be used, "
                          f"nothing was sent:\n  {listed}")  # fmt: skip
    return edits


_UNSENDABLE = object()


def _plain(value: Any) -> Any:
    """A cell as a flat JSON value: text, a number, true/false (a time as ISO text)."""
    value = to_python(value)
    if isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return _UNSENDABLE
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return _UNSENDABLE

"""Sync state kept before a full resync: ``hg.backup_state`` writes one JSON file per tenant x
flow (x connector) and returns their index; ``hg.restore_state`` writes a V2 connector's
state back (the only write known [I: 3P], behind ``third_party=True``). A V1 state has no
known write: its file is the bookmarks' copy, for a support request or a custom start date."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Unpack
from urllib.parse import quote

import pandas as pd

from .._client._async import AsyncHotglue
from .._client._state import SyncState
from .._exceptions import AuthenticationError, ConfigError, HotglueError
from .._fanout import Event, Step, fan_out
from .._fleet._calls import Call
from .._fleet._public import blocking, read_call
from .._fleet._reads import Read, prepare_reads
from .._last_run import interrupted, stopped_by
from .._options import ReadOptions
from .._progress import Progress
from .._signatures import READ_DEFAULTS, with_keywords
from .._types import Tenants
from ._settle import refused_text, settled_write

__all__ = ["BACKUPS", "backup_state", "restore_state", "save_state"]

BACKUPS = Path("hotglue-state")
NO_V1_WRITE = ("no way to write a V1 (linkedSources) state back is known — hotglue's own "
               "clients only read and delete it [C-code]; the backup file keeps its bookmarks "
               "(e.g. for override_start_date or hotglue support)")  # fmt: skip


@with_keywords(ReadOptions, READ_DEFAULTS)
def backup_state(
    flow_id: str,
    tenants: Tenants | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Save each tenant's sync state (its bookmarks) of a flow, one JSON file each.

    Parameters
    ----------
    flow_id : str
        The flow.
    tenants : DataFrame, Series or list of str, optional
        Tenant ids, or a frame with ``tenant`` (and, two-way, ``connector_id``); default
        every tenant of the environment.
    out : str or Path, optional
        The folder (default ``hotglue-state/<flow>-<UTC time>``), made if missing.

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        ``tenant``, ``flow_id``, ``connector_id``, ``path``, ``bytes``, ``streams`` (how
        many bookmarks), ``error``; ``attrs["folder"]``.

    Raises
    ------
    ConfigError, AuthenticationError, APIError, LaunchInterrupted
        As for ``job_history``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> index = hg.backup_state(flow_id, failing["tenant"])
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out) if out is not None else BACKUPS / f"{flow_id}-{stamp}"
    run = prepare_reads("backup", flow_id, tenants, dict(options))
    env = run.clients.root.env_id

    async def read(client: AsyncHotglue, one: Read) -> SyncState:
        return await client.get_state(one.flow_id, one.tenant, one.connector_id)

    def build(reads: list[Read]) -> pd.DataFrame:
        rows = [save_state(folder, env, r) for r in reads]
        frame = pd.DataFrame(rows, columns=["tenant", "flow_id", "connector_id", "path",
                                            "bytes", "streams", "error"])  # fmt: skip
        frame = frame.astype({"bytes": "Int64", "streams": "Int64"})
        frame.attrs["folder"] = str(folder)
        return frame

    return read_call(Call(run, read, build, options.get("progress", True)))


def save_state(folder: Path, env_id: str, read: Read) -> dict[str, Any]:
    """One read's state as a file (written whole, then renamed: never half a file)."""
    row: dict[str, Any] = {"tenant": read.tenant, "flow_id": read.flow_id,
                           "connector_id": read.connector_id, "error": read.error}  # fmt: skip
    if read.error or not isinstance(read.data, dict):
        return row
    connector = f"@{quote(read.connector_id, safe='')}" if read.connector_id else ""
    name = quote(read.tenant, safe="") + connector  # "@" is encoded inside either part
    path = folder / read.flow_id / f"{name}.json"
    record = {
        "tenant": read.tenant,
        "flow_id": read.flow_id,
        "connector_id": read.connector_id,
        "env_id": env_id,
        "taken_at": datetime.now(UTC).isoformat(),
        "state": read.data,
    }
    text = json.dumps(record, indent=1, sort_keys=True).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        with partial.open("wb") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError as exc:
        return row | {"error": f"cannot write {path}: {exc.strerror}"}
    bookmarks = read.data.get("bookmarks")
    return row | {"path": str(path), "bytes": len(text),
                  "streams": len(bookmarks) if isinstance(bookmarks, dict) else 0}  # fmt: skip


@with_keywords(ReadOptions, READ_DEFAULTS)
def restore_state(
    backup: pd.DataFrame | str | os.PathLike[str],
    *,
    third_party: bool = False,
    dry_run: bool = False,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Write backed-up two-way (V2) connector states back.

    Only a V2 connector's state can be written (``PUT .../linkedConnectors/state``, known from
    third parties, not hotglue's docs [I]): pass ``third_party=True`` to use it. A V1 state has
    no known write; its rows say so (``outcome`` "refused") and keep their file.

    Parameters
    ----------
    backup : DataFrame, str or Path
        ``hg.backup_state``'s index, its folder, or one of its files.
    third_party : bool
        Use the third-party-documented V2 write.
    dry_run : bool
        Read the current states and return the plan; write nothing.

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        ``tenant``, ``flow_id``, ``connector_id``, ``path``, ``outcome`` (changed,
        unchanged, planned, refused, failed, unknown), ``error``.

    Raises
    ------
    ConfigError
        No backup there, only V1 states, or V2 ones without ``third_party=True``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> hg.restore_state(index, third_party=True, dry_run=True)
    """
    entries = _entries(backup)
    v2 = [e for e in entries if e["connector_id"]]
    if not v2:
        raise ConfigError(f"restore_state: every state here is a V1 one, and {NO_V1_WRITE}.")
    if not third_party:
        raise ConfigError("restore_state writes a V2 state with a call known from third "
                          "parties, not hotglue's docs [I]: pass third_party=True to use it "
                          "(dry_run=True shows the plan first).")  # fmt: skip
    run = prepare_reads("restore", str(v2[0]["flow_id"]), None, dict(options))
    rng = random.Random()

    async def one(entry: dict[str, Any]) -> Step:
        if not entry["connector_id"]:
            entry.update(outcome="refused", error=NO_V1_WRITE)
            return Step(Event(entry["row"], entry["tenant"], "refused", True))
        client = run.clients.get(run.clients.root.env_id)
        flow, tenant, connector = entry["flow_id"], entry["tenant"], entry["connector_id"]

        async def read() -> SyncState:
            return await client.get_state(flow, tenant, connector)

        async def write() -> None:
            await client.put_state(flow, tenant, connector, entry["state"])

        try:
            current = await read()
            if current == entry["state"]:
                entry["outcome"] = "unchanged"
            elif dry_run:
                entry["outcome"] = "planned"
            else:
                entry["outcome"] = "unknown"  # from here it may be sent
                done = await settled_write(write, read, entry["state"], run, rng)
                entry.update(outcome=done.outcome, error=done.error)
        except HotglueError as exc:
            error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, AuthenticationError):  # every other write would be refused too
                error = refused_text(exc, "state") if entry["outcome"] == "unknown" else error
                run.refused = run.refused or exc
            entry.update(outcome="failed", error=error)
        return Step(Event(entry["row"], tenant, entry["outcome"], True))

    async def go(post: Any) -> pd.DataFrame:
        try:
            config = run.config
            report = await fan_out(entries, one, concurrency=config.concurrency, on_event=post,
                                   stop=lambda: run.refused is not None, pacer=run.pacer,
                                   clock=config.clock, sleep=config.sleep)  # fmt: skip
        finally:
            await run.clients.aclose()
        columns = ["tenant", "flow_id", "connector_id", "path", "outcome", "error"]
        frame = pd.DataFrame([{c: e.get(c) for c in columns} for e in entries], columns=columns)
        frame["outcome"] = frame["outcome"].fillna("not sent")
        if run.refused is not None:
            raise stopped_by(run.refused, frame)
        if report.interrupted:
            raise interrupted(frame, phase="restore state")
        return frame

    with Progress(options.get("progress", True)) as progress:
        progress.phase("restore state", len(entries))
        return blocking(go, progress, False)


def _entries(backup: Any) -> list[dict[str, Any]]:
    if isinstance(backup, pd.DataFrame):
        if "path" not in backup:
            raise ConfigError("restore_state takes hg.backup_state's index (a 'path' column).")
        paths = [Path(p) for p in backup["path"].dropna()]
    elif isinstance(backup, (str, os.PathLike)):
        root = Path(backup)
        if not root.exists():
            raise ConfigError(f"restore_state: no state backup in {root} (no such folder or file).")
        paths = sorted(root.rglob("*.json")) if root.is_dir() else [root]
    else:
        raise ConfigError(f"restore_state takes a backup's index, folder or file, got "
                          f"{type(backup).__name__}.")  # fmt: skip
    entries = []
    for row, path in enumerate(paths):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a state backup ({exc}).") from None
        if not isinstance(record, dict) or not isinstance(record.get("state"), dict):
            raise ConfigError(f"{path}: not a state backup (no 'state' object).")
        entries.append({"row": row, "path": str(path), "tenant": str(record["tenant"]),
                        "flow_id": str(record["flow_id"]),
                        "connector_id": record.get("connector_id"), "state": record["state"],
                        "outcome": None, "error": None})  # fmt: skip
    if not entries:
        raise ConfigError(f"restore_state: no state backup in {backup}.")
    return entries

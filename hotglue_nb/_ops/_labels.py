"""Readable tenants: ``hg.tenant_metadata`` (one row per tenant, a column per key),
``hg.label`` (those columns joined onto any frame by tenant) and
``hg.update_tenant_metadata`` (keys set from a sheet by read, merge, write)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

import pandas as pd

from .._client._async import AsyncHotglue
from .._client._metadata import Metadata, metadata_of
from .._exceptions import ConfigError
from .._fleet._calls import Call
from .._fleet._public import blocking, read_call
from .._fleet._reads import Read, prepare_reads
from .._journal import Journal, read_journal
from .._last_run import interrupted, remember, stopped_by
from .._options import ReadOptions
from .._progress import Progress
from .._signatures import READ_DEFAULTS, with_keywords
from .._types import Tenants
from ._metadata import DELETE, FIXED, edit_frame, edits_from_frame, metadata_frame, run_edits
from ._run import JournalPath, journal_at

__all__ = ["DELETE", "label", "tenant_metadata", "update_tenant_metadata"]

SHOWN = 10


@with_keywords(ReadOptions, READ_DEFAULTS)
def tenant_metadata(tenants: Tenants | None = None, **options: Unpack[ReadOptions]) -> pd.DataFrame:
    """Each tenant's metadata (company names, plans, owners...): one row per tenant.

    Parameters
    ----------
    tenants : DataFrame, Series or list of str, optional
        Tenant ids, or a frame with ``tenant`` (default: every tenant of the environment).

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        ``tenant``, one column per key (a key named ``tenant``, ``metadata`` or ``error``
        becomes ``metadata.<key>``), ``metadata`` (the dict; None for a tenant without a
        config), ``error``.

    Raises
    ------
    ConfigError, AuthenticationError, APIError, LaunchInterrupted
        As for ``job_history``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     meta = hg.tenant_metadata(**sb.credentials)
    >>> meta[["tenant", "company", "plan"]].head()
    """
    run = prepare_reads("metadata", "-", tenants, dict(options))

    async def read(client: AsyncHotglue, one: Read) -> Metadata | None:
        return metadata_of(await client.tenant_config(one.tenant))

    return read_call(Call(run, read, metadata_frame, options.get("progress", True)))


def label(
    frame: pd.DataFrame,
    metadata: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    prefix: str = "",
) -> pd.DataFrame:
    """``frame`` with metadata columns added by tenant: same index, order and rows.

    Parameters
    ----------
    frame : DataFrame
        Any frame with ``tenant`` (a result, history, health... or a user's own).
    metadata : DataFrame
        ``hg.tenant_metadata``'s frame (or any frame with ``tenant``, one row each).
    columns : list of str, optional
        The columns to add (default: every metadata key).
    prefix : str
        Put before each added column's name (for a key named like a column of ``frame``).

    Returns
    -------
    DataFrame
        A copy of ``frame`` with the columns; a tenant without metadata gets NA.

    Raises
    ------
    ConfigError
        A frame without ``tenant``, a tenant twice in ``metadata``, an unknown column, or a
        name ``frame`` already has.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> health = hg.label(hg.fleet_health(history), meta, ["company", "plan"])
    """
    for name, given in (("frame", frame), ("metadata", metadata)):
        if not isinstance(given, pd.DataFrame) or "tenant" not in given:
            raise ConfigError(f"label: {name} must be a DataFrame with a 'tenant' column.")
    keys = metadata["tenant"].astype(str)
    if keys.duplicated().any():
        twice = sorted(set(keys[keys.duplicated()]))[:SHOWN]
        raise ConfigError(f"label: metadata names tenants twice: {', '.join(twice)}.")
    if isinstance(columns, str):  # one column named, not its letters
        columns = [columns]
    chosen = (
        [str(c) for c in columns]
        if columns is not None
        else [str(c) for c in metadata if c not in FIXED]
    )
    unknown = [c for c in chosen if c not in metadata]
    if unknown:
        known = ", ".join(str(c) for c in metadata if c not in FIXED)
        raise ConfigError(f"label: no column {', '.join(unknown)} in metadata (it has {known}).")
    clash = [prefix + c for c in chosen if prefix + c in frame]
    if clash:
        raise ConfigError(f"label: the frame already has {', '.join(clash)}: pass prefix= "
                          "(e.g. prefix='meta_') or columns= without them.")  # fmt: skip
    lookup = metadata.set_index(keys)
    ids = frame["tenant"].astype(str)
    return frame.assign(**{prefix + c: ids.map(lookup[c]) for c in chosen})


@with_keywords(ReadOptions, READ_DEFAULTS)
def update_tenant_metadata(
    frame: pd.DataFrame,
    *,
    dry_run: bool = False,
    journal: JournalPath | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Set metadata keys from a frame: ``tenant`` and one column per key.

    Each tenant's metadata is read, the row's keys merged in, and the whole sent back
    (hotglue's write replaces it [I]): keys the frame does not name are kept. An empty cell
    leaves its key alone; a cell holding ``hg.DELETE`` (the text "(delete)") removes it.
    Values are flat (text, numbers, booleans [C]); whole numbers that pandas read as floats
    (a column with blanks) go as integers.

    Parameters
    ----------
    frame : DataFrame
        ``tenant`` and the key columns.
    dry_run : bool
        Read and return the plan (``outcome`` "planned"); write nothing.
    journal : str or Path, optional
        The journal (default ``hotglue-runs/metadata-<run id>.jsonl``): each write's metadata
        before, on disk before it is sent.

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        ``tenant``, ``action``, ``outcome`` (changed, unchanged, planned, failed, unknown),
        ``changed``, ``had_config``, ``before`` / ``after`` (JSON), ``set_keys``,
        ``removed_keys``, ``error``.

    Raises
    ------
    ConfigError
        A bad frame (a tenant twice, a nested value: each row named), before anything is sent.
    AuthenticationError
        The key was refused, or may not write; ``.results`` the frame so far.
    LaunchInterrupted
        Ctrl-C; ``.results`` holds the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> import hotglue_nb as hg
    >>> sheet = pd.DataFrame({"tenant": ["acme"], "plan": ["enterprise"], "trial": [hg.DELETE]})
    >>> hg.update_tenant_metadata(sheet, dry_run=True)
    """
    edits = edits_from_frame(frame)
    if not isinstance(dry_run, bool):
        raise ConfigError(f"dry_run= is True or False, got {dry_run!r}.")
    run = prepare_reads("metadata", "-", None, dict(options))
    path = None if dry_run else journal_at(journal, "metadata")
    if path is not None and path.exists() and path.stat().st_size:
        operation = read_journal(path).run.get("operation")
        if operation != "update_metadata":
            raise ConfigError(f"{path} is the journal of a {operation or 'launch'} run: pass "
                              "a new journal= for a metadata update.")  # fmt: skip

    async def go(post: Any) -> pd.DataFrame:
        opened = Journal(path) if path is not None else None
        try:
            if opened is not None and opened.is_empty():
                await opened.durable({"kind": "run", "run_id": opened.path.stem,
                                      "operation": "update_metadata",
                                      "env_id": run.clients.root.env_id})  # fmt: skip
            stopped = await run_edits(run, edits, journal=opened, dry_run=dry_run, on_event=post)
        finally:
            if opened is not None:
                await opened.aclose()
        out = edit_frame(edits)
        out.attrs.update(journal=str(path) if path else None, dry_run=dry_run)
        if run.refused is not None:
            raise stopped_by(run.refused, out)
        if stopped:
            raise interrupted(out, phase="update metadata")
        remember(out)
        return out

    with Progress(options.get("progress", True)) as progress:
        progress.phase("update metadata", len(edits))
        return blocking(go, progress, False)

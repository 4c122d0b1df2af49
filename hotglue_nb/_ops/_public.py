"""Schedules in bulk (``hg.schedules``, ``hg.set_schedules``, ``hg.pause_schedules``,
``hg.restore_schedules``): reads fan out on the engine; every change is journaled with the
value before it, so a pause can always be put back exactly."""

from __future__ import annotations

from typing import Unpack

import pandas as pd

from .._client._async import AsyncHotglue
from .._client._schedules import Schedule
from .._fleet._calls import Call
from .._fleet._public import read_call
from .._fleet._reads import Read, prepare_reads, tenant_reads
from .._options import ReadOptions
from .._signatures import READ_DEFAULTS, with_keywords
from .._types import Tenants
from ._rows import changes_from_frame, changes_to_restore
from ._run import JournalPath, Operation, change, pause_row
from ._schedules import schedule_frame

__all__ = ["pause_schedules", "restore_schedules", "schedules", "set_schedules"]


@with_keywords(ReadOptions, READ_DEFAULTS)
def schedules(
    flow_id: str, tenants: Tenants | None = None, **options: Unpack[ReadOptions]
) -> pd.DataFrame:
    """Each tenant's schedule of a flow: one row per tenant.

    Parameters
    ----------
    flow_id : str
        The flow.
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
        ``tenant``, ``flow_id``, ``has_schedule``, ``schedule_expression``, ``state``
        (ENABLED / DISABLED), ``raw`` (the API's answer), ``error``.

    Raises
    ------
    ConfigError, AuthenticationError, APIError, LaunchInterrupted
        As for ``job_history``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     table = hg.schedules(sb.flow_id, **sb.credentials)
    >>> table["state"].value_counts(dropna=False)
    """
    run = prepare_reads("schedules", flow_id, tenants, dict(options))

    async def read(client: AsyncHotglue, one: Read) -> Schedule:
        return await client.get_schedule(one.flow_id, one.tenant)

    return read_call(Call(run, read, schedule_frame, options.get("progress", True)))


@with_keywords(ReadOptions, READ_DEFAULTS)
def set_schedules(
    frame: pd.DataFrame,
    *,
    dry_run: bool = False,
    journal: JournalPath | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Set schedules from a frame: only what differs from the current schedule is sent.

    Rows have ``tenant``, ``flow_id`` and ``schedule_expression`` and/or ``state``
    (ENABLED / DISABLED), or ``delete`` True; an empty cell leaves that part as it is.
    Expressions are checked before anything is sent: ``cron(...)`` with 6 fields or
    ``rate(N unit)``, EventBridge's forms (hotglue may accept more [I]).

    Parameters
    ----------
    frame : DataFrame
        The rows to set.
    dry_run : bool
        Read the current schedules and return the plan (``outcome`` "planned"); write
        nothing.
    journal : str or Path, optional
        The journal (default ``hotglue-runs/schedules-<run id>.jsonl``); an existing one is
        resumed, its rows keeping the schedule they had before its first run.

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        Per row: ``action`` (put / delete / none), ``outcome`` (changed, unchanged, planned,
        failed, unknown), ``changed``, ``had_schedule`` / ``before_expression`` /
        ``before_state``, ``has_schedule`` / ``after_expression`` / ``after_state``,
        ``error``; ``attrs["journal"]``. ``hg.restore_schedules`` puts it back.

    Raises
    ------
    ConfigError
        A bad frame (each bad row named) or option, before anything is sent.
    AuthenticationError
        The key was refused, or may not write (read-only); ``.results`` the frame so far.
    LaunchInterrupted
        Ctrl-C; ``.results`` holds the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> import hotglue_nb as hg
    >>> plan = pd.DataFrame({"tenant": ["acme"], "flow_id": ["flow"],
    ...                      "schedule_expression": ["cron(0 3 * * ? *)"]})
    >>> hg.set_schedules(plan, dry_run=True)
    """
    changes = changes_from_frame(frame)
    flow = changes[0].flow_id if changes else "-"
    return change(Operation("set", flow, changes, dry_run, journal, False), dict(options))


@with_keywords(ReadOptions, READ_DEFAULTS)
def pause_schedules(
    flow_id: str,
    tenants: Tenants | None = None,
    *,
    dry_run: bool = False,
    journal: JournalPath | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Disable the enabled schedules of a flow (for ``tenants``, default every tenant).

    Tenants without a schedule, or with a disabled one, are left as they are. Keep the
    result (or its journal): ``hg.restore_schedules`` puts every schedule back as it was.

    Parameters
    ----------
    flow_id : str
        The flow.
    tenants : DataFrame, Series or list of str, optional
        Tenant ids, or a frame with ``tenant`` (default: every tenant of the environment).
    dry_run : bool
        Return the plan; write nothing.
    journal : str or Path, optional
        As for ``set_schedules``: an interrupted pause is resumed from its journal.

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        As ``set_schedules``.

    Raises
    ------
    ConfigError, AuthenticationError, LaunchInterrupted
        As for ``set_schedules``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     paused = hg.pause_schedules(sb.flow_id, sb.tenants[:10], **sb.credentials)
    ...     restored = hg.restore_schedules(paused, **sb.credentials)
    """
    connector = options.get("connector_id")
    reads = [] if tenants is None else tenant_reads(tenants, flow_id, connector)
    changes = [pause_row(read.row, read.tenant, flow_id, read.connector_id) for read in reads]
    operation = Operation("pause", flow_id, changes, dry_run, journal, False)
    operation.all_tenants = tenants is None
    return change(operation, dict(options))


@with_keywords(ReadOptions, READ_DEFAULTS)
def restore_schedules(
    changes: pd.DataFrame | JournalPath,
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    journal: JournalPath | None = None,
    **options: Unpack[ReadOptions],
) -> pd.DataFrame:
    """Put back what ``pause_schedules`` / ``set_schedules`` changed, exactly.

    Each changed row (and each row whose outcome is unknown, or whose write a killed run
    may have sent) gets its schedule from before: re-created, re-enabled, or deleted where
    there was none. A row whose schedule was changed by someone else meanwhile is left as
    it is (``outcome`` "conflict") unless ``overwrite=True``.

    Parameters
    ----------
    changes : DataFrame, str or Path
        The result of ``pause_schedules`` / ``set_schedules`` (also read back from an
        export), or the journal of such a run.
    overwrite : bool
        Restore rows changed by someone else too.
    dry_run : bool
        Return the plan; write nothing.
    journal : str or Path, optional
        The restore's own journal (default ``hotglue-runs/schedules-<run id>.jsonl``).

    Other Parameters
    ----------------
    api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
        As for ``job_history``.
    progress, clock, sleep, connector_id : see job_history
        As for ``job_history``.

    Returns
    -------
    DataFrame
        As ``set_schedules``: ``before_*`` is what was there, ``after_*`` the restored one.

    Raises
    ------
    ConfigError
        Not a result nor a journal of a schedule run (or a torn or foreign one).
    AuthenticationError, LaunchInterrupted
        As for ``set_schedules``.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> restored = hg.restore_schedules("hotglue-runs/schedules-1a2b3c.jsonl")
    """
    rows = changes_to_restore(changes)
    flow = rows[0].flow_id if rows else "-"
    return change(Operation("restore", flow, rows, dry_run, journal, overwrite), dict(options))

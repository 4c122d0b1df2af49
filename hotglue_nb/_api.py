"""The blocking public functions; they work in scripts, pytest and Jupyter cells alike.

The fleet reads (``job_history``, ``latest_jobs``, ``check_tenants``) are defined in
``_fleet/_public`` with ``blocking``, the engine every blocking call runs on.
"""

from __future__ import annotations

from typing import Unpack

import pandas as pd

from ._exceptions import APIError, LaunchInterrupted
from ._fleet._public import Start, blocking, check_tenants, latest_jobs
from ._jobs import (
    DEFAULT_MAX_BYTES,
    execute_launch,
    execute_wait,
    interrupted_write,
    prepare_launch,
    prepare_wait,
    with_batches,
    write_plan,
)
from ._last_run import interrupted, warn_notices
from ._options import LaunchOptions, WaitConfig, WaitOptions, launch_config, wait_config
from ._progress import Progress
from ._signatures import LAUNCH_DEFAULTS, WAIT_DEFAULTS, with_keywords
from ._store import job_history, keeps_runs
from ._types import Tenants

__all__ = [
    "check_tenants", "job_history", "latest_jobs", "launch_jobs", "wait_for_jobs", "write_records",
]  # fmt: skip


@with_keywords(LaunchOptions, LAUNCH_DEFAULTS)
@keeps_runs
def launch_jobs(tenants: Tenants, **options: Unpack[LaunchOptions]) -> pd.DataFrame:
    """Launch one job per row of ``tenants``, concurrently; return one result row per row.

    A POST is re-sent only when the server certainly did not act; after an ambiguous failure
    the row is reconciled by its unique ``job_name``. Per-row failures are data (``outcome``,
    ``error``), never exceptions. The keyword options are listed under Other Parameters
    (``help()`` and Jupyter's completion show them with their defaults).

    Parameters
    ----------
    tenants : DataFrame, Series or list of str
        A frame with a ``tenant`` column (optional ``flow_id``, ``env_id`` and request-body
        columns; a cell beats the keyword default, an empty cell means the default), or ids.

    Other Parameters
    ----------------
    flow_id : str
        The flow of every row without a ``flow_id`` cell.
    api_key, env_id, base_url : str
        The connection; each defaults to its ``HOTGLUE_*`` variable.
    client : Hotglue or AsyncHotglue
        A ready client instead of the connection keywords.
    concurrency : int
        In-flight cap (default 8).
    max_attempts : int
        POSTs per row (default 4).
    rate_limit : float
        Requests per second (default: no limit).
    timeout : float
        Seconds per request.
    journal : str, Path or bool
        A journal path, or True for ``hotglue-runs/<run_id>.jsonl``.
    resume : str or Path
        The journal path or run id of an earlier run, to send the rows it did not.
    dry_run : bool
        Plan and check every row, send nothing.
    on_invalid : {"raise", "skip"}
        Raise on rows with problems, or skip them (outcome ``skipped``, the reason in ``error``).
    reconcile_delay : float
        Seconds before a lost answer is looked up by its job name (default 1).
    preflight : bool
        Check each row first as ``check_tenants`` does and skip those not ready.
    preflight_allow : list of str
        The pre-flight reasons that do not skip a row: ``not_linked``, ``disconnected``,
        ``running``, ``dormant``.
    backup_state : bool, str or Path
        Before each row that resets state (``reset_source_state=True``), save its state
        (``hg.backup_state``'s files; True: ``hotglue-state/<run_id>``); a row whose backup
        fails is not sent. ``state_backup`` holds each file's path.
    wait, poll_interval, max_poll_interval, wait_timeout : bool, float
        Then follow the jobs, as ``wait_for_jobs`` (``wait_timeout`` is its ``timeout``).
    progress : bool or callable
        True, False or a tqdm class.
    nest_asyncio : bool
        The opt-in re-entrant mode.
    clock, sleep : callable
        Injectable time (the tests' fake clock).
    store : Store, str or Path
        Keep the run in this store (``hg.Store``, its file or PostgreSQL URL): each row as
        its journal records it (a stored run keeps one unless ``journal=`` names it), the
        whole frame once it ends.
    **body_fields : str, bool, dict or date
        Any field of ``hg.BODY_FIELDS`` (a two-way job's too: ``connector_id``, ``job_type``,
        ``override_connector_config``), a default for every row.

    Returns
    -------
    DataFrame
        One row per input row, same index: ``outcome`` (created, queued, rejected, unknown,
        skipped), ``job_id``, ``job_name``, ``job_root``, ``status``, ``http_status``,
        ``error``, ``attempts``, ``request``, ``run_id``; with ``wait=True`` also the columns
        of ``wait_for_jobs``.

    Raises
    ------
    ConfigError
        Bad options or rows, missing credentials or a journal in use, before anything is
        sent; a flow or environment that does not exist, after its first 404 (``.results``).
    AuthenticationError
        The API refused the key: the run stops; ``.results`` holds every row.
    LaunchInterrupted
        Ctrl-C, in the launch and the wait phase alike; ``.results`` holds every row.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     results = hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, wait=True,
    ...                              poll_interval=0.5, **sb.credentials)
    >>> results[["tenant", "outcome", "status", "succeeded"]]
    """
    config, display, waiting = launch_config(dict(options))
    run = prepare_launch(tenants, config)
    with Progress(display.progress) as progress:
        progress.phase("launch", run.total)
        start: Start[pd.DataFrame] = lambda post: execute_launch(run, post)  # noqa: E731
        results = blocking(start, progress, display.nest_asyncio)
        if display.wait:
            results = _wait(results, waiting, progress, display.nest_asyncio)
    return warn_notices(results)


@with_keywords(LaunchOptions, LAUNCH_DEFAULTS)
@keeps_runs
def write_records(
    records: pd.DataFrame,
    *,
    object: str,
    tenant: str | Tenants | None = None,
    batch_size: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **options: Unpack[LaunchOptions],
) -> pd.DataFrame:
    """Write the rows of ``records`` through a two-way (V2) flow's connector.

    One write job per batch, ``state={object: [records]}``. Values go as JSON faithfully: ints
    stay ints, missing values are null, timestamps ISO-8601. Every ``launch_jobs`` option
    applies (under Other Parameters).

    Parameters
    ----------
    records : DataFrame
        The records; their own ``tenant`` / ``connector_id`` columns may say where each goes.
    object : str
        The unified-schema object written, e.g. ``"Contact"``.
    tenant : str, list of str or DataFrame, optional
        One tenant, or many (a list of ids, or a frame with ``tenant`` and ``connector_id``
        columns): each gets all the records. Default: the records' ``tenant`` column.
    batch_size : int, optional
        At most this many records per batch (default: as many as fit).
    max_bytes : int
        At most this many bytes of JSON per request (default 1 MB).

    Other Parameters
    ----------------
    connector_id : str
        The connector written through (default: the records' ``connector_id`` column).
    flow_id : str
        The two-way flow (required).
    api_key, env_id, base_url, client, concurrency, rate_limit, max_attempts : see launch_jobs
        As for ``launch_jobs``.
    timeout, journal, resume, dry_run, on_invalid, reconcile_delay, preflight : see launch_jobs
        As for ``launch_jobs``; with ``journal`` / ``resume`` each batch is sent once, as any
        row (a resume whose records make other batches is refused).
    preflight_allow, backup_state, progress, nest_asyncio, clock, sleep, store : see launch_jobs
        As for ``launch_jobs``.
    wait, poll_interval, max_poll_interval, wait_timeout : bool, float
        As for ``launch_jobs``: ``wait=True`` follows the jobs and fills the counts.
    **body_fields : str, bool, dict or date
        As for ``launch_jobs``; ``ignore_parallel_jobs`` defaults to True here, so a tenant's
        batches run side by side.

    Returns
    -------
    DataFrame
        One row per batch: the launch's columns, ``object``, ``batch``, ``first_row``,
        ``record_count``, and after waiting ``success`` / ``fail`` / ``existing`` / ``updated``
        (``hg.failed_records`` gives the refused records back).

    Raises
    ------
    ConfigError
        As for ``launch_jobs``; also no tenant or connector, a tenant named twice, a record
        larger than ``max_bytes`` allows.
    AuthenticationError
        The API refused the key; ``.results`` holds every batch, with its batch columns.
    LaunchInterrupted
        Ctrl-C; ``.results`` holds every batch, with its batch columns.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> import pandas as pd
    >>> from hotglue_nb import sandbox
    >>> contacts = pd.DataFrame({"email": ["ann@example.com", "bo@example.com"],
    ...                          "name": ["Ann", "Bo"]})
    >>> with sandbox.serve() as sb:
    ...     tenant, connector = next(iter(sb.connected_tenants().items()))
    ...     written = hg.write_records(contacts, object="Contact", flow_id=sb.v2_flow_id,
    ...                                tenant=tenant, connector_id=connector, wait=True,
    ...                                poll_interval=0.5, **sb.credentials)
    >>> written[["batch", "record_count", "status", "success", "fail"]]
    """
    frame, launch = write_plan(records, object, tenant, batch_size, max_bytes, options)
    try:
        results = launch_jobs(frame, **launch)
    except (LaunchInterrupted, APIError) as exc:  # partial results: with their batches
        raise interrupted_write(exc, frame) from None
    return with_batches(results, frame)


@with_keywords(WaitOptions, WAIT_DEFAULTS)
@keeps_runs
def wait_for_jobs(results: pd.DataFrame, **options: Unpack[WaitOptions]) -> pd.DataFrame:
    """Poll every ``created`` (and ``queued``) job of ``results`` until it ends.

    Parameters
    ----------
    results : DataFrame
        The results frame of ``launch_jobs`` (or ``hg.last_run()``, ``hg.load_run(...)``).

    Other Parameters
    ----------------
    api_key, env_id, base_url : str
        The connection; each defaults to its ``HOTGLUE_*`` variable.
    client : Hotglue or AsyncHotglue
        A ready client instead of the connection keywords.
    concurrency : int
        GETs in flight (default 16).
    rate_limit : float
        Requests per second (default: no limit).
    poll_interval, max_poll_interval : float
        The first wait (default 5 s), then x1.5 per poll up to ``max_poll_interval``
        (default 30 s).
    timeout : float
        Overall seconds; rows still running then stay ``finished=False``.
    journal : str or Path
        Where the statuses are recorded (default: the results' own journal).
    progress, clock, sleep, store : see launch_jobs
        As for ``launch_jobs`` (``store``: keep the waited results there).

    Returns
    -------
    DataFrame
        A copy with final ``status`` and the columns ``finished``, ``succeeded``,
        ``failed_stage``, ``processed_rows``, ``duration_s``, ``last_updated``, ``polls``
        (write jobs: ``export_summary``, ``export_failures``).

    Raises
    ------
    ConfigError
        ``results`` is not a results frame, a bad option, or missing credentials.
    AuthenticationError
        The API refused the key; ``.results`` has every row with the last status seen.
    LaunchInterrupted
        Ctrl-C; ``.results`` has every row with the last status seen.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> from hotglue_nb import sandbox
    >>> with sandbox.serve() as sb:
    ...     launched = hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, **sb.credentials)
    ...     done = hg.wait_for_jobs(launched, poll_interval=0.5, **sb.credentials)
    >>> done[["tenant", "status", "succeeded", "duration_s"]]
    """
    config, progress = wait_config(dict(options))
    with Progress(progress) as bar:
        return warn_notices(_wait(results, config, bar, False))


def _wait(
    results: pd.DataFrame, config: WaitConfig, progress: Progress, nest: bool
) -> pd.DataFrame:
    run = prepare_wait(results, config)
    progress.phase("wait", len(run.follows), table=True)
    start: Start[pd.DataFrame] = lambda post: execute_wait(run, post)  # noqa: E731
    try:
        return blocking(start, progress, nest)
    except KeyboardInterrupt:  # interrupted before the wait could start: nothing polled yet
        raise interrupted(results, phase="wait") from None

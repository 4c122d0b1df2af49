"""``hg.Store``: job history kept in SQLite or PostgreSQL (``_engine``). ``sync_history``
reads with ``job_history`` and upserts by ``job_root`` (a job seen again with a newer
``last_updated`` replaces its row; nothing is duplicated); each tenant x flow records since
when the store has seen every one of its jobs (``complete_since``): the start of its first
list, kept while each later list overlaps what the store holds. A list that does not overlap
(more jobs came than the API lists between two syncs) starts a new span. ``history`` gives
the ``job_history`` frame back, ``history_complete`` from those spans.
"""

from __future__ import annotations

import os
import warnings
from itertools import compress
from typing import Any, Unpack

import pandas as pd

from .._exceptions import ConfigError, HotglueWarning
from .._fleet._public import job_history
from .._fleet._reads import tenant_reads
from .._options import ReadOptions
from .._types import Tenants, When
from .._values import moment, now_utc
from ._columns import COLUMNS, frame_of_columns, iso, sql_columns
from ._engine import open_database
from ._runs import RUNS_SCHEMA, RunsMixin
from ._sql import Query, Writer, upsert

__all__ = ["SCHEMA_VERSION", "Store"]

#: 1: jobs, spans, runs, results; 2: events (a stored run's rows as they happen)
SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    tenant TEXT NOT NULL, flow_id TEXT NOT NULL, env_id TEXT, job_id TEXT, job_name TEXT,
    job_root TEXT PRIMARY KEY, status TEXT, succeeded INTEGER, failed_stage TEXT,
    start_time TEXT, last_updated TEXT, duration_s DOUBLE PRECISION, processed_rows BIGINT,
    records TEXT, message TEXT, error TEXT, scheduled_job INTEGER, sync_type TEXT, tap TEXT,
    connector_id TEXT, job_type TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, flow_id, start_time);
CREATE TABLE IF NOT EXISTS spans (
    tenant TEXT NOT NULL, flow_id TEXT NOT NULL, connector_id TEXT NOT NULL DEFAULT '',
    complete_since TEXT, read_at TEXT NOT NULL, listed INTEGER NOT NULL,
    PRIMARY KEY (tenant, flow_id, connector_id)
);
"""
_UPSERT_JOB = upsert("jobs", COLUMNS, ["job_root"])
_SPAN_KEY = ["tenant", "flow_id", "connector_id"]
_UPSERT_SPAN = upsert("spans", [*_SPAN_KEY, "complete_since", "read_at", "listed"], _SPAN_KEY)
_TIME = "COALESCE(j.start_time, j.last_updated)"  # a job's time, as job_history's filters
_SELECT = (f"SELECT {', '.join('j.' + c for c in COLUMNS)}, CASE WHEN s.tenant IS NULL THEN 0 "
           "WHEN s.complete_since IS NULL THEN 1 WHEN j.start_time > s.complete_since THEN 1 "
           f"ELSE 0 END AS complete, {_TIME} AS sort_time FROM jobs j LEFT JOIN spans s ON "
           "s.tenant = j.tenant AND s.flow_id = j.flow_id AND "
           "s.connector_id = COALESCE(j.connector_id, '')")  # fmt: skip
_NAMES = (*COLUMNS, "complete", "sort_time")


class Store(RunsMixin):
    """Job history and runs kept between reads, in a SQLite file or PostgreSQL.

    Parameters
    ----------
    location : str or Path
        A SQLite file (made, with its folder, if missing), or a PostgreSQL database's URL
        ``postgresql+psycopg://user:password@host:5432/database`` (the ``[postgres]``
        extra) that a team shares.
    timeout : float, default 30
        Seconds a write waits while another process writes, before a ConfigError naming
        that process.

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> store = hg.Store("hotglue.sqlite")
    >>> store.sync_history(flow_id)             # again tomorrow: only new and changed jobs
    >>> health = hg.fleet_health(store.history(flow_id, since="90d"))
    >>> hg.launch_jobs(tenants, flow_id=flow_id, store=store)   # every run in one place
    >>> store.runs()
    """

    def __init__(self, location: str | os.PathLike[str], *, timeout: float = 30) -> None:
        self._db = open_database(location, timeout)
        self.location, self.timeout = self._db.where, timeout
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    def close(self) -> None:
        """Close the file or the database connections (also done when it is collected)."""
        self._db.close()

    def _open(self) -> None:
        tables, sqlite = self._db.tables(), self._db.engine == "sqlite"
        if "meta" not in tables and (tables & {"jobs", "spans", "runs", "results"} or
                                     (sqlite and tables)):  # fmt: skip
            kind = "SQLite file" if sqlite else "database"
            raise ConfigError(f"{self.location} is a {kind} but not a hotglue_nb store: pass "
                              "a new one.")  # fmt: skip
        if "meta" in tables and self._version(self._db.rows) == SCHEMA_VERSION:
            return  # opening a current store reads only: it never waits for a writer
        with self._db.write() as writer:
            for statement in (_SCHEMA + RUNS_SCHEMA).split(";"):
                if statement.strip():
                    writer.run(statement)
            self._version(writer.rows)
            # forward: each version so far only added tables, made above; then it is noted
            writer.run(upsert("meta", ["key", "value"], ["key"]), ("schema", str(SCHEMA_VERSION)))

    def _version(self, rows: Any) -> int:
        """The store's schema version (0: new); a newer one than this code is refused."""
        found = rows("SELECT value FROM meta WHERE key = 'schema'")
        version = int(found[0][0]) if found else 0
        if version > SCHEMA_VERSION:
            raise ConfigError(f"{self.location} was written by a newer hotglue_nb (store "
                              f"schema {version}, this one knows {SCHEMA_VERSION}): "
                              "upgrade hotglue_nb.")  # fmt: skip
        return version

    def sync_history(
        self, flow_id: str, tenants: Tenants | None = None, *, since: When = None,
        **options: Unpack[ReadOptions],
    ) -> pd.DataFrame:  # fmt: skip
        """Read the flow's history (``job_history``) and keep every job in the store.

        Parameters
        ----------
        flow_id : str
            The flow.
        tenants : DataFrame, Series or list of str, optional
            As for ``job_history`` (default: every tenant).
        since : date, datetime, Timestamp or str, optional
            As for ``job_history``.

        Other Parameters
        ----------------
        api_key, env_id, base_url, client, concurrency, rate_limit : see job_history
            As for ``job_history``.
        progress, clock, sleep, connector_id : see job_history
            As for ``job_history``.

        Returns
        -------
        DataFrame
            The rows that were new or changed (``job_history``'s columns, and ``change``:
            new / changed).

        Raises
        ------
        ConfigError, AuthenticationError, APIError, LaunchInterrupted
            As for ``job_history``.
        """
        with warnings.catch_warnings():  # cut-short lists are what the store is for
            warnings.simplefilter("ignore", HotglueWarning)
            read = job_history(flow_id, tenants, since=since, **options)
        return self._keep(read, iso(moment(since, now_utc(), "since")))

    def _keep(self, read: pd.DataFrame, floor: str | None = None) -> pd.DataFrame:
        """Upsert one read in one transaction; record each tenant's span (a list read
        ``since`` a moment, ``floor``, tells nothing of the jobs before it)."""
        columns = sql_columns(read)
        with self._db.write() as writer:  # one writer at a time; readers go on
            known = self._known(writer, columns["job_root"])
            changes = self._upsert(writer, columns, known)
            self._spans(writer, read, columns, known, floor)
        changed = read[read["job_root"].isin(changes)].copy()
        changed["change"] = changed["job_root"].map(changes)
        return changed.reset_index(drop=True)

    @staticmethod
    def _known(cursor: Writer, roots: list[Any]) -> dict[str, str | None]:
        """The stored ``last_updated`` of the roots read (all at once for a big read)."""
        stored = cursor.rows("SELECT count(*) FROM jobs")[0][0]
        if stored <= 4 * len(roots):
            return dict(cursor.rows("SELECT job_root, last_updated FROM jobs"))
        out: dict[str, str | None] = {}
        wanted = [r for r in roots if isinstance(r, str)]
        for at in range(0, len(wanted), 500):
            chunk = wanted[at : at + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT job_root, last_updated FROM jobs WHERE job_root IN ({marks})"
            out.update(cursor.rows(query, chunk))
        return out

    @staticmethod
    def _upsert(
        cursor: Writer, columns: dict[str, list[Any]], known: dict[str, str | None]
    ) -> dict[str, str]:
        """New jobs and jobs seen again with a newer ``last_updated``; others are left."""
        changes: dict[str, str] = {}
        keep = []
        for at, (root, updated) in enumerate(zip(columns["job_root"], columns["last_updated"],
                                                 strict=True)):  # fmt: skip
            if not isinstance(root, str):
                continue  # a job without its s3_root cannot be told apart from another
            if root in known:
                if updated is None or (known[root] or "") >= updated:
                    continue
                changes[root] = "changed"
            else:
                changes[root] = "new"
            keep.append(at)
        values = [columns[name] for name in COLUMNS]
        cursor.many(_UPSERT_JOB, [[column[at] for column in values] for at in keep])
        return changes

    @staticmethod
    def _spans(
        cursor: Writer, read: pd.DataFrame, columns: dict[str, list[Any]],
        known: dict[str, str | None], floor: str | None,
    ) -> None:  # fmt: skip
        """Per tenant x flow read: since when the store has seen every one of its jobs."""
        if read.empty:
            return
        table = pd.DataFrame({"tenant": columns["tenant"], "flow_id": columns["flow_id"],
                              "connector": [c or "" for c in columns["connector_id"]],
                              "start": columns["start_time"], "root": columns["job_root"],
                              "cut": _cut(read)})  # fmt: skip
        table = table.sort_values("start", kind="stable", na_position="first")
        groups = table.groupby(["tenant", "flow_id", "connector"], sort=False)
        first = groups.first()
        summary = first.assign(cut=groups["cut"].any(), listed=groups.size())
        before = dict(((t, f, c), s) for t, f, c, s in cursor.rows(
            "SELECT tenant, flow_id, connector_id, complete_since FROM spans"))  # fmt: skip
        now = iso(now_utc())
        rows = []
        for (tenant, flow_id, connector), cut, start, root, listed in zip(
            summary.index, summary["cut"], summary["start"], summary["root"], summary["listed"],
            strict=True,
        ):  # fmt: skip
            # a list read since a moment: its oldest job is the edge, as a cut list's is
            since, key = start if cut or floor else None, (tenant, flow_id, connector)
            if key in before and root in known and _earlier(before[key], since):
                since = before[key]  # the list overlaps what the store holds: the span goes on
            rows.append((tenant, flow_id, connector, since, now, int(listed)))
        cursor.many(_UPSERT_SPAN, rows)

    def history(
        self, flow_id: str | None = None, tenants: Tenants | None = None, *, since: When = None,
        until: When = None, now: When = None,
    ) -> pd.DataFrame:  # fmt: skip
        """The jobs the store holds, as ``job_history`` gives them.

        Parameters
        ----------
        flow_id : str, optional
            One flow (default: all).
        tenants : list of str or Series, optional
            These tenants only.
        since, until : date, datetime, Timestamp or str, optional
            By start time, as for ``job_history``.
        now : date, datetime, Timestamp or str, optional
            The moment spans count back from.

        Returns
        -------
        DataFrame
            ``job_history``'s columns and dtypes, sorted by tenant then start time;
            ``history_complete`` True where the store has seen every job of the tenant.
        """
        stamp = now_utc(now)
        start, end = moment(since, stamp, "since"), moment(until, stamp, "until")
        where: list[str] = []
        args: list[str | None] = []
        if flow_id is not None:
            where.append("j.flow_id = ?")
            args.append(flow_id)
        if start is not None:
            where.append(f"{_TIME} >= ?")
            args.append(iso(start))
        if end is not None:
            where.append(f"{_TIME} < ?")
            args.append(iso(end))
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY j.tenant, {_TIME} NULLS FIRST"
        query = Query(sql, _NAMES, floats=frozenset({"duration_s"}), jsons=frozenset({"records"}))
        data = self._db.columns(query, args)
        if tenants is not None:
            wanted = {read.tenant for read in tenant_reads(tenants, flow_id or "-")}
            keep = [t in wanted for t in data["tenant"]]
            data = {name: list(compress(values, keep)) for name, values in data.items()}
        return frame_of_columns(data)


def _earlier(one: str | None, other: str | None) -> bool:
    """Is span start ``one`` earlier than ``other`` (None: since the very first job)?"""
    return one is None or (other is not None and one < other)


def _cut(read: pd.DataFrame) -> Any:
    """Per row: was its tenant's list possibly cut short (``history_complete`` False)?"""
    return ~read["history_complete"].fillna(True).astype(bool).to_numpy()

"""``hg.Store``: job history kept in a SQLite file (stdlib ``sqlite3``, WAL mode), so the
history outlives the API's short job list.

``sync_history`` reads with ``job_history`` and upserts by ``job_root`` (a job seen again
with a newer ``last_updated`` replaces its row; nothing is duplicated); each tenant x flow
records since when the store has seen every one of its jobs (``complete_since``): the
start of its first list, kept while each later list overlaps what the store holds. A list
that does not overlap (more jobs came than the API lists between two syncs) starts a new
span. ``history`` gives the ``job_history`` frame back, ``history_complete`` from those spans.
"""

from __future__ import annotations

import json
import os
import sqlite3
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any, Unpack

import pandas as pd

from .._exceptions import ConfigError, HotglueWarning
from .._fleet._public import job_history
from .._frames import HISTORY_COLUMNS, apply_dtypes
from .._options import ReadOptions
from .._types import Tenants, When
from .._values import moment, now_utc
from ._runs import RUNS_SCHEMA, RunsMixin

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_root TEXT PRIMARY KEY, tenant TEXT NOT NULL, flow_id TEXT NOT NULL,
    connector_id TEXT, start_time TEXT, last_updated TEXT, row TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, flow_id, start_time);
CREATE TABLE IF NOT EXISTS spans (
    tenant TEXT NOT NULL, flow_id TEXT NOT NULL, connector_id TEXT NOT NULL DEFAULT '',
    complete_since TEXT, read_at TEXT NOT NULL, listed INTEGER NOT NULL,
    PRIMARY KEY (tenant, flow_id, connector_id)
);
"""
_STORED = [c for c in HISTORY_COLUMNS if c != "history_complete"]


class Store(RunsMixin):
    """Job history kept between reads, in a SQLite file.

    Parameters
    ----------
    location : str or Path
        The SQLite file (made, with its folder, if missing).

    Examples
    --------
    >>> import hotglue_nb as hg
    >>> store = hg.Store("hotglue.sqlite")
    >>> store.sync_history(flow_id)             # again tomorrow: only new and changed jobs
    >>> health = hg.fleet_health(store.history(flow_id, since="90d"))
    >>> store.save_results(hg.last_run())           # every run in one place
    >>> store.runs()
    """

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.path = Path(location)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._open()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not a hotglue_nb store ({exc}): pass a new "
                              "file, or the store's own.") from None  # fmt: skip
        except OSError as exc:
            raise ConfigError(f"Cannot open the store {self.path}: {exc.strerror}.") from None

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def close(self) -> None:
        """Close the file (a store is also closed when it is collected)."""
        self._db.close()

    def _open(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if tables and "meta" not in tables:
            raise ConfigError(f"{self.path} is a SQLite file but not a hotglue_nb store: pass "
                              "a new file.")  # fmt: skip
        self._db.executescript(_SCHEMA + RUNS_SCHEMA)
        found = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if found is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(found[0]) > SCHEMA_VERSION:
            raise ConfigError(f"{self.path} was written by a newer hotglue_nb (store schema "
                              f"{found[0]}, this one knows {SCHEMA_VERSION}): upgrade "
                              "hotglue_nb.")  # fmt: skip

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
        return self._keep(read)

    def _keep(self, read: pd.DataFrame) -> pd.DataFrame:
        """Upsert one read in one transaction; record each tenant's span."""
        rows: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in read.to_dict("records")
        ]
        roots = [str(r["job_root"]) for r in rows if isinstance(r["job_root"], str)]
        with closing(self._db.cursor()) as cursor:
            try:  # one writer at a time (the other waits up to 30 s); readers go on (WAL)
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise ConfigError(
                    f"The store {self.path} is being written by another process "
                    f"({exc}, after 30 s): sync again when it is done."
                ) from None
            try:
                known = self._known(cursor, roots)
                changes = self._upsert(cursor, rows, known)
                self._spans(cursor, read, set(known))
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        changed = read[read["job_root"].isin(changes)].copy()
        changed["change"] = changed["job_root"].map(changes)
        return changed.reset_index(drop=True)

    @staticmethod
    def _known(cursor: sqlite3.Cursor, roots: list[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for at in range(0, len(roots), 500):
            chunk = roots[at : at + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT job_root, last_updated FROM jobs WHERE job_root IN ({marks})"
            out.update(cursor.execute(query, chunk).fetchall())
        return out

    @staticmethod
    def _upsert(
        cursor: sqlite3.Cursor, rows: list[dict[str, Any]], known: dict[str, str | None]
    ) -> dict[str, str]:
        changes: dict[str, str] = {}
        values = []
        for row in rows:
            root = row["job_root"]
            if not isinstance(root, str):
                continue  # a job without its s3_root cannot be told apart from another
            updated = _iso(row["last_updated"])
            if root in known and (updated is None or (known[root] or "") >= updated):
                continue
            changes[root] = "changed" if root in known else "new"
            values.append((root, row["tenant"], row["flow_id"], _text(row["connector_id"]),
                           _iso(row["start_time"]), updated, _row_json(row)))  # fmt: skip
        cursor.executemany("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        return changes

    @staticmethod
    def _spans(cursor: sqlite3.Cursor, read: pd.DataFrame, known: set[str]) -> None:
        now = now_utc().isoformat()
        for (tenant, flow_id), jobs in read.groupby(["tenant", "flow_id"], sort=False):
            connector = _text(jobs["connector_id"].iloc[0]) or ""
            capped = not bool(jobs["history_complete"].fillna(True).all())
            oldest = jobs.sort_values("start_time").iloc[0]
            since = None if not capped else _iso(oldest["start_time"])
            before = cursor.execute(
                "SELECT complete_since FROM spans WHERE tenant=? AND flow_id=? AND connector_id=?",
                (tenant, flow_id, connector)).fetchone()  # fmt: skip
            if capped and before is not None and oldest["job_root"] in known:
                since = before[0]  # the list overlaps what the store holds: the span goes on
            cursor.execute("INSERT OR REPLACE INTO spans VALUES (?, ?, ?, ?, ?, ?)",
                           (tenant, flow_id, connector, since, now, len(jobs)))  # fmt: skip

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
        query, args = "SELECT row, tenant, flow_id, connector_id, start_time FROM jobs", []
        if flow_id is not None:
            query, args = query + " WHERE flow_id = ?", [flow_id]
        found = self._db.execute(query + " ORDER BY tenant, start_time", args).fetchall()
        spans = {(t, f, c): s for t, f, c, s in self._db.execute(
            "SELECT tenant, flow_id, connector_id, complete_since FROM spans")}  # fmt: skip
        wanted = None if tenants is None else {str(t) for t in _ids(tenants)}
        rows = []
        for text, tenant, flow, connector, started in found:
            if wanted is not None and tenant not in wanted:
                continue
            row = json.loads(text)
            span = spans.get((tenant, flow, connector or ""), "missing")
            row["history_complete"] = span is None or (
                span != "missing" and started is not None and started > span
            )
            rows.append(row)
        frame = apply_dtypes(pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)), HISTORY_COLUMNS)
        times = frame["start_time"]
        keep = pd.Series(True, index=frame.index)
        if start is not None:
            keep &= times >= start
        if end is not None:
            keep &= times < end
        return frame[keep].reset_index(drop=True)


def _ids(tenants: Tenants) -> list[Any]:
    if isinstance(tenants, pd.DataFrame):
        return list(tenants["tenant"])
    return list(tenants)


def _iso(value: Any) -> str | None:
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).tz_convert("UTC").isoformat()


def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _row_json(row: dict[str, Any]) -> str:
    """A history row as JSON (times as ISO text, NA as null); the API key is never in it."""
    out: dict[str, Any] = {}
    for name in _STORED:
        value = row.get(name)
        if isinstance(value, pd.Timestamp):
            out[name] = value.isoformat()
        elif isinstance(value, dict):
            out[name] = value
        else:  # NaT, NA, NaN and None alike
            out[name] = None if value is None or pd.isna(value) else value
    return json.dumps(out, default=str)

"""Runs kept in the store: ``store.save_results(frame)`` keeps a launch's (or a wait's, a
write's) results frame, row by row under its ``run_id``; ``store.runs()`` lists them and
``store.results(run_id)`` gives a frame back as it was saved — index, columns, dtypes."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd

from .._exceptions import ConfigError
from .._frames import KNOWN_COLUMNS, apply_dtypes, require_results
from .._values import now_utc

__all__ = ["RUNS_SCHEMA", "RunsMixin"]

RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, saved_at TEXT NOT NULL, columns TEXT NOT NULL,
    rows INTEGER NOT NULL, flows TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL, position INTEGER NOT NULL, label TEXT NOT NULL, row TEXT NOT NULL,
    job_root TEXT, PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS results_by_job ON results (job_root);
"""


class RunsMixin:
    """The runs half of ``Store`` (its ``_db`` and ``path``)."""

    _db: sqlite3.Connection
    path: Path

    def save_results(self, results: pd.DataFrame) -> int:
        """Keep a run's results frame (saved again: its rows are replaced, never doubled).

        Parameters
        ----------
        results : DataFrame
            The frame of ``launch_jobs``, ``wait_for_jobs`` or ``write_records``.

        Returns
        -------
        int
            The rows kept.

        Raises
        ------
        ConfigError
            Not a results frame, or one without ``run_id``.
        """
        require_results(results)
        if "run_id" not in results or results["run_id"].isna().any():
            raise ConfigError("save_results needs the frame's run_id on every row (a frame of "
                              "launch_jobs or wait_for_jobs).")  # fmt: skip
        columns = [str(c) for c in results.columns]
        by_run: dict[str, list[tuple[int, str, str, str | None]]] = {}
        for position, (label, row) in enumerate(zip(results.index, results.to_dict("records"),
                                                    strict=True)):  # fmt: skip
            record = {str(k): _plain(v) for k, v in row.items()}
            root = record.get("job_root")
            by_run.setdefault(str(record["run_id"]), []).append(
                (position, json.dumps(_plain(label)), json.dumps(record, default=str),
                 root if isinstance(root, str) else None))  # fmt: skip
        with closing(self._db.cursor()) as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                for run_id, rows in by_run.items():
                    flows = sorted({str(f) for f in results["flow_id"].dropna()})
                    cursor.execute("DELETE FROM results WHERE run_id = ?", (run_id,))
                    cursor.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?)",
                                       [(run_id, *r) for r in rows])  # fmt: skip
                    cursor.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?)",
                                   (run_id, now_utc().isoformat(), json.dumps(columns),
                                    len(rows), json.dumps(flows)))  # fmt: skip
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        return len(results)

    def info(self) -> dict[str, Any]:
        """What the store holds: schema, jobs, tenants, flows, runs, the file's size.

        Returns
        -------
        dict
            ``schema``, ``jobs``, ``tenants``, ``flows``, ``runs``, ``bytes``.
        """
        queries = {"schema": "SELECT value FROM meta WHERE key = 'schema'",
                   "jobs": "SELECT count(*) FROM jobs",
                   "tenants": "SELECT count(DISTINCT tenant) FROM jobs",
                   "flows": "SELECT count(DISTINCT flow_id) FROM jobs",
                   "runs": "SELECT count(*) FROM runs"}  # fmt: skip
        out: dict[str, Any] = {k: self._db.execute(q).fetchone()[0] for k, q in queries.items()}
        return out | {"schema": int(out["schema"]), "bytes": self.path.stat().st_size}

    def runs(self) -> pd.DataFrame:
        """The runs kept: ``run_id``, ``saved_at``, ``rows``, ``flows``, newest first.

        Returns
        -------
        DataFrame
            One row per run.
        """
        found = self._db.execute(
            "SELECT run_id, saved_at, rows, flows FROM runs ORDER BY saved_at DESC"
        ).fetchall()
        frame = pd.DataFrame(found, columns=["run_id", "saved_at", "rows", "flows"])
        frame["flows"] = frame["flows"].map(json.loads)
        frame["saved_at"] = pd.to_datetime(frame["saved_at"], utc=True, format="ISO8601")
        return frame.astype({"run_id": "string", "rows": "Int64"})

    def results(self, run_id: str) -> pd.DataFrame:
        """A run's results frame as it was saved (index, columns and dtypes).

        Parameters
        ----------
        run_id : str
            The run (``store.runs()`` lists them).

        Returns
        -------
        DataFrame
            The frame ``save_results`` kept.

        Raises
        ------
        ConfigError
            No such run in the store.
        """
        head = self._db.execute("SELECT columns FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if head is None:
            raise ConfigError(f"No run {run_id!r} in the store {self.path}: store.runs() "
                              "lists those it holds.")  # fmt: skip
        columns = json.loads(head[0])
        found = self._db.execute(
            "SELECT label, row FROM results WHERE run_id = ? ORDER BY position", (run_id,)
        ).fetchall()
        labels = [json.loads(label) for label, _ in found]
        frame = pd.DataFrame([json.loads(row) for _, row in found], columns=columns)
        frame.index = pd.Index(labels)
        known = {c: d for c, d in KNOWN_COLUMNS.items() if c in frame}
        typed: pd.DataFrame = apply_dtypes(frame, known)[columns]
        return typed


def _plain(value: Any) -> Any:
    """A cell as JSON holds it: times as ISO text, NA as null, numpy scalars as Python's."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return value
    if value is None or pd.isna(value):
        return None
    item = getattr(value, "item", None)
    return item() if item is not None else value

"""Runs kept in the store: ``store.save_results(frame)`` keeps a launch's (or a wait's, a
write's) results frame, row by row under its ``run_id``; ``store.runs()`` lists them and
``store.results(run_id)`` gives a frame back as it was saved — index, columns, dtypes."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from .._exceptions import ConfigError
from .._frames import KNOWN_COLUMNS, apply_dtypes, require_results
from .._values import now_utc
from ._sql import Database, upsert

__all__ = ["RUNS_SCHEMA", "RunsMixin"]

RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, saved_at TEXT NOT NULL, columns TEXT NOT NULL,
    rows BIGINT NOT NULL, flows TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL, position INTEGER NOT NULL, label TEXT NOT NULL, row TEXT NOT NULL,
    job_root TEXT, PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS results_by_job ON results (job_root);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL, source TEXT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL,
    row TEXT, record TEXT NOT NULL, PRIMARY KEY (run_id, source, at)
);
"""
_EVENT_KINDS = ("intent", "outcome", "status")  # a row's request, outcome, final status
_RECORD = ("INSERT INTO events (run_id, source, at, kind, row, record) VALUES "
           "(?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, source, at) DO NOTHING")  # fmt: skip
_UPSERT_RUN = upsert("runs", ["run_id", "saved_at", "columns", "rows", "flows"], ["run_id"])


class RunsMixin:
    """The runs half of ``Store`` (its ``_db`` and ``path``)."""

    _db: Database
    location: str

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
        flows = sorted({str(f) for f in results["flow_id"].dropna()})
        with self._db.write() as writer:
            for run_id, rows in by_run.items():
                writer.run("DELETE FROM results WHERE run_id = ?", (run_id,))
                writer.many("INSERT INTO results VALUES (?, ?, ?, ?, ?)",
                            [(run_id, *r) for r in rows])  # fmt: skip
                writer.run(_UPSERT_RUN, (run_id, now_utc().isoformat(), json.dumps(columns),
                                         len(rows), json.dumps(flows)))  # fmt: skip
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
        out: dict[str, Any] = {k: self._db.rows(q)[0][0] for k, q in queries.items()}
        return {"location": self.location, "engine": self._db.engine, **out,
                "schema": int(out["schema"]), "bytes": self._db.size()}  # fmt: skip

    def runs(self) -> pd.DataFrame:
        """The runs kept: ``run_id``, ``saved_at``, ``rows``, ``flows``, ``state``, newest
        first.

        Returns
        -------
        DataFrame
            One row per run; ``state`` is ``saved`` (its whole frame is kept) or
            ``recorded`` (its rows as they happened: the run is going on, or stopped before
            it ended; ``results`` gives what was recorded, a resume completes it).
        """
        found = [(*r, "saved") for r in self._db.rows(
            "SELECT run_id, saved_at, rows, flows FROM runs ORDER BY saved_at DESC")]  # fmt: skip
        saved = {r[0] for r in found}
        for run_id, rows in self._db.rows(
            "SELECT run_id, count(DISTINCT row) FROM events WHERE kind = 'outcome' "
            "GROUP BY run_id ORDER BY run_id DESC"
        ):  # fmt: skip
            if run_id not in saved:
                found.append((run_id, None, rows, "[]", "recorded"))
        frame = pd.DataFrame(found, columns=["run_id", "saved_at", "rows", "flows", "state"])
        frame["flows"] = frame["flows"].map(json.loads)
        frame["saved_at"] = pd.to_datetime(frame["saved_at"], utc=True, format="ISO8601")
        return frame.astype({"run_id": "string", "rows": "Int64", "state": "string"})

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
        head = self._db.rows("SELECT columns FROM runs WHERE run_id = ?", (run_id,))
        if not head and (recorded := self._recorded(run_id)) is not None:
            return recorded
        if not head:
            raise ConfigError(f"No run {run_id!r} in the store {self.location}: store.runs() "
                              "lists those it holds.")  # fmt: skip
        columns = json.loads(head[0][0])
        found = self._db.rows(
            "SELECT label, row FROM results WHERE run_id = ? ORDER BY position", (run_id,)
        )
        labels = [json.loads(label) for label, _ in found]
        frame = pd.DataFrame([json.loads(row) for _, row in found], columns=columns)
        frame.index = pd.Index(labels)
        known = {c: d for c, d in KNOWN_COLUMNS.items() if c in frame}
        typed: pd.DataFrame = apply_dtypes(frame, known)[columns]
        return typed

    def _recorded(self, run_id: str) -> pd.DataFrame | None:
        """A run's rows as recorded while it ran: each row's last outcome, with its final
        status where a wait recorded one (None: nothing recorded)."""
        found = self._db.rows("SELECT kind, row, record FROM events WHERE run_id = ? AND kind "
                              "<> 'intent' ORDER BY source, at", (run_id,))  # fmt: skip
        rows: dict[str, dict[str, Any]] = {}
        for kind, row, record in found:
            fields = {k: v for k, v in json.loads(record).items() if k not in ("kind", "row")}
            if kind == "outcome" or row in rows:
                rows[row] = rows.get(row, {}) | fields
        if not rows:
            return None
        frame = pd.DataFrame(list(rows.values()), index=pd.Index(list(rows)))
        frame["run_id"] = run_id
        typed: pd.DataFrame = apply_dtypes(frame, {c: d for c, d in KNOWN_COLUMNS.items()
                                                   if c in frame})  # fmt: skip
        return typed

    def _record_events(self, run_id: str, source: str, lines: list[tuple[int, bytes]]) -> int:
        """Keep a run's journal lines (requests, outcomes, statuses) as they are written;
        each line once, however often it is handed over."""
        events = []
        for at, line in lines:
            record = json.loads(line)
            if record.get("kind") in _EVENT_KINDS:
                row = None if record.get("row") is None else str(record["row"])
                events.append((run_id, source, at, record["kind"], row, line.decode().strip()))
        if events:
            with self._db.write() as writer:
                writer.many(_RECORD, events)
        return len(events)


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

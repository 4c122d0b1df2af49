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
from ._sql import Database, Writer, upsert

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
_UPSERT_RESULT = upsert("results", ["run_id", "position", "label", "row", "job_root"],
                        ["run_id", "position"])  # fmt: skip


class RunsMixin:
    """The runs half of ``Store`` (its ``_db`` and ``path``)."""

    _db: Database
    location: str

    def save_results(self, results: pd.DataFrame) -> int:
        """Keep a run's results frame. Saved again, its rows replace theirs (matched by index
        label) and the run's other rows stay: a wait on part of a run loses none of it.

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
        by_run: dict[str, list[tuple[str, str, str | None]]] = {}
        for label, row in zip(results.index, results.to_dict("records"), strict=True):
            record = {str(k): _plain(v) for k, v in row.items()}
            root = record.get("job_root")
            by_run.setdefault(str(record["run_id"]), []).append(
                (json.dumps(_plain(label)), json.dumps(record, default=str),
                 root if isinstance(root, str) else None))  # fmt: skip
        flows = sorted({str(f) for f in results["flow_id"].dropna()})
        with self._db.write() as writer:
            for run_id, rows in by_run.items():
                self._merge(writer, run_id, rows, results, flows)
        return len(results)

    @staticmethod
    def _merge(writer: Writer, run_id: str, rows: list[tuple[str, str, str | None]],
               results: pd.DataFrame, flows: list[str]) -> None:  # fmt: skip
        """Rows at the positions of their labels' earlier rows (the n-th row of a label at
        its n-th position), new labels after; columns and flows as a union."""
        at: dict[str, list[int]] = {}
        for label, position in writer.rows("SELECT label, position FROM results WHERE "
                                           "run_id = ? ORDER BY position", (run_id,)):  # fmt: skip
            at.setdefault(label, []).append(position)
        head = writer.rows("SELECT columns, flows FROM runs WHERE run_id = ?", (run_id,))
        shape = _shape(head[0][0]) if head else {"columns": [], "index": None}
        columns = shape["columns"] + [str(c) for c in results.columns
                                      if str(c) not in shape["columns"]]  # fmt: skip
        flows = sorted(set(flows) | set(json.loads(head[0][1]) if head else []))
        end = 1 + max((p for ps in at.values() for p in ps), default=-1)
        seen: dict[str, int] = {}
        kept = []
        for label, record, root in rows:
            nth = seen[label] = seen.get(label, -1) + 1
            earlier = at.get(label, [])
            position = earlier[nth] if nth < len(earlier) else (end := end + 1) - 1
            kept.append((run_id, position, label, record, root))
        writer.many(_UPSERT_RESULT, kept)
        total = writer.rows("SELECT count(*) FROM results WHERE run_id = ?", (run_id,))[0][0]
        shape = {"columns": columns, "index": _plain(results.index.name)}
        writer.run(_UPSERT_RUN, (run_id, now_utc().isoformat(), json.dumps(shape), total,
                                 json.dumps(flows)))  # fmt: skip

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
        shape = _shape(head[0][0])
        columns = shape["columns"]
        found = self._db.rows(
            "SELECT label, row FROM results WHERE run_id = ? ORDER BY position", (run_id,)
        )
        labels = [json.loads(label) for label, _ in found]
        frame = pd.DataFrame([json.loads(row) for _, row in found], columns=columns)
        frame.index = pd.Index(labels, name=shape["index"])
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


def _shape(text: str) -> dict[str, Any]:
    """A saved run's ``columns`` and index name (a list: the columns, as first kept)."""
    shape = json.loads(text)
    return {"columns": shape, "index": None} if isinstance(shape, list) else shape


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

"""The outcome store at fleet scale (issue #26): 5,000 tenants x 90 days = 450,000 jobs, side
by side in one process with what a careful user does instead, on SQLite and (given a server)
PostgreSQL.

(a) the store's part of a first sync (all jobs new) and of an incremental one (5 % new or
    changed), vs a naive loop of INSERTs (one ``execute`` per row, one transaction) and vs
    writing the whole frame to parquet
(b) a 30-day query of every tenant into a frame, vs reading the parquet file and filtering
(c) ``fleet_health`` on the queried frame; peak memory of the first sync (tracemalloc)
(d) a real incremental ``sync_history`` of 5,000 tenants on the sandbox (loopback, in this
    process: the fastest API there is) into the 450,000-job store: its time split between
    the API read and the store

(a)-(c) leave the API out (``Store._keep`` is what ``sync_history`` does after its read).
Run: ``python benchmarks/store.py [--tenants 5000] [--reps 3] [--postgres URL]`` (the URL
of a server where the user may create databases; default ``$HOTGLUE_NB_TEST_POSTGRES``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _fleet_data import history

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb._store._columns import COLUMNS, sql_columns

NOW = pd.Timestamp("2026-12-01T00:00:00Z")


def changed(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """``share`` of the jobs updated later (half) or new (half), as the next sync reads."""
    rng = np.random.default_rng(seed)
    picked = frame.sample(frac=share, random_state=seed)
    later = picked.iloc[: len(picked) // 2].copy()
    later["last_updated"] = later["last_updated"] + pd.Timedelta(minutes=5)
    new = picked.iloc[len(picked) // 2 :].copy()
    new["job_root"] = new["job_root"] + "-next"
    new["start_time"] = new["start_time"] + pd.Timedelta(days=int(rng.integers(1, 3)))
    return pd.concat([later, new], ignore_index=True)


def naive_inserts(frame: pd.DataFrame, location: str) -> None:
    """One INSERT per row in one transaction, as a user's loop would (SQLite or psycopg)."""
    columns = sql_columns(frame)
    if "://" not in location:
        db = sqlite3.connect(location)
        db.execute(f"CREATE TABLE jobs ({', '.join(COLUMNS)})")
        with db:
            for at in range(len(frame)):
                db.execute(f"INSERT INTO jobs VALUES ({', '.join('?' * len(COLUMNS))})",
                           [columns[c][at] for c in COLUMNS])  # fmt: skip
        db.close()
        return
    import psycopg

    with psycopg.connect(location.replace("+psycopg", "")) as pg:
        pg.execute(f"CREATE TABLE naive ({', '.join(c + ' TEXT' for c in COLUMNS)})")
        marks = ", ".join(["%s"] * len(COLUMNS))
        for at in range(len(frame)):
            row = [columns[c][at] for c in COLUMNS]
            pg.execute(f"INSERT INTO naive VALUES ({marks})",
                       [None if v is None else str(v) for v in row])  # fmt: skip


def alternating(one: Any, other: Any, reps: int) -> tuple[float, float]:
    """Medians of ``one`` and ``other`` timed in turns (the machine's state shared fairly)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(max(reps, 5)):
        for fn, kept in ((one, times[0]), (other, times[1])):
            start = time.perf_counter()
            fn()
            kept.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


class Locations:
    """New, empty store locations of one engine (PostgreSQL: a database each, dropped)."""

    def __init__(self, engine: str, folder: Path, server: str | None) -> None:
        self.engine, self.folder, self.server, self.made = engine, folder, server, []

    def new(self) -> str:
        if self.engine == "sqlite":
            return str(self.folder / f"s{time.perf_counter_ns()}.sqlite")
        import psycopg

        name = f"hg_bench_{time.perf_counter_ns()}"
        with psycopg.connect(str(self.server).replace("+psycopg", ""), autocommit=True) as a:
            a.execute(f"CREATE DATABASE {name}")
        self.made.append(name)
        return str(self.server).rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(str(self.server).replace("+psycopg", ""), autocommit=True) as a:
            for name in self.made:
                a.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def median(fn, reps: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def engine_rows(frame: pd.DataFrame, where: Locations, reps: int, parquet: Path) -> list[Any]:
    """(a)-(c) on one engine: the rows of its table."""

    def first() -> hg.Store:
        store = hg.Store(where.new())
        store._keep(frame)
        return store

    t_first = median(first, reps)
    store = first()
    t_incr = median(lambda: store._keep(changed(frame, 0.05, seed=int(time.time()))), reps)
    naive_rows = len(frame) if where.engine == "sqlite" else min(len(frame), 20_000)
    t_naive = median(lambda: naive_inserts(frame.iloc[:naive_rows], where.new()), 1)
    t_naive *= len(frame) / naive_rows
    since = NOW - pd.Timedelta(days=30)
    recent = store.history(since="30d", now=NOW)

    def by_parquet() -> pd.DataFrame:
        read = pd.read_parquet(parquet)
        return read[read["start_time"] >= since]

    t_query, t_parquet_r = alternating(lambda: store.history(since="30d", now=NOW),
                                       by_parquet, reps)  # fmt: skip
    t_health = median(lambda: hg.fleet_health(recent, now=NOW), reps)
    tracemalloc.start()
    first()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = frame.memory_usage(deep=True).sum()
    naive = "" if naive_rows == len(frame) else f" (from {naive_rows:,} rows)"
    e = where.engine
    return [
        (f"{e}: first sync, store part", f"{t_first:.2f} s",
         f"naive INSERT loop {t_naive:.2f} s{naive}"),
        (f"{e}: incremental sync (5 %), store part", f"{t_incr:.2f} s", ""),
        (f"{e}: 30-day query ({len(recent):,} rows)", f"{t_query:.2f} s",
         f"parquet read + filter {t_parquet_r:.2f} s ({t_query / t_parquet_r:.1f}x)"),
        (f"{e}: fleet_health on it", f"{t_health:.2f} s", ""),
        (f"{e}: first sync, peak memory", f"{peak / size:.2f}x the frame", ""),
    ]  # fmt: skip


def real_sync(frame: pd.DataFrame, where: Locations, tenants: int) -> list[Any]:
    """(d): a sync_history on the sandbox into a store already holding ``frame``."""
    store = hg.Store(where.new())
    store._keep(frame)
    spent: list[float] = []
    keep = store._keep

    def timed(read: pd.DataFrame, floor: str | None = None) -> pd.DataFrame:
        start = time.perf_counter()
        try:
            return keep(read, floor)
        finally:
            spent.append(time.perf_counter() - start)

    store._keep = timed  # type: ignore[method-assign]
    rows = []
    with sandbox.serve(sandbox.demo_world(0, tenants=tenants), history_days=10) as sb:
        for label in ("jobs new to the store", "again: nothing new"):
            start = time.perf_counter()
            kept = store.sync_history(sb.flow_id, progress=False, **sb.credentials)
            total = time.perf_counter() - start
            part = spent[-1]
            rows.append((f"{where.engine}: sync_history of {tenants:,} tenants, {label} "
                         f"({len(kept):,} kept)", f"{total:.2f} s", f"store {part:.2f} s = "
                         f"{part / total:.0%}, API read {total - part:.2f} s"))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("HOTGLUE_NB_TEST_POSTGRES"))
    args = parser.parse_args()
    frame = history(args.tenants, 90, seed=0)
    frame["history_complete"] = False  # the API's lists look capped
    delta = changed(frame, 0.05, seed=1)
    folder = Path(tempfile.mkdtemp())
    print(f"Python {platform.python_version()}, pandas {pd.__version__}, SQLite "
          f"{sqlite3.sqlite_version}{_server(args.postgres)}; {len(frame):,} jobs, "
          f"{len(delta):,} new or changed; median of {args.reps}\n")  # fmt: skip
    parquet = folder / "h.parquet"
    t_parquet_w = median(lambda: frame.to_parquet(parquet), args.reps)
    rows: list[Any] = [("parquet write of the whole frame", f"{t_parquet_w:.2f} s", "")]
    engines = [Locations("sqlite", folder, None)]
    if args.postgres:
        engines.append(Locations("postgresql", folder, args.postgres))
    try:
        for where in engines:
            rows += engine_rows(frame, where, args.reps, parquet)
            rows += real_sync(frame, where, args.tenants)
    finally:
        for where in engines[1:]:
            where.drop()
    print("| step | store | instead |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _server(url: str | None) -> str:
    if not url:
        return " (no PostgreSQL: --postgres URL)"
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as pg:
        version = pg.execute("SHOW server_version").fetchone()
    return f", PostgreSQL {version[0] if version else '?'}, psycopg {psycopg.__version__}"


if __name__ == "__main__":
    main()

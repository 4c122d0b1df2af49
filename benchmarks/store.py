"""The outcome store at fleet scale (issue #26): 5,000 tenants x 90 days = 450,000 jobs, side
by side in one process with what a careful user does instead.

(a) the store's part of a first sync (all jobs new) and of an incremental one (5 % new or
    changed), vs a naive loop of INSERTs (one ``execute`` per row, one transaction) and vs
    writing the whole frame to parquet
(b) a 30-day query of every tenant into a frame, vs reading the parquet file and filtering
(c) ``fleet_health`` on the queried frame; peak memory of the first sync (tracemalloc)

The API is not in these numbers (``Store._keep`` is what ``sync_history`` does after its read).
Run: ``python benchmarks/store.py [--tenants 5000] [--reps 3]``.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _fleet_data import history

import hotglue_nb as hg
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


def naive_inserts(frame: pd.DataFrame, path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE jobs ({', '.join(COLUMNS)})")
    columns = sql_columns(frame)
    with db:
        for at in range(len(frame)):
            db.execute(f"INSERT INTO jobs VALUES ({', '.join('?' * len(COLUMNS))})",
                       [columns[c][at] for c in COLUMNS])  # fmt: skip
    db.close()


def median(fn, reps: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    frame = history(args.tenants, 90, seed=0)
    frame["history_complete"] = False  # the API's lists look capped
    delta = changed(frame, 0.05, seed=1)
    folder = Path(tempfile.mkdtemp())
    print(f"Python {platform.python_version()}, pandas {pd.__version__}, SQLite "
          f"{sqlite3.sqlite_version}; {len(frame):,} jobs, {len(delta):,} new or changed; "
          f"median of {args.reps}\n")  # fmt: skip

    def first() -> hg.Store:
        path = folder / f"s{time.perf_counter_ns()}.sqlite"
        store = hg.Store(path)
        store._keep(frame)
        return store

    t_first = median(first, args.reps)
    store = first()
    t_incr = median(lambda: store._keep(changed(frame, 0.05, seed=int(time.time()))), args.reps)
    t_naive = median(lambda: naive_inserts(frame, folder / f"n{time.perf_counter_ns()}.db"), 1)
    parquet = folder / "h.parquet"
    t_parquet_w = median(lambda: frame.to_parquet(parquet), args.reps)
    since = NOW - pd.Timedelta(days=30)
    t_query = median(lambda: store.history(since="30d", now=NOW), args.reps)
    recent = store.history(since="30d", now=NOW)

    def by_parquet() -> pd.DataFrame:
        read = pd.read_parquet(parquet)
        return read[read["start_time"] >= since]

    t_parquet_r = median(by_parquet, args.reps)
    t_health = median(lambda: hg.fleet_health(recent, now=NOW), args.reps)
    tracemalloc.start()
    first()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    size = frame.memory_usage(deep=True).sum()
    rows = [
        ("first sync, store part", f"{t_first:.2f} s", f"naive INSERT loop {t_naive:.2f} s; "
         f"parquet write {t_parquet_w:.2f} s"),
        ("incremental sync (5 %), store part", f"{t_incr:.2f} s", ""),
        (f"30-day query ({len(recent):,} rows)", f"{t_query:.2f} s",
         f"parquet read + filter {t_parquet_r:.2f} s ({t_query / t_parquet_r:.1f}x)"),
        ("fleet_health on it", f"{t_health:.2f} s", ""),
        ("first sync, peak memory", f"{peak / size:.2f}x the frame", ""),
    ]  # fmt: skip
    print("| step | store | instead |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

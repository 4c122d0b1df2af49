"""Fleet analysis at fleet scale (issue #24): the package's analysis functions side by side,
in one process, with what a careful pandas user writes instead — the same columns by
vectorised ``groupby`` — on a synthetic history (one flow, 90 days, ~10 % failures, about
10 % distinct failure texts). Every pair is checked equal before it is timed.

(a) wall time, median of ``--reps``: fleet_health, failure_signatures, failures, summarize at
    30k / 450k / 2M rows, compare of two 5,000-tenant histories (450k rows each)
(b) peak memory of each call (tracemalloc) over the frame's own ``memory_usage(deep=True)``
(c) the job_history frame from 450k job objects vs ``pd.DataFrame.from_records`` on the same
    dicts, bare and typed to the same dtypes and order

Run: ``python benchmarks/analysis.py [--sizes 30k,450k,2M] [--reps 3]``. A shared 2-core
machine is noisy: compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _fleet_data import history, raw_jobs

import hotglue_nb as hg
from hotglue_nb._analysis._health import PROBLEMS
from hotglue_nb._analysis._triage import signature
from hotglue_nb._fleet._reads import Read
from hotglue_nb._fleet._tables import history_frame
from hotglue_nb._frames import HEALTH_COLUMNS, HISTORY_COLUMNS, RESULT_COLUMNS, WAIT_COLUMNS
from hotglue_nb._models import Job

SIZES = {"30k": (1_000, 30), "450k": (5_000, 90), "2M": (20_000, 100)}
NOW = pd.Timestamp("2026-12-01T00:00:00Z")
KEY = ["tenant", "flow_id"]


# --- what a careful pandas user writes ------------------------------------------------------


def health_by_hand(h: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """fleet_health's columns with groupby aggregations (window 30 days, default limits)."""
    h = h.sort_values([*KEY, "start_time"], kind="stable").reset_index(drop=True)
    by = [h[k] for k in KEY]
    known, good = h["succeeded"].notna(), h["succeeded"].fillna(False).astype(bool)
    bad = known & ~good
    recent = h["start_time"] >= now - pd.Timedelta(days=30)
    done, ok = recent & known, recent & good
    last = h.groupby(KEY).tail(1).set_index(KEY)
    out = last[["env_id", "status", "failed_stage", "start_time", "tap", "connector_id"]].rename(
        columns={"status": "last_status", "failed_stage": "last_stage", "start_time": "last_job_at"}
    )
    failed_last = last["succeeded"].eq(False).fillna(False) & last["error"].notna()
    out["last_message"] = last["message"].fillna(last["error"]).mask(failed_last, last["error"])
    out["last_success_at"] = h["start_time"][good].groupby([k[good] for k in by]).last()
    successes = good.groupby(by).cumsum()
    streak = bad & (successes == successes.groupby(by).transform("max"))
    out["failure_streak"] = streak.groupby(by).sum()
    out["failing_since"] = h["start_time"][streak].groupby([k[streak] for k in by]).first()
    out["jobs"] = recent.groupby(by).sum()
    out["success_rate"] = ok.groupby(by).sum() / done.groupby(by).sum().replace(0, np.nan)
    durations = h["duration_s"][done].groupby([k[done] for k in by])
    out["median_duration_s"] = durations.median()
    out["last_duration_s"] = durations.nth(-1).set_axis(durations.size().index)
    counts = pd.DataFrame(h["records"][ok].tolist(), index=h.index[ok]).sum(axis=1)
    totals = counts.groupby([k[ok] for k in by])
    out["last_records"], out["median_records"] = totals.last(), totals.median()
    out["records_ratio"] = out["last_records"] / out["median_records"].replace(0, np.nan)
    out["days_since_last_job"] = (now - out["last_job_at"]).dt.total_seconds() / 86400
    out["history_complete"] = h["history_complete"].groupby(by).all()
    out["problem"] = np.select(
        [
            out["failure_streak"] > 0,
            out["days_since_last_job"] >= 30,
            out["success_rate"] < 0.8,
            out["records_ratio"] < 0.5,
            out["last_duration_s"] > 2.0 * out["median_duration_s"],
        ],
        PROBLEMS[:-1],
        default=PROBLEMS[-1],
    )
    out = out.reset_index().astype({c: d for c, d in HEALTH_COLUMNS.items() if "datetime" not in c})
    rank = out["problem"].map({p: i for i, p in enumerate(PROBLEMS)})
    out = out.assign(_o=rank).sort_values(["_o", "tenant"]).drop(columns="_o")
    return out[list(HEALTH_COLUMNS)].reset_index(drop=True)


def signatures_by_hand(h: pd.DataFrame) -> pd.DataFrame:
    """failure_signatures' table: each distinct failure text masked once (with the package's
    own ``signature``: a user's regexes cost the same per text), grouped by hand."""
    failed = h[h["succeeded"].eq(False).fillna(False)]
    text = failed["error"].where(failed["error"].notna(), failed["message"])
    contains = [t in x for t, x in zip(failed["tenant"], text.fillna(""), strict=True)]
    pairs = pd.DataFrame({"text": text, "tenant": failed["tenant"].where(contains, "")})
    distinct = pairs.drop_duplicates()
    masked = [signature(t, n or None) for t, n in zip(distinct.text, distinct.tenant, strict=True)]
    lookup = pd.Series(masked, index=pd.MultiIndex.from_frame(distinct))
    table = pd.DataFrame({
        "stage": failed["failed_stage"].fillna(""), "tap": failed["tap"].fillna(""),
        "signature": lookup.reindex(pd.MultiIndex.from_frame(pairs)).to_numpy(),
        "tenant": failed["tenant"], "when": failed["start_time"],
    })  # fmt: skip
    out = table.groupby(["stage", "tap", "signature"], sort=False).agg(
        count=("tenant", "size"),
        tenants=("tenant", lambda s: ", ".join(s.unique())),
        first_seen=("when", "min"),
        last_seen=("when", "max"),
    )
    out = out.reset_index().sort_values("count", ascending=False, ignore_index=True)
    return out[["stage", "tap", "signature", "count", "tenants", "first_seen", "last_seen"]]


def failures_by_hand(r: pd.DataFrame) -> pd.DataFrame:
    """failures' table: failed rows by kind and masked message, five example tenants."""
    failed = r["succeeded"].eq(False).fillna(False)
    rows = r[failed]
    text = rows["error"].where(rows["error"].notna(), rows["message"])
    contains = [t in x for t, x in zip(rows["tenant"], text.fillna(""), strict=True)]
    pairs = pd.DataFrame({"text": text, "tenant": rows["tenant"].where(contains, "")})
    distinct = pairs.drop_duplicates()
    masked = [signature(t, n or None) for t, n in zip(distinct.text, distinct.tenant, strict=True)]
    lookup = pd.Series(masked, index=pd.MultiIndex.from_frame(distinct))
    table = pd.DataFrame({
        "kind": "failed", "message": lookup.reindex(pd.MultiIndex.from_frame(pairs)).to_numpy(),
        "tenant": rows["tenant"], "stage": rows["failed_stage"].fillna(""),
    })  # fmt: skip
    out = table.groupby(["kind", "message"], sort=False).agg(
        count=("tenant", "size"),
        tenants=("tenant", lambda s: ", ".join(s.head(5))),
        stage=("stage", "first"),
    )
    out = out.reset_index().astype({"kind": "string", "message": "string"})
    return out.sort_values(["count", "kind"], ascending=[False, True], ignore_index=True)


def summarize_by_hand(r: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """summarize's tables: value_counts, quantiles, a crosstab with the success rate."""

    def counts(s: pd.Series) -> pd.DataFrame:
        c = s.fillna("(none)").value_counts()
        return pd.DataFrame({"count": c, "share": (c / c.sum()).round(4)}).rename_axis(s.name)

    d = r["duration_s"].dropna().astype(float)
    q = d.quantile([0.5, 0.9, 0.99]).rename(lambda x: f"p{int(x * 100)}")
    durations = pd.concat([q, pd.Series({"max": d.max(), "jobs": len(d)})]).to_frame("duration_s")
    flows = pd.crosstab(r["flow_id"].fillna("(none)"), r["outcome"].fillna("(none)"))
    done = r[r["finished"].fillna(False).astype(bool)]
    rate = done.groupby(done["flow_id"].fillna("(none)"))["succeeded"].mean()
    flows["success_rate"] = rate.reindex(flows.index).round(4)
    return {"outcomes": counts(r["outcome"]), "statuses": counts(r["status"]),
            "durations": durations.T, "by_flow": flows}  # fmt: skip


def compare_by_hand(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """compare's table: each tenant's last finished job before and after, merged."""

    def state(f: pd.DataFrame) -> pd.DataFrame:
        done = f[f["succeeded"].notna()].sort_values("start_time", kind="stable")
        last = done.groupby(KEY).tail(1).set_index(KEY)
        records = pd.DataFrame(last["records"].tolist(), index=last.index).sum(axis=1)
        return pd.DataFrame({"ok": last["succeeded"], "records": records.astype("Float64"),
                             "duration_s": last["duration_s"]})  # fmt: skip

    j = state(before).join(state(after), how="outer", suffixes=("_before", "_after"))
    b, a = j["ok_before"].fillna(False), j["ok_after"].fillna(False)
    change = np.select(
        [b & a, b & ~a, ~b & a, ~b & ~a],
        ["still_ok", "newly_failing", "fixed", "still_failing"],
        default="unknown",
    )
    known = j["ok_before"].notna() & j["ok_after"].notna()
    j["change"] = pd.Series(change, index=j.index).where(known, "unknown")
    for name in ("records", "duration_s"):
        j[f"{name}_change"] = j[f"{name}_after"] - j[f"{name}_before"]
    return j.reset_index().astype({"change": "string"})


def frame_by_hand(dicts: list[dict[str, Any]]) -> pd.DataFrame:
    """The job_history frame from the API's dicts with from_records, typed and sorted."""
    df = pd.DataFrame.from_records(dicts)
    df["job_root"] = df.pop("s3_root")
    df["error"] = df["error"].str["message"]
    df["records"] = df.pop("metrics").str["recordCount"]
    for name in ("start_time", "last_updated"):
        df[name] = pd.to_datetime(df[name], utc=True, format="ISO8601").astype(
            "datetime64[ns, UTC]"
        )
    failed = df["status"].str.contains("FAILED")
    finished = failed | df["status"].str.contains("COMPLETE")
    df["succeeded"] = (~failed).where(finished)
    df["failed_stage"] = df["status"].str.rsplit("_FAILED", n=1).str[0].where(failed)
    seconds = (df["last_updated"] - df["start_time"]).dt.total_seconds().round(3)
    df["duration_s"] = seconds.where(finished)
    df["processed_rows"] = pd.DataFrame(df["records"].tolist()).sum(axis=1)
    df["history_complete"] = False
    for name in HISTORY_COLUMNS:
        if name not in df:
            df[name] = None
    df = df[list(HISTORY_COLUMNS)].astype(
        {c: d for c, d in HISTORY_COLUMNS.items() if "datetime" not in d}
    )
    return df.sort_values(["tenant", "start_time"], kind="stable", ignore_index=True)


# --- measuring ------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], reps: int) -> float:
    """Median wall time of ``reps`` calls (a collection first, so no call pays for another)."""
    times = []
    for _ in range(reps):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated during one call (tracemalloc sees numpy's and Python's)."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def as_results(h: pd.DataFrame) -> pd.DataFrame:
    """A wait's results frame over the same jobs (for failures and summarize)."""
    r = h.assign(outcome="created", launched_at=h["start_time"], finished=h["succeeded"].notna())
    columns = {**RESULT_COLUMNS, **WAIT_COLUMNS}
    return r[[c for c in columns if c in r]]


def same(ours: pd.DataFrame, theirs: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(
        ours.reset_index(drop=True), theirs.reset_index(drop=True), check_dtype=False, obj=what
    )


def check(h: pd.DataFrame, h2: pd.DataFrame, r: pd.DataFrame) -> None:
    """Each pair gives the same table (values, columns, order) before it is timed."""
    same(hg.fleet_health(h, now=NOW), health_by_hand(h, NOW), "fleet_health")
    same(hg.failure_signatures(h), signatures_by_hand(h), "failure_signatures")
    same(hg.failures(r), failures_by_hand(r), "failures")
    ours = hg.summarize(r)
    for name, table in summarize_by_hand(r).items():
        pd.testing.assert_frame_equal(getattr(ours, name), table, check_dtype=False, obj=name)
    theirs = compare_by_hand(h, h2)
    same(hg.compare(h, h2)[list(theirs.columns)], theirs, "compare")


def run_size(label: str, reps: int, rows: list[list[str]]) -> None:
    tenants, per = SIZES[label]
    h = history(tenants, per, seed=0)
    r = as_results(h)
    h2 = history(tenants, per, seed=1) if label == "450k" else h
    check(h, h2, r)
    pairs: list[tuple[str, Callable[[], Any], Callable[[], Any], pd.DataFrame]] = [
        ("fleet_health", lambda: hg.fleet_health(h, now=NOW), lambda: health_by_hand(h, NOW), h),
        ("failure_signatures", lambda: hg.failure_signatures(h), lambda: signatures_by_hand(h), h),
        ("failures", lambda: hg.failures(r), lambda: failures_by_hand(r), r),
        ("summarize", lambda: hg.summarize(r), lambda: summarize_by_hand(r), r),
    ]
    if label == "450k":
        pairs.append(("compare", lambda: hg.compare(h, h2), lambda: compare_by_hand(h, h2), h))
    for name, ours, theirs, frame in pairs:
        t_ours, t_theirs = timed(ours, reps), timed(theirs, reps)
        size = frame.memory_usage(deep=True).sum() * (2 if name == "compare" else 1)
        rows.append([name, f"{len(h):,}", f"{t_ours:.3f}", f"{t_theirs:.3f}",
                     f"{t_ours / t_theirs:.2f}x", f"{peak(ours) / size:.2f}x"])  # fmt: skip
        print(" | ".join(rows[-1]), flush=True)


def run_frames(reps: int) -> list[str]:
    """(c): the job_history frame from 450k job objects."""
    tenants, per = SIZES["450k"]
    raw = raw_jobs(history(tenants, per, seed=0))
    dicts = [{"tenant": tenant, **job} for tenant, jobs in raw.items() for job in jobs]
    reads = [Read(i, t, "f", data=[Job.from_api(j) for j in jobs])
             for i, (t, jobs) in enumerate(raw.items())]  # fmt: skip
    ours = timed(lambda: history_frame(reads, "env", None, None), reps)
    bare = timed(lambda: pd.DataFrame.from_records(dicts), reps)
    typed = timed(lambda: frame_by_hand(dicts), reps)
    built, by_hand = history_frame(reads, "env", None, None), frame_by_hand(dicts)
    assert list(built.dtypes.astype(str)) == list(by_hand.dtypes.astype(str))
    line = (f"job_history frame, {len(dicts):,} jobs: {ours:.3f} s; from_records {bare:.3f} s "
            f"({ours / bare:.2f}x); from_records typed and sorted {typed:.3f} s "
            f"({ours / typed:.2f}x)")  # fmt: skip
    print(line, flush=True)
    return [line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30k,450k,2M")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    versions = f"pandas {pd.__version__}, numpy {np.__version__}, hotglue_nb {hg.__version__}"
    print(f"Python {platform.python_version()}, {versions}, {os.cpu_count()} cores; "
          f"median of {args.reps}\n")  # fmt: skip
    header = ["function", "rows", "ours (s)", "by hand (s)", "ours / by hand", "peak / frame"]
    print(" | ".join(header))
    rows: list[list[str]] = []
    for label in args.sizes.split(","):
        run_size(label, args.reps, rows)
    notes = run_frames(args.reps) if "450k" in args.sizes.split(",") else []
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()

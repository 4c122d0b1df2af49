"""The column-wise analysis gives exactly what the row-by-row one did (tests/reference holds
it as it was): same columns, dtypes, order and values, NA where it had NA — on random
frames built to hit the edges (ties, missing times, unknown outcomes, absent columns, zero
medians, shuffled rows, odd indexes)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb._analysis._health import PROBLEMS
from hotglue_nb._analysis._triage import signature
from hotglue_nb._fleet._reads import Read
from hotglue_nb._fleet._tables import history_frame
from hotglue_nb._frames import HISTORY_COLUMNS, RESULT_COLUMNS, WAIT_COLUMNS, apply_dtypes
from hotglue_nb._models import Job

from .reference import _compare, _health, _report, _tables, _triage

SEEDS = range(150)
NOW = pd.Timestamp("2026-11-20T12:00:00Z")
TENANTS = ["0022727969", "acme", "t-3", "beta.co", "42"]
TEXTS = [
    "Job failed", "Job completed", "Token for {t} expired at 2026-11-01T10:00:00Z",
    "HTTPSConnectionPool(host='api.{t}.example.com', port=443): Read timed out. (read timeout=60)",
    "Rate limit exceeded: retry after 30 seconds (request 1f3a9c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b)",
    "Stream 'contacts' failed: column \"amount_{n}\" does not exist", "", "  spaced   out  ",
]  # fmt: skip


def _pick(rng: np.random.Generator, values: list[Any], n: int, none: float = 0.0) -> list[Any]:
    out = [values[i] for i in rng.integers(0, len(values), n)]
    return [None if rng.random() < none else v for v in out]


def _texts(rng: np.random.Generator, tenants: list[Any], none: float) -> list[Any]:
    raw = _pick(rng, TEXTS, len(tenants), none)
    return [
        None if t is None else t.format(t=tenant, n=int(rng.integers(0, 9)))
        for t, tenant in zip(raw, tenants, strict=True)
    ]


def _times(rng: np.random.Generator, n: int, none: float) -> pd.Series:
    """Few distinct times (ties), some missing, some after NOW."""
    choices = [NOW - pd.Timedelta(hours=int(h)) for h in rng.integers(-30, 24 * 60, 12)]
    return pd.Series(_pick(rng, choices, n, none), dtype="datetime64[ns, UTC]")


def random_history(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60)) if seed % 10 else int(rng.integers(0, 3))
    tenant = _pick(rng, TENANTS, n, 0.03)
    succeeded = _pick(rng, [True, True, True, False], n, 0.15)
    stage = [None if s is not False else _pick(rng, ["SYNC", "ETL", "EXPORT"], 1)[0]
             for s in succeeded]  # fmt: skip
    records = _pick(rng, [{"a": 5, "b": 7}, {"a": 0}, {}, None, {"a": 120}, {"a": 3}], n, 0.1)
    data: dict[str, Any] = {
        "tenant": tenant, "flow_id": _pick(rng, ["f1", "f2"], n),
        "env_id": _pick(rng, ["env.a", "env.b"], n, 0.1),
        "status": [("JOB_COMPLETED" if s else f"{g}_FAILED") if s is not None else "SYNC_STARTED"
                   for s, g in zip(succeeded, stage, strict=True)],
        "succeeded": succeeded, "failed_stage": stage, "start_time": _times(rng, n, 0.1),
        "last_updated": _times(rng, n, 0.2),
        "duration_s": [None if rng.random() < 0.2 else round(float(rng.gamma(2, 30)), 3)
                       for _ in range(n)],
        "records": records, "message": _texts(rng, tenant, 0.2), "error": _texts(rng, tenant, 0.4),
        "tap": _pick(rng, ["salesforce", "hubspot"], n, 0.1),
        "connector_id": _pick(rng, ["c1", "c2"], n, 0.5),
        "history_complete": _pick(rng, [True, True, False], n, 0.2),
    }  # fmt: skip
    for optional in (
        "env_id",
        "last_updated",
        "records",
        "tap",
        "connector_id",
        "history_complete",
        "error",
        "failed_stage",
        "message",
    ):
        if rng.random() < 0.2:
            del data[optional]  # fmt: skip
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if rng.random() < 0.8:
        frame = apply_dtypes(frame, {k: v for k, v in HISTORY_COLUMNS.items() if k in frame})
    else:  # a hand-built frame: object columns
        frame["succeeded"] = frame["succeeded"].astype(object)
    frame = frame.sample(frac=1.0, random_state=seed)
    if rng.random() < 0.5:
        frame.index = pd.Index([f"r{i}" for i in rng.permutation(n)])
    return frame


def random_results(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 10_000)
    n = int(rng.integers(0, 50))
    tenant = _pick(rng, TENANTS, n)
    outcome = _pick(rng, ["created", "queued", "rejected", "unknown", "skipped"], n)
    finished = [o in ("created", "queued") and rng.random() < 0.8 for o in outcome]
    succeeded = [bool(rng.random() < 0.7) if f else None for f in finished]
    bodies = [json.dumps({"job_name": f"nightly~{i}", "override_start_date": "2026-01-01",
                          "unknown_field": 1}) for i in range(n)]  # fmt: skip
    data: dict[str, Any] = {
        "tenant": tenant, "flow_id": _pick(rng, ["f1", "f2", None], n),
        "env_id": _pick(rng, ["env.a"], n), "outcome": outcome,
        "message": _texts(rng, tenant, 0.3), "error": _texts(rng, tenant, 0.5),
        "request": [None if rng.random() < 0.1 else b for b in bodies],
        "launched_at": _times(rng, n, 0.05), "status": _pick(rng, ["JOB_COMPLETED",
                                                                   "SYNC_FAILED", None], n),
        "finished": finished, "succeeded": succeeded,
        "failed_stage": [None if s is not False else "SYNC" for s in succeeded],
        "duration_s": [round(float(rng.gamma(2, 30)), 3) if f else None for f in finished],
        "processed_rows": [int(rng.integers(0, 99)) if f else None for f in finished],
    }  # fmt: skip
    if rng.random() < 0.3:
        for waited in (
            "finished",
            "succeeded",
            "failed_stage",
            "duration_s",
            "processed_rows",
            "status",
        ):
            del data[waited]  # fmt: skip
    frame = pd.DataFrame(data)
    typed = {**RESULT_COLUMNS, **WAIT_COLUMNS}
    return apply_dtypes(frame, {k: v for k, v in typed.items() if k in frame})


def _limits(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 20_000)
    window = [None, "7d", "30d", "2d", NOW - pd.Timedelta(days=3)][int(rng.integers(0, 5))]
    return {
        "now": NOW, "window": window, "dormant_days": int(rng.integers(1, 40)),
        "flaky_rate": float(rng.choice([0.5, 0.8, 0.95])),
        "drop_ratio": float(rng.choice([0.5, 0.9, 1.0])),
        "slow_factor": float(rng.choice([1.0, 1.5, 2.0])),
    }  # fmt: skip


def _same(ours: pd.DataFrame, reference: pd.DataFrame, seed: int) -> None:
    try:
        pd.testing.assert_frame_equal(ours, reference, check_exact=True)
    except AssertionError as exc:
        raise AssertionError(f"seed {seed}: {exc}") from None


def test_the_generator_reaches_the_edges() -> None:
    """The random frames do hit what the tests are for (else equality proves little)."""
    frames = [random_history(s) for s in SEEDS]
    assert sum(f.empty for f in frames) >= 3
    assert any("history_complete" not in f for f in frames)
    assert any("connector_id" in f and f["connector_id"].notna().any() for f in frames)
    assert any(f["start_time"].isna().any() for f in frames if len(f))
    health = pd.concat([hg.fleet_health(f, **_limits(s)) for s, f in enumerate(frames)])
    assert set(health["problem"]) == set(PROBLEMS)
    assert health["records_ratio"].isna().any() and health["failing_since"].notna().any()


@pytest.mark.parametrize("chunk", range(3))
def test_fleet_health_is_what_it_was(chunk: int) -> None:
    for seed in SEEDS[chunk::3]:
        frame, limits = random_history(seed), _limits(seed)
        _same(hg.fleet_health(frame, **limits), _health.fleet_health(frame, **limits), seed)


def test_failure_signatures_are_what_they_were() -> None:
    for seed in SEEDS:
        for frame in (random_history(seed), random_results(seed)):
            _same(hg.failure_signatures(frame), _triage.failure_signatures(frame), seed)


def test_failures_are_what_they_were() -> None:
    for seed in SEEDS:
        frame = random_results(seed)
        for skipped in (False, True):
            ours = hg.failures(frame, include_skipped=skipped)
            _same(ours, _triage.failures(frame, include_skipped=skipped), seed)


def test_signature_of_one_text_is_what_it_was() -> None:
    for seed in SEEDS[:40]:
        frame = random_history(seed)
        for text, tenant in zip(frame.get("message", []), frame["tenant"], strict=False):
            assert signature(text, tenant) == _triage.signature(text, tenant)
    for odd in (None, float("nan"), pd.NA, 12, "", "   "):
        assert signature(odd, "t") == _triage.signature(odd, "t")


def test_compare_is_what_it_was() -> None:
    for seed in SEEDS[:60]:
        kinds = [random_history(seed), random_results(seed), random_history(seed + 1)]
        for before, after in ((kinds[0], kinds[1]), (kinds[1], kinds[2]), (kinds[2], kinds[0])):
            for how in ("after", "outer"):
                ours = hg.compare(before, after, how=how)
                reference = _compare.compare(before, after, how=how)
                _same(ours, reference, seed)
                assert ours.attrs["summary"] == reference.attrs["summary"]


def test_summarize_is_what_it_was() -> None:
    for seed in SEEDS:
        frame = random_results(seed)
        if frame.empty:
            continue
        ours, reference = hg.summarize(frame), _report.summarize(frame)
        for name in ("outcomes", "statuses", "durations", "by_flow"):
            _same(getattr(ours, name), getattr(reference, name), seed)


def _reads(seed: int) -> list[Read]:
    frame = random_history(seed)
    reads = []
    for row, (tenant, jobs) in enumerate(frame.groupby("tenant", sort=False)):
        payload = []
        for job in jobs.to_dict("records"):
            raw = {"job_id": f"j{len(payload)}", "tenant": tenant, "flow_id": job["flow_id"],
                   "status": job["status"], "message": job.get("message"),
                   "start_time": None if pd.isna(job["start_time"])
                   else job["start_time"].isoformat(), "tap": job.get("tap"),
                   "s3_root": f"root/{tenant}/{len(payload)}", "scheduled_job": True,
                   "metrics": {"recordCount": job.get("records") or {}}}  # fmt: skip
            if isinstance(job.get("error"), str):
                raw["error"] = {"message": job["error"]}
            payload.append(Job.from_api(raw))
        reads.append(Read(row, str(tenant), "f1", data=payload))
    reads.append(Read(len(reads), "gone", "f1", error="404", status=404))
    return reads


def test_the_history_frame_is_what_it_was() -> None:
    for seed in SEEDS[:60]:
        reads = _reads(seed)
        since = [None, NOW - pd.Timedelta(days=20)][seed % 2]
        ours = history_frame(reads, "env.a", since, None, count=None)
        reference = _tables.history_frame(reads, "env.a", since, None, count=None)
        _same(ours, reference, seed)
        assert ours.attrs == reference.attrs


TIMES = [
    "2026-11-20T04:30:25+00:00", "2026-11-20T04:30:25.5Z", "2026-11-20T04:31:25.123456+00:00",
    "2026-11-20T10:00:00.0005+05:30", "2026-11-20T04:30:25", "2026-11-20T04:30:25.0015Z",
    "2026-1-20T04:30:25Z", " 2026-11-20T04:30:25Z", "2026-11-20T04:30:25,5Z", "2026-W47-5",
    "2026-11-20T04:30:25.1234567Z", "2026-11", "2026-11-20T04:30:25+05:30:15", "not a time",
    "", None, "2026-11-19T23:59:59.9995-00:00", "2026-11-21T04:30:25.000500+00:00",
]  # fmt: skip
STATUSES = ["JOB_COMPLETED", "SYNC_FAILED", "ETL_FAILED", "SYNC_STARTED", "QUEUED", None, "",
            "EXPORT_FAILED_PARTIALLY", "job_completed"]  # fmt: skip
COUNTS = [{"a": 3, "b": 4}, {"a": True}, {"a": 2.5, "b": 1}, {}, None, {"a": "7"},
          {"a": 2**40, "b": -1}, {"a": 0}, [1, 2], {"x": None, "y": 5}]  # fmt: skip


def _odd_reads(seed: int) -> list[Read]:
    """Jobs as odd as an API (or a user building ``Job`` objects) can make them."""
    rng = np.random.default_rng(seed + 30_000)
    reads = []
    for row in range(int(rng.integers(1, 8))):
        tenant = str(_pick(rng, TENANTS, 1)[0])
        jobs = []
        for n in range(int(rng.integers(0, 12))):
            raw: dict[str, Any] = {
                "job_id": f"j{n}", "tenant": tenant, "status": _pick(rng, STATUSES, 1)[0],
                "start_time": _pick(rng, TIMES, 1)[0], "last_updated": _pick(rng, TIMES, 1)[0],
                "s3_root": f"root/{tenant}/{n}", "sync_type": _pick(rng, ["full", None], 1)[0],
                "processed_rows": _pick(rng, [None, None, 12, "9"], 1)[0],
            }  # fmt: skip
            counts = COUNTS[int(rng.integers(0, len(COUNTS)))]
            if rng.random() < 0.8:
                raw["metrics"] = {"recordCount": counts} if rng.random() < 0.9 else counts
            jobs.append(Job.from_api(raw))
        reads.append(Read(row, tenant, "f1", data=jobs))
    return reads


def test_the_history_frame_of_odd_jobs_is_what_it_was() -> None:
    for seed in SEEDS:
        reads = list({read.tenant: read for read in _odd_reads(seed)}.values())  # read once
        since = [None, NOW - pd.Timedelta(days=20), pd.Timestamp("2026-11-20T04:31Z")][seed % 3]
        until = [None, pd.Timestamp("2026-11-20T05:00Z")][seed % 2]
        ours = history_frame(reads, "env.a", since, until, count=None)
        reference = _tables.history_frame(reads, "env.a", since, until, count=None)
        _same(ours, reference, seed)


def test_durations_are_pythons_to_the_last_bit() -> None:
    from hotglue_nb._values import duration_s, durations_s

    rng = np.random.default_rng(7)
    base = pd.Timestamp("2026-01-01T00:00:00Z")
    starts: list[str | None] = []
    ends: list[str | None] = []
    for n in range(60_000):
        began = base + pd.Timedelta(microseconds=int(rng.integers(0, 10**12)))
        spans = [int(rng.integers(0, 10**9)), int(rng.integers(0, 1000)) * 1000 + 500,
                 -int(rng.integers(0, 10**7)), int(rng.integers(0, 10**4))]  # fmt: skip
        ended = began + pd.Timedelta(microseconds=spans[n % 4])
        shape = n % 5
        starts.append(began.isoformat() if shape < 2 else began.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                      if shape == 2 else began.tz_convert("Asia/Kolkata").isoformat()
                      if shape == 3 else began.strftime("%Y-%m-%dT%H:%M:%S"))  # fmt: skip
        ends.append(ended.isoformat())
    starts[::997] = [TIMES[i % len(TIMES)] for i in range(len(starts[::997]))]
    finished = rng.random(len(starts)) < 0.9
    ours = durations_s(starts, ends, finished)
    python = [
        duration_s(s, e) if f else None for s, e, f in zip(starts, ends, finished, strict=True)
    ]
    expected = np.array([np.nan if v is None else v for v in python])
    assert np.array_equal(ours, expected, equal_nan=True)
    assert (np.isnan(expected) & finished).sum() > 10  # odd texts among the finished ones

"""A synthetic fleet history for the analysis benchmarks: one flow, 90 days, ~10 % failures,
failure texts as real jobs carry them (a generic message, the cause in ``error``) with about
10 % distinct texts among the failed rows.

``history(tenants, per_tenant)`` builds the frame column-wise with numpy (2M rows in seconds);
``raw_jobs(tenants, per_tenant)`` gives the API's job dicts for the frame-builder benchmark.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hotglue_nb._frames import HISTORY_COLUMNS, apply_dtypes

FLOW, ENV = "2yW4Acq9G", "prod.hotglue.example"
START = pd.Timestamp("2026-09-01T00:00:00Z")
CAUSES = [
    "Salesforce: INVALID_SESSION_ID for user {email}: session expired or invalid",
    "HTTPSConnectionPool(host='api.{tenant}.example.com', port=443): Read timed out. "
    "(read timeout={n})",
    "Rate limit exceeded: retry after {n} seconds (request {uuid})",
    "Stream 'contacts' failed: column \"amount_{n}\" does not exist",
    "Token refresh failed for connection {hex}: 401 Unauthorized",
    "Job {job} exceeded the memory limit of {n} MB",
    "ECONNRESET while reading https://{tenant}.myshopify.com/admin/api/2024-01/orders.json",
    "QuickBooks returned 500 Internal Server Error at {time}",
]
STAGES = np.array(["SYNC", "ETL", "EXPORT"], dtype=object)
TAPS = np.array(["salesforce", "hubspot", "shopify", "quickbooks"], dtype=object)


def _texts(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct failure texts: each cause with varying ids, numbers and times."""
    out = []
    for i in range(count):
        cause = CAUSES[i % len(CAUSES)]
        out.append(cause.format(
            email=f"ops{i}@acme{i % 97}.example", tenant=f"t{i:06d}", n=int(rng.integers(1, 999)),
            uuid=f"{rng.integers(16**8):08x}-3b4d-4e5f-8a9b-{rng.integers(16**12):012x}",
            hex=f"{rng.integers(16**10):010x}", job=f"j{rng.integers(10**6):06d}",
            time=(START + pd.Timedelta(seconds=int(rng.integers(10**7)))).isoformat(),
        ))  # fmt: skip
    return out


def history(tenants: int, per_tenant: int, seed: int = 0) -> pd.DataFrame:
    """A ``job_history``-shaped frame of ``tenants x per_tenant`` rows, typed like one."""
    rng = np.random.default_rng(seed)
    n = tenants * per_tenant
    tenant = np.repeat(np.array([f"{i:010d}" for i in range(tenants)], dtype=object), per_tenant)
    step = 90 * 86400 // per_tenant
    offset = np.tile(np.arange(per_tenant) * step, tenants) + rng.integers(0, step // 2, n)
    start = START + pd.to_timedelta(offset, unit="s")
    finished = rng.random(n) > 0.002
    failed = (rng.random(n) < 0.10) & finished
    duration = np.round(rng.gamma(4.0, 60.0, n), 3)
    texts = np.array(_texts(rng, max(1, int(failed.sum() * 0.10))), dtype=object)
    error = np.where(failed, texts[rng.integers(0, len(texts), n)], None)
    stages = STAGES[rng.integers(0, 3, n)]
    stage = np.where(failed, stages, None)
    status = np.where(~finished, "SYNC_STARTED",
                      np.where(failed, stages + "_FAILED", "JOB_COMPLETED"))  # fmt: skip
    counts = rng.integers(0, 5000, (n, 2))
    records = [{"contacts": int(a), "deals": int(b)} for a, b in counts.tolist()]
    frame = pd.DataFrame({
        "tenant": tenant, "flow_id": FLOW, "env_id": ENV,
        "job_id": [f"job{i}" for i in range(n)], "job_name": "hotglue-nb",
        "job_root": [f"{ENV}/{FLOW}/jobs/{i}" for i in range(n)], "status": status,
        "succeeded": pd.array(np.where(finished, ~failed, False), dtype="boolean"),
        "failed_stage": stage, "start_time": start,
        "last_updated": start + pd.to_timedelta(duration, unit="s"),
        "duration_s": pd.array(duration, dtype="Float64"), "processed_rows": counts.sum(1),
        "records": records,
        "message": np.where(failed, "Job failed", "Job completed"), "error": error,
        "scheduled_job": rng.random(n) < 0.9, "sync_type": "incremental_sync",
        "tap": np.repeat(TAPS[rng.integers(0, len(TAPS), tenants)], per_tenant),
        "connector_id": None, "job_type": None,
        "history_complete": True,
    })  # fmt: skip
    frame.loc[~finished, ["succeeded", "duration_s"]] = pd.NA
    return apply_dtypes(frame, HISTORY_COLUMNS)[list(HISTORY_COLUMNS)]


def raw_jobs(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The API's job dicts behind ``frame``, per tenant (newest first, as hotglue lists)."""
    out: dict[str, list[dict[str, Any]]] = {}
    cols = frame[["tenant", "job_id", "job_root", "status", "start_time", "last_updated",
                  "message", "error", "tap", "records", "scheduled_job"]]  # fmt: skip
    for row in cols.itertuples(index=False):
        job = {
            "job_id": row.job_id, "env_id": ENV, "flow_id": FLOW, "job_name": "hotglue-nb",
            "tenant": row.tenant, "s3_root": row.job_root, "status": row.status,
            "start_time": row.start_time.isoformat(), "tap": row.tap,
            "last_updated": row.last_updated.isoformat(), "message": row.message,
            "scheduled_job": bool(row.scheduled_job), "sync_type": "incremental_sync",
            "metrics": {"recordCount": row.records},
        }  # fmt: skip
        if isinstance(row.error, str):
            job["error"] = {"message": row.error}
        out.setdefault(row.tenant, []).insert(0, job)
    return out

"""Throughput under per-tenant 429s (issue #12, item 18), sandbox in its own process.

600 rows; one tenant in twenty answers its first two POSTs with 429 and Retry-After: 0.2.
Target: the run finishes within 2x the same run without faults, plus the Retry-After
pauses one worker must honour (2 x 0.2 s). Runs alternate, so machine noise hits both.

Run: ``python benchmarks/throttle.py [--reps 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import Remote, remote_sandbox

import hotglue_nb as hg

ROWS = 600
RETRIES: list[int] = []


def run(remote: Remote, tenants: list[str]) -> float:
    start = time.perf_counter()
    out = hg.launch_jobs(
        tenants, flow_id=remote.flow_id, concurrency=8, progress=False,
        ignore_parallel_jobs=True, **remote.credentials,
    )  # fmt: skip
    took = time.perf_counter() - start
    assert (out.outcome == "created").all(), out.outcome.value_counts()
    RETRIES.append(int(out.attempts.sum()) - len(out))
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with remote_sandbox(tenants=ROWS) as plain:
        tenants = plain.tenants[:ROWS]
        throttled = tenants[::20]
        spec = {"*": {}, **{t: {"throttle_first": 2, "retry_after": 0.2} for t in throttled}}
        with remote_sandbox(tenants=ROWS, faults=json.dumps(spec)) as faulty:
            run(plain, tenants[:50])  # warm up both (with tenants that are not throttled)
            run(faulty, tenants[1:20])
            RETRIES.clear()
            clean, faults = [], []
            for _ in range(args.reps):
                clean.append(run(plain, tenants))
                faults.append(run(faulty, tenants))
    base, hit = statistics.median(clean), statistics.median(faults)
    budget = 2 * base + 2 * 0.2
    print(f"{ROWS} rows, concurrency 8, {len(throttled)} tenants throttled twice (0.2 s)")
    print(f"    no faults:      {base:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in clean)})")
    print(f"    per-tenant 429: {hit:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in faults)})")
    print(f"    POSTs re-sent per run: {sorted(set(RETRIES))} (60 expected with faults)")
    print(f"    ratio {hit / base:.2f}x; target <= 2x + 0.4 s = {budget:.2f} s: "
          f"{'met' if hit <= budget else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()

"""launch_jobs against the simplest alternatives, side by side, on the sandbox (own process).

(a) client CPU per launched job vs a minimal asyncio + httpx + Semaphore loop (target <= 1.1x)
(b) wall time, 2,000 tenants, 250 ms server latency, concurrency 50, vs the ideal N/C x L
    (target <= 1.1x) and vs the sequential loop a notebook user would write
(c) peak memory per row (max RSS over the interpreter after imports) for 100,000 rows, dry
    run (target <= 1 KB/row) and real

Run: ``python benchmarks/launch.py [--quick]``. Numbers vary on a shared 2-core machine; each
(a) figure is the median of several alternating runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import Remote, remote_sandbox

import hotglue_nb as hg

BODY = {"ignore_parallel_jobs": True, "job_name": "bench"}


async def baseline(remote: Remote, tenants: list[str], concurrency: int) -> list[int]:
    """What a careful user writes by hand: one client, a semaphore, gather."""
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"x-api-key": remote.api_key}
    async with httpx.AsyncClient(base_url=remote.base_url, headers=headers, limits=limits) as c:

        async def one(tenant: str) -> int:
            async with sem:
                env, t = quote(remote.env_id, safe=""), quote(tenant, safe="")
                path = f"/{env}/{remote.flow_id}/{t}/jobs"
                r = await c.post(path, json=BODY)
                r.json()
                return r.status_code

        return await asyncio.gather(*(one(t) for t in tenants))


def sequential(remote: Remote, tenants: list[str]) -> None:
    """The loop a notebook user writes first."""
    with httpx.Client(base_url=remote.base_url, headers={"x-api-key": remote.api_key}) as c:
        for tenant in tenants:
            c.post(f"/{remote.env_id}/{remote.flow_id}/{quote(tenant, safe='')}/jobs", json=BODY)


def ours(remote: Remote, tenants: list[str], concurrency: int, **kw: object) -> pd.DataFrame:
    frame = pd.DataFrame({"tenant": tenants})
    return hg.launch_jobs(
        frame, flow_id=remote.flow_id, concurrency=concurrency, progress=False,
        ignore_parallel_jobs=True, job_name="bench", **remote.credentials, **kw,
    )  # fmt: skip


def cpu(fn: object) -> tuple[float, float]:
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    fn()  # type: ignore[operator]
    return time.process_time() - start_cpu, time.perf_counter() - start_wall


def bench_cpu(rows: int, reps: int) -> None:
    with remote_sandbox(tenants=rows) as remote:
        tenants = remote.tenants[:rows]
        ours(remote, tenants[:50], 16)  # warm up imports and connections
        asyncio.run(baseline(remote, tenants[:50], 16))
        mine, base = [], []
        for _ in range(reps):
            base.append(cpu(lambda: asyncio.run(baseline(remote, tenants, 16)))[0] / rows)
            mine.append(cpu(lambda: ours(remote, tenants, 16))[0] / rows)
    b, m = statistics.median(base), statistics.median(mine)
    print(f"(a) client CPU per job, {rows} jobs x {reps} runs, concurrency 16")
    print(f"    hand-written asyncio+httpx+Semaphore: {b * 1e6:8.0f} us/job")
    print(f"    hg.launch_jobs:                       {m * 1e6:8.0f} us/job   ratio {m / b:.2f}x"
          "  (target <= 1.1x)")  # fmt: skip


def bench_wall(rows: int, latency: float, concurrency: int, sample: int, reps: int = 2) -> None:
    with remote_sandbox(tenants=rows, faults=f"latency={latency}") as remote:
        tenants = remote.tenants[:rows]
        ours(remote, tenants[:concurrency], concurrency)  # warm up both sides first
        asyncio.run(baseline(remote, tenants[:concurrency], concurrency))
        walls, base_walls = [], []
        for _ in range(reps):  # alternate, so drift in the shared machine hits both
            walls.append(cpu(lambda: ours(remote, tenants, concurrency))[1])
            base_walls.append(cpu(lambda: asyncio.run(baseline(remote, tenants, concurrency)))[1])
        wall, base_wall = statistics.median(walls), statistics.median(base_walls)
        _, seq = cpu(lambda: sequential(remote, tenants[:sample]))
    ideal = rows / concurrency * latency
    seq_total = seq / sample * rows
    print(
        f"(b) wall time, {rows} tenants, {latency * 1000:.0f} ms latency, concurrency {concurrency}"
    )
    print(f"    ideal N/C x L:                        {ideal:8.2f} s")
    print(f"    hg.launch_jobs:                       {wall:8.2f} s   {wall / ideal:.2f}x ideal"
          "  (target <= 1.1x)")  # fmt: skip
    print(
        f"    hand-written asyncio loop:            {base_wall:8.2f} s   "
        f"{base_wall / ideal:.2f}x ideal"
    )
    print(
        f"    sequential loop (from {sample} rows):      {seq_total:8.1f} s   "
        f"{seq_total / wall:.0f}x slower than hg.launch_jobs"
    )


MEMORY_CHILD = """
import sys, pandas as pd, hotglue_nb as hg
def hwm():  # VmHWM: this process's peak RSS in KiB (ru_maxrss would count the parent's)
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
mode, rows, base_url, key, env, flow = sys.argv[1:7]
rows = int(rows)
hg.launch_jobs(["warm-up"], flow_id=flow, env_id=env, dry_run=True, progress=False)
base = hwm()  # after the modules a launch loads on first use: those are not per row
tenants = pd.DataFrame({"tenant": [f"t{i}" for i in range(rows)]})
if mode == "real":
    import json
    world_tenants = json.loads(sys.argv[7])
    tenants["tenant"] = [world_tenants[i % len(world_tenants)] for i in range(rows)]
before = hwm()
out = hg.launch_jobs(tenants, flow_id=flow, api_key=key, env_id=env, base_url=base_url,
                     dry_run=(mode == "dry"), concurrency=32, progress=False,
                     ignore_parallel_jobs=True)
after = hwm()
print(base, before, after, (out.outcome == ("skipped" if mode == "dry" else "created")).sum())
"""


def bench_memory(rows: int) -> None:
    print(f"(c) peak memory for {rows:,} rows (max RSS over the interpreter after imports;"
          " the tenants frame itself is counted in the first figure)")  # fmt: skip
    with remote_sandbox(tenants=240) as remote:
        for mode in ("dry", "real"):
            args = [mode, str(rows), remote.base_url, remote.api_key, remote.env_id,
                    remote.flow_id, json.dumps(remote.tenants)]  # fmt: skip
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, *args], capture_output=True,
                                 text=True, check=True)  # fmt: skip
            base, before, after, ok = map(int, out.stdout.split())
            took = time.perf_counter() - start
            print(f"    {mode:5}: +{(after - base) * 1024 / rows:5.0f} B/row over imports"
                  f" (+{(after - before) * 1024 / rows:5.0f} over imports and the frame),"
                  f" peak RSS {after / 1024:6.1f} MiB, {ok:,} rows in {took:5.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--memory", action="store_true", help="only (c), at 100,000 rows")
    args = parser.parse_args()
    if args.memory:
        bench_memory(100_000)
        return
    if args.quick:
        bench_cpu(300, 3)
        bench_wall(200, 0.25, 50, 8)
        bench_memory(5_000)
        return
    bench_cpu(2000, 5)
    bench_wall(2000, 0.25, 50, 40)
    bench_memory(100_000)


if __name__ == "__main__":
    main()

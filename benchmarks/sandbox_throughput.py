"""POST /jobs per second the sandbox serves to 16 concurrent keep-alive clients on loopback.

The server runs in its own process (as in the launch benchmarks); the load comes from a
minimal raw HTTP/1.1 client on asyncio streams, so the number measures the sandbox, not an
HTTP client library. Run: ``python benchmarks/sandbox_throughput.py [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from urllib.parse import quote

CLIENTS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "hotglue_nb.sandbox", "--port", str(port), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()  # "hotglue sandbox on ..." once it listens
    return proc


async def client(port: int, paths: list[str], key: str, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"ignore_parallel_jobs": True, "job_name": "bench"}).encode()
    i = 0
    while time.perf_counter() < deadline:
        path = paths[i % len(paths)]
        i += 1
        writer.write(
            f"POST {path} HTTP/1.1\r\nhost: x\r\nx-api-key: {key}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    writer.close()


async def load(port: int, seconds: float, env: str, flow: str, tenants: list[str]) -> list[int]:
    paths = [f"/{quote(env, safe='')}/{flow}/{quote(t, safe='')}/jobs" for t in tenants]
    counts = [0, 0]
    deadline = time.perf_counter() + seconds
    key = "sandbox-key-0"
    await asyncio.gather(
        *(client(port, paths[i::CLIENTS], key, deadline, counts) for i in range(CLIENTS))
    )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    from hotglue_nb.sandbox import demo_world

    world = demo_world(0)
    port = free_port()
    proc = start_server(port, [])
    try:
        counts = asyncio.run(
            load(port, args.seconds, world.env_id, world.flow_ids[0], list(world.tenants))
        )
    finally:
        proc.terminate()
        proc.wait()
    ok, other = counts
    print(f"cores: {os.cpu_count()}, clients: {CLIENTS}, seconds: {args.seconds:g}")
    print(f"POST /jobs answered 200: {ok}, other: {other}")
    print(f"throughput: {ok / args.seconds:,.0f} jobs/s (target >= 1,000)")


if __name__ == "__main__":
    main()

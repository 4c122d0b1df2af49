"""Shared helpers: a sandbox in its own process, so its CPU is not counted as the client's."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Remote:
    base_url: str
    api_key: str
    env_id: str
    flow_id: str
    tenants: list[str]

    @property
    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "env_id": self.env_id, "base_url": self.base_url}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def remote_sandbox(
    tenants: int = 240, faults: str = "", extra: list[str] | None = None
) -> Iterator[Remote]:
    from hotglue_nb.sandbox import demo_world

    world = demo_world(0, tenants=tenants)
    port = free_port()
    cmd = [sys.executable, "-m", "hotglue_nb.sandbox", "--port", str(port)]
    cmd += ["--tenants", str(tenants), "--faults", faults, *(extra or [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        yield Remote(
            f"http://127.0.0.1:{port}",
            world.api_key,
            world.env_id,
            world.flow_ids[0],
            list(world.tenants),
        )
    finally:
        proc.terminate()
        proc.wait()

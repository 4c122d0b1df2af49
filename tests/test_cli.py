from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from hotglue_nb import cli


def test_no_command_prints_help_and_fails(capsys: object) -> None:
    assert cli.main([]) == 2


def test_sandbox_command_serves_and_prints_credentials() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotglue_nb", "sandbox", "--port", "0", "--faults", "latency=0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        base = lines[1].split("=", 1)[1].strip()
        env_id = lines[2].split("=", 1)[1].strip()
        key = lines[3].split("=", 1)[1].split()[0]
        r = httpx.get(f"{base}/tenants/{env_id}", headers={"x-api-key": key})
        assert r.status_code == 200 and len(r.json()) >= 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_sandbox_bad_faults_is_a_clear_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hotglue_nb", "sandbox", "--faults", "nope=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "unknown fault 'nope'" in out.stderr and "Traceback" not in out.stderr

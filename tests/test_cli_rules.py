"""The rules every hotglue-nb command shares (issue #22, finding 15 and the smaller CLI
points): --out checked before anything is sent, Ctrl-C writes what was done and exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hotglue_nb import sandbox

from .test_cli import cli, creds, tenants_csv


@pytest.fixture(scope="module")
def sb() -> sandbox.Sandbox:
    with sandbox.serve(faults={"latency": 0.05}, history_days=3) as running:
        yield running  # type: ignore[misc]


def requests(sb: sandbox.Sandbox) -> int:
    return len(sb.state.requests)


@pytest.mark.parametrize("command", ["launch", "history", "health", "check"])
def test_a_bad_out_is_refused_before_any_request(
    sb: sandbox.Sandbox, tmp_path: Path, command: str
) -> None:
    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:3])
    flow = ["--flow", sb.flow_id]
    args = {
        "launch": [str(tenants), *flow],
        "check": [str(tenants), *flow],
        "history": flow,
        "health": flow,
    }[command]
    before = requests(sb)
    out = cli(command, *args, "--out", str(tmp_path / "results.json"), env=creds(sb))
    assert out.returncode == 2, out.stderr
    assert "--out" in out.stderr and ".csv" in out.stderr and "Traceback" not in out.stderr
    assert requests(sb) == before  # nothing was sent: no job was created and then lost


def test_out_into_a_missing_folder_is_made(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:2])
    target = tmp_path / "new" / "deeper" / "results.csv"
    out = cli("launch", str(tenants), "--flow", sb.flow_id, "--out", str(target), env=creds(sb))
    assert out.returncode in (0, 1), out.stderr
    assert len(pd.read_csv(target)) == 2


def test_a_misspelt_problem_is_refused_before_reading(sb: sandbox.Sandbox) -> None:
    before = requests(sb)
    out = cli("health", "--flow", sb.flow_id, "--problem", "failng", env=creds(sb))
    assert out.returncode == 2 and "did you mean 'failing'" in out.stderr
    assert requests(sb) == before


def test_ctrl_c_of_history_writes_what_was_read_and_exits_130(
    sb: sandbox.Sandbox, tmp_path: Path
) -> None:
    target = tmp_path / "history.csv"
    env = {**os.environ, **creds(sb), "PYTHONUNBUFFERED": "1"}
    before = requests(sb)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotglue_nb", "history", "--flow", sb.flow_id,
         "--concurrency", "1", "--out", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while requests(sb) - before < 14:  # the tenant listing, then a dozen tenants' lists
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and str(target) in err and "hg." not in err
    partial = pd.read_csv(target)
    assert partial.tenant.nunique() >= 10 and len(partial) > 0


# issue #23: nothing lost, no secret shown ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["tenants", "--api-key", "hg_live_SECRET"], ["tenants", "--api-key=hg_live_SECRET"],
     ["tenants", "--api-key-fil", "hg_live_SECRET"], ["history", "--flo", "F", "hg_live_SECRET"]],
)  # fmt: skip
def test_a_key_given_as_an_argument_is_refused_and_never_echoed(args: list[str]) -> None:
    out = cli(*args)
    assert out.returncode == 2
    assert "hg_live_SECRET" not in out.stderr + out.stdout
    if args[1].startswith("--api-key="):
        assert "HOTGLUE_API_KEY" in out.stderr


def test_launch_without_out_keeps_a_journal_and_says_where(
    sb: sandbox.Sandbox, tmp_path: Path
) -> None:
    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:3])
    out = cli("launch", str(tenants), "--flow", sb.flow_id, env=creds(sb), cwd=tmp_path)
    assert out.returncode in (0, 1), out.stderr
    journals = list((tmp_path / "hotglue-runs").glob("*.jsonl"))
    assert len(journals) == 1 and str(journals[0].name) in out.stderr
    status = cli("status", str(journals[0]), cwd=tmp_path)
    assert status.returncode in (0, 1) and "created" in status.stdout


def test_help_shows_the_defaults() -> None:
    text = cli("launch", "--help").stdout
    assert "(default: 8)" in text and "(default: 30.0)" in text and "default: None" not in text


def test_a_refused_key_exits_3_and_writes_what_was_done(
    sb: sandbox.Sandbox, tmp_path: Path
) -> None:
    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:20])
    target = tmp_path / "r.csv"
    env = {**creds(sb), "HOTGLUE_API_KEY": "hg_wrong_key"}
    out = cli("launch", str(tenants), "--flow", sb.flow_id, "--out", str(target), env=env)
    assert out.returncode == 3, out.stderr
    assert "refused the key" in out.stderr and "hg_wrong_key" not in out.stderr + out.stdout
    assert len(pd.read_csv(target)) == 20


# issue #23 (11): a CLI for scripts -----------------------------------------------------------


def test_no_progress_frames_in_a_log_unless_asked(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:5])
    base = ["launch", str(tenants), "--flow", sb.flow_id, "--out", str(tmp_path / "r.csv")]
    logged = cli(*base, env=creds(sb))  # stderr is a pipe here, as in a log
    assert "\r" not in logged.stderr and "row/s" not in logged.stderr
    forced = cli(*base, "--progress", env=creds(sb))
    assert "row/s" in forced.stderr
    quiet = cli(*base, "--quiet", "--progress", env=creds(sb))
    assert quiet.returncode == 2  # one or the other


def test_a_closed_pipe_ends_quietly(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:30])
    results = tmp_path / "r.csv"
    cli("launch", str(tenants), "--flow", sb.flow_id, "--out", str(results), env=creds(sb))
    for reader, lines in (("head -2", 2), ("true", 0)):  # `true` leaves before any write
        line = f"{sys.executable} -m hotglue_nb status {results} | {reader}"
        out = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=60)
        assert len(out.stdout.splitlines()) == lines
        assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr


def test_json_lines_for_scripts(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    import json

    tenants = tenants_csv(tmp_path / "t.csv", list(sb.tenants)[:4])
    results = tmp_path / "r.csv"
    cli("launch", str(tenants), "--flow", sb.flow_id, "--out", str(results), env=creds(sb))
    status = cli("status", str(results), "--json")
    rows = [json.loads(line) for line in status.stdout.splitlines()]
    assert len(rows) == 4 and {"tenant", "outcome", "job_root"} <= set(rows[0])
    health = cli("health", "--flow", sb.flow_id, "--json", "--quiet", env=creds(sb))
    assert health.returncode == 0, health.stderr
    parsed = [json.loads(line) for line in health.stdout.splitlines()]
    assert parsed and all("problem" in row for row in parsed)
    none = cli("health", "--flow", sb.flow_id, "--problem", "slow", "--quiet", env=creds(sb))
    assert "Empty DataFrame" not in none.stdout

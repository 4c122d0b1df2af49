"""launch_jobs against the sandbox on loopback, with faults on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

pytestmark = pytest.mark.usefixtures("both_transports")  # aiohttp and httpx alike

ODD_IDS = ["a/b", "x?y", "h#sh", "100%", "acme corp", "café-ü", "東京", "..x", "%2F"]


def world(n: int) -> sandbox.World:
    w = sandbox.demo_world(0, tenants=n)
    template = next(iter(w.tenants.values()))
    for tenant in ODD_IDS:
        w.tenants[tenant] = {"flows": template["flows"], "failures": {}}
    return w


def check_no_duplicates(sb: sandbox.Sandbox, out: pd.DataFrame) -> Counter[str]:
    """Every row agrees with the server's own record of jobs; no tenant got two."""
    outcomes: Counter[str] = Counter()
    for row in out.itertuples():
        jobs = sb.state.jobs_for(row.tenant)
        outcomes[row.outcome] += 1
        assert len(jobs) <= 1, (row.tenant, jobs)
        if row.outcome == "created":
            assert len(jobs) == 1 and jobs[0]["s3_root"] == row.job_root
        elif row.outcome in ("rejected", "skipped"):
            assert jobs == [], (row.tenant, row.outcome, row.error)
    return outcomes


def test_thousand_tenants_with_mixed_faults() -> None:
    faults = {
        "rate_limit": 250,  # still well below what 32 workers send
        "burst": 5,
        "retry_after": 0.2,
        "locked": 0.03,
        "server_error": 0.05,
        "lose_answer": 0.03,
        "broken_json": 0.03,
        "slow_answer": 0.02,
        "slow_seconds": 1.5,
    }
    w = world(1000)
    with sandbox.serve(w, faults=faults, seed=7) as sb:
        tenants = pd.DataFrame({"tenant": sb.tenants})
        tenants.index = [f"row{i}" for i in range(len(tenants))]
        out = hg.launch_jobs(
            tenants, flow_id=sb.flow_id, concurrency=32, max_attempts=6, timeout=0.8,
            reconcile_delay=0.05, progress=False, **sb.credentials,
        )  # fmt: skip
        assert len(out) == len(tenants) == 1009
        assert list(out.index) == list(tenants.index)
        assert list(out.tenant) == list(tenants.tenant)
        outcomes = check_no_duplicates(sb, out)
        assert outcomes["created"] >= 990, outcomes
        unknown_with_job = sum(
            1 for r in out.itertuples() if r.outcome == "unknown" and sb.state.jobs_for(r.tenant)
        )
        assert sb.state.job_count() == outcomes["created"] + unknown_with_job
        statuses = Counter(code for _, _, _, code in sb.state.requests)
        assert statuses[429] > 0 and statuses[423] > 0 and statuses[500] + statuses[502] > 0
        reconciled = out.error.fillna("").str.startswith("found after").sum()
        assert reconciled > 0  # lost, slow and broken answers were found, not resent


def test_odd_tenant_ids_travel_intact() -> None:
    with sandbox.serve(world(5)) as sb:
        out = hg.launch_jobs(ODD_IDS, flow_id=sb.flow_id, progress=False, **sb.credentials)
        assert (out.outcome == "created").all(), out.error.tolist()
        for tenant in ODD_IDS:
            assert sb.state.jobs_for(tenant)[0]["tenant"] == tenant


def test_bad_key_fails_fast_whatever_the_size() -> None:
    with sandbox.serve(world(1000)) as sb:
        start = time.monotonic()
        with pytest.raises(hg.AuthenticationError) as caught:
            hg.launch_jobs(
                sb.tenants, flow_id=sb.flow_id, concurrency=8, progress=False,
                **{**sb.credentials, "api_key": "wrong-key"},
            )  # fmt: skip
        out = caught.value.results
        assert time.monotonic() - start < 5
        assert len(out) == 1009 and (out.outcome == "skipped").sum() >= 1001
        assert len(sb.state.requests) <= 8 and sb.state.job_count() == 0


SCRIPT = """
import sys, json, pandas as pd, hotglue_nb as hg

base, key, env, flow, journal, tenants = sys.argv[1:7]
hg.launch_jobs(pd.DataFrame({"tenant": json.loads(open(tenants).read())}), flow_id=flow,
               api_key=key, env_id=env, base_url=base, journal=journal, concurrency=8,
               progress=False)
"""


def test_killed_mid_run_then_resumed(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    ids = tmp_path / "tenants.json"
    with sandbox.serve(world(400), faults={"latency": 0.05}) as sb:
        ids.write_text(json.dumps(sb.tenants))
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(journal), str(ids)]
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT, *args])
        _wait_for_intents(journal, 120, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = hg._journal.read_journal(journal)
        assert 0 < len(before.outcomes) < len(sb.tenants)
        frame = pd.DataFrame({"tenant": sb.tenants})
        out = hg.launch_jobs(frame, flow_id=sb.flow_id, resume=journal, progress=False,
                             **sb.credentials)  # fmt: skip
        outcomes = check_no_duplicates(sb, out)
        assert outcomes == Counter({"created": len(sb.tenants)})
        assert sb.state.job_count() == len(sb.tenants)
        for row, record in before.outcomes.items():
            assert out.job_root.iloc[row] == record["job_root"]  # no job id lost


def _wait_for_intents(journal: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count('"kind": "intent"') >= count:
            return
        if proc.poll() is not None:
            pytest.fail("the launching process ended before it could be killed")
        time.sleep(0.02)
    pytest.fail("no progress in the journal")

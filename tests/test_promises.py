"""The run's promises under hostile conditions (issue #12), against the sandbox on real sockets:
never two jobs for a row, nothing lost, no secret out. Tests are named by item number."""

from __future__ import annotations

import json
import logging
import os
import pickle
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

WORLD = sandbox.demo_world(0, tenants=60)
OK = [t for t, info in WORLD.tenants.items() if not info["failures"]]


def serve(faults: Any = None, key: str | None = None) -> Any:
    world = sandbox.demo_world(0, tenants=60)
    if key is not None:
        world.api_key = key
    return sandbox.serve(world, faults=faults, time_scale=0.002)  # jobs last ~0.4 s


def launch(sb: sandbox.Sandbox, tenants: Any, **kw: Any) -> pd.DataFrame:
    options = {"flow_id": sb.flow_id, "progress": False, "reconcile_delay": 0.0, **kw}
    return hg.launch_jobs(tenants, **options, **sb.credentials)


def jobs_on_server(sb: sandbox.Sandbox, tenant: str) -> list[dict[str, Any]]:
    return sb.state.jobs_for(tenant)


# --- 3. only a well-formed job list proves a job absent ------------------------------------


def test_03_a_job_list_that_is_not_an_array_is_no_proof_of_absence() -> None:
    lost = OK[:3]
    faults = {"*": {}, **{t: {"lose_answer": 1.0, "odd_list": 1.0} for t in lost}}
    with serve(faults) as sb:
        out = launch(sb, lost + OK[3:5], max_attempts=3, sleep=_no_sleep)
        for tenant in lost:
            row = out[out.tenant == tenant].iloc[0]
            assert row.outcome == "unknown", row.error
            assert len(jobs_on_server(sb, tenant)) == 1  # created once, never re-sent
            assert "not a JSON array" in row.error or "not JSON" in row.error
        posts = [t for m, _, t, _ in sb.state.requests if m == "POST"]
        assert all(posts.count(t) == 1 for t in lost)
        assert (out[out.tenant.isin(OK[3:5])].outcome == "created").all()


async def _no_sleep(seconds: float) -> None:
    return None


# --- 10. a 3xx is not a created job ---------------------------------------------------------


def test_10_a_redirect_is_an_error_outcome_with_its_real_status() -> None:
    with serve({"*": {}, OK[0]: {"redirect": 1.0}}) as sb:
        out = launch(sb, OK[:2])
        first = out.iloc[0]
        assert first.outcome == "rejected" and first.http_status == 307
        assert pd.isna(first.job_root) and jobs_on_server(sb, OK[0]) == []
        assert first.attempts == 1  # a redirect proves nothing was done: not re-sent either
        assert out.iloc[1].outcome == "created" and out.iloc[1].http_status == 200


def test_10_the_client_raises_on_a_redirect() -> None:
    with serve({"*": {}, OK[0]: {"redirect": 1.0}}) as sb:
        with hg.Hotglue(**sb.credentials) as client, pytest.raises(hg.APIStatusError) as info:
            client.run_job(sb.flow_id, OK[0])
        assert info.value.status_code == 307


# --- 11. a success without a readable job is ambiguous --------------------------------------


@pytest.mark.parametrize("fault", ["empty_ok", "no_root", "broken_json"])
def test_11_a_200_without_a_job_root_is_reconciled_not_created_blind(fault: str) -> None:
    tenant = OK[5]
    with serve({"*": {}, tenant: {fault: 1.0}}) as sb:
        out = launch(sb, [tenant])
        row = out.iloc[0]
        server = jobs_on_server(sb, tenant)
        assert len(server) == 1 and row.outcome == "created"
        assert row.job_root == server[0]["s3_root"] and row.http_status == 200
        assert row.error.startswith("found after APIResponseError")
        waited = hg.wait_for_jobs(out, poll_interval=0.05, progress=False, **sb.credentials)
        assert waited.finished.all()


# --- 12, 13. the key never leaves -----------------------------------------------------------


@pytest.mark.parametrize("bad", ["sk-line1\nline2", "sk key", "sk-\x00", "sk-é"])
def test_12_a_key_no_header_can_carry_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(hg.ConfigError) as info:
        hg.AsyncHotglue(api_key=bad, env_id="e")
    assert bad not in str(info.value) and "line break" in str(info.value)
    with pytest.raises(hg.ConfigError):
        hg.launch_jobs(["a"], flow_id="f", api_key=bad, env_id="e", progress=False)


def test_12_error_texts_are_scrubbed_of_the_key() -> None:
    key = "sk-live-" + secrets.token_hex(12)

    def echo(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ConnectError(f"proxy said no to {request.headers['x-api-key']}")
        body = {"Code": "BadRequestError", "Message": f"bad key {key}"}
        return httpx.Response(400, json=body)

    client = hg.AsyncHotglue(api_key=key, env_id="e", transport=httpx.MockTransport(echo))
    out = hg.launch_jobs(["a"], flow_id="f", client=client, progress=False, max_attempts=1)
    assert key not in out.to_csv() and "********" in out.error.iloc[0]
    with pytest.raises(hg.BadRequestError) as info:
        hg.Hotglue(api_key=key, env_id="e", transport=httpx.MockTransport(echo)).list_jobs("f", "a")
    exc = info.value
    texts = [str(exc), repr(exc), repr(exc.body), exc.api_message, exc.response.text]
    assert all(key not in text for text in texts)


@pytest.fixture
def secret_world(tmp_path: Path) -> Iterator[tuple[sandbox.Sandbox, str]]:
    key = "sk-live-" + secrets.token_hex(16)
    faults = {"server_error": 0.1, "lose_answer": 0.1, "broken_json": 0.05}
    with serve(faults, key=key) as sb:
        yield sb, key


def test_13_no_artefact_of_a_run_holds_the_key(
    secret_world: tuple[sandbox.Sandbox, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sb, key = secret_world
    journal = tmp_path / "run.jsonl"
    caplog.set_level(logging.DEBUG)
    out = launch(sb, OK[:20] + ["nobody"], journal=journal, on_invalid="skip")
    out = hg.wait_for_jobs(out, poll_interval=0.05, progress=False, **sb.credentials)
    artefacts = [journal.read_text(), out.to_csv(), repr(out), caplog.text]
    for suffix in (".csv", ".xlsx", ".parquet"):
        path = hg.export_results(out, tmp_path / f"results{suffix}")
        artefacts.append(path.read_bytes().decode("latin-1"))
    client = hg.Hotglue(**sb.credentials)
    for call in (lambda: client.list_jobs(sb.flow_id, "nobody"),
                 lambda: client.run_job(sb.flow_id, OK[0], tap="nope")):  # fmt: skip
        with pytest.raises(hg.APIStatusError) as info:
            call()
        exc = info.value
        artefacts += [str(exc), repr(exc), repr(exc.response), repr(exc.response.request.headers)]
        artefacts.append(pickle.dumps(exc).decode("latin-1"))
        artefacts.append(repr(pickle.loads(pickle.dumps(exc)).__dict__))
    client.close()
    cli = _cli_run(sb, key, tmp_path)
    artefacts += [cli.stdout, cli.stderr, (tmp_path / "cli.csv").read_text()]
    assert "httpx" in caplog.text  # the DEBUG logs were captured, and hold no key
    leaks = [i for i, text in enumerate(artefacts) if key in text]
    assert leaks == []


def _cli_run(sb: sandbox.Sandbox, key: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tenants = tmp_path / "t.csv"
    pd.DataFrame({"tenant": OK[20:25]}).to_csv(tenants, index=False)
    env = {**os.environ, "HOTGLUE_API_KEY": key, "HOTGLUE_ENV_ID": sb.env_id,
           "HOTGLUE_BASE_URL": sb.base_url}  # fmt: skip
    args = ["launch", str(tenants), "--flow", sb.flow_id, "--journal", str(tmp_path / "c.jsonl"),
            "--out", str(tmp_path / "cli.csv")]  # fmt: skip
    run = subprocess.run([sys.executable, "-m", "hotglue_nb", *args], capture_output=True,
                         text=True, env=env, timeout=120)  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    assert key not in (tmp_path / "c.jsonl").read_text()
    return run


def test_13_exceptions_pickle_and_keep_what_matters() -> None:
    response = httpx.Response(
        429, headers={"retry-after": "3"}, json={"Message": "slow"},
        request=httpx.Request("POST", "https://x/e/f/t/jobs", headers={"x-api-key": "sk-1"}),
    )  # fmt: skip
    exc = hg._exceptions.make_status_error(response, method="POST", path="/e/f/t/jobs",
                                           tenant="t", secret="sk-1")  # fmt: skip
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is hg.RateLimitError and str(back) == str(exc)
    assert back.status_code == 429 and back.retry_after == 3.0 and back.api_message == "slow"
    assert (
        back.response.request.method == "POST" and "x-api-key" not in back.response.request.headers
    )
    assert json.loads(back.response.content) == {"Message": "slow"}

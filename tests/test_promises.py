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

from .polling import until

pytestmark = pytest.mark.usefixtures("both_transports")  # aiohttp and httpx alike

WORLD = sandbox.demo_world(0, tenants=60)
OK = [t for t, info in WORLD.tenants.items() if not info["failures"]]


def serve(faults: Any = None, key: str | None = None, time_scale: float = 0.002) -> Any:
    """The sandbox on loopback; jobs last ~0.4 s at the default time scale."""
    world = sandbox.demo_world(0, tenants=60)
    if key is not None:
        world.api_key = key
    return sandbox.serve(world, faults=faults, time_scale=time_scale)


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
    secret_world: tuple[sandbox.Sandbox, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    both_transports: str,
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
    if both_transports == "httpx":
        assert "httpcore" in caplog.text  # the DEBUG logs were captured, and hold no key
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


# --- 1. a journal belongs to one run at a time ------------------------------------------------


def test_01_a_journal_is_locked_by_its_run_and_freed_by_the_os(tmp_path: Path) -> None:
    from hotglue_nb._journal import Journal

    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"kind": "run", "run_id": "r1", "pid": 4242}) + "\n")
    first = Journal(path)
    with pytest.raises(hg.ConfigError, match=r"in use by another run \(pid 4242\)"):
        Journal(path)
    first.close_now()
    Journal(path).close_now()  # released: a crash (SIGKILL) releases it the same way


RUN = """
import sys, json, pandas as pd, hotglue_nb as hg
base, key, env, flow, journal, tenants, resume = sys.argv[1:8]
frame = pd.DataFrame({"tenant": json.loads(open(tenants).read())})
options = dict(api_key=key, env_id=env, base_url=base, concurrency=4, progress=False)
try:
    if resume == "yes":
        out = hg.launch_jobs(frame, resume=journal, **options)
    else:
        out = hg.launch_jobs(frame, flow_id=flow, journal=journal, **options)
except hg.ConfigError as exc:
    print("REFUSED", exc); sys.exit(3)
print("DONE", json.dumps(out.outcome.value_counts().to_dict()))
"""


def test_01_two_resumes_at_once_send_each_row_once(tmp_path: Path) -> None:
    journal, ids = tmp_path / "run.jsonl", tmp_path / "tenants.json"
    with sandbox.serve(sandbox.demo_world(0, tenants=120), faults={"latency": 0.03}) as sb:
        ids.write_text(json.dumps(sb.tenants))
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(journal), str(ids)]
        first = subprocess.Popen([sys.executable, "-c", RUN, *args, "no"])
        until(lambda: journal.exists() and journal.read_text().count('"intent"') >= 20)
        first.kill()  # SIGKILL mid-run: the OS releases its lock
        first.wait()
        both = [subprocess.Popen([sys.executable, "-c", RUN, *args, "yes"], text=True,
                                 stdout=subprocess.PIPE) for _ in range(2)]  # fmt: skip
        outputs = [proc.communicate(timeout=120)[0] for proc in both]
        codes = sorted(proc.returncode for proc in both)
        assert codes == [0, 3], outputs
        refused = next(text for text in outputs if text.startswith("REFUSED"))
        assert "in use by another run (pid " in refused
        counts = [len(sb.state.jobs_for(tenant)) for tenant in sb.tenants]
        assert set(counts) == {1}  # every tenant exactly one job


# --- 2. a resume continues the run as it was started -----------------------------------------


def _interrupted_run(sb: sandbox.Sandbox, path: Path, tenants: list[str], **kw: Any) -> None:
    """Start a run and cancel it after a few POSTs, as a Ctrl-C would."""
    import asyncio

    async def go() -> None:
        task = asyncio.ensure_future(hg.aio.launch_jobs(
            tenants, flow_id=sb.flow_id, journal=path, concurrency=2, progress=False,
            **sb.credentials, **kw,
        ))  # fmt: skip
        while sum(1 for m, *_ in sb.state.requests if m == "POST") < 4:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(hg.LaunchInterrupted):
            await task

    asyncio.run(go())


def test_02_resume_alone_sends_the_rest_exactly_as_the_run_would_have(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    tenants = OK[:40]
    with serve({"latency": 0.02}) as sb:
        _interrupted_run(sb, path, tenants, override_start_date="2024-03-01", job_name="nightly")
        sent_before = len([1 for m, *_ in sb.state.requests if m == "POST"])
        out = hg.launch_jobs(
            tenants, resume=path, progress=False, api_key=sb.api_key, reconcile_delay=0.0
        )  # (timing only: no setting of the run)
        assert (out.outcome == "created").all()
        for tenant in tenants:
            jobs = sb.state.jobs_for(tenant)
            assert len(jobs) == 1, tenant
            assert jobs[0]["override_start_date"].startswith("2024-03-01")
            assert jobs[0]["job_name"].startswith("nightly~")
        assert len([1 for m, *_ in sb.state.requests if m == "POST"]) - sent_before < 40


def test_02_a_resume_that_contradicts_its_run_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.jsonl"
    with serve({"latency": 0.02}) as sb:
        _interrupted_run(sb, path, OK[:20], override_start_date="2024-03-01")
        creds = sb.credentials
        resume = {"resume": path, "progress": False}
        cases = [
            ({"flow_id": sb.flows[1], **creds}, "flow_id="),
            ({**creds, "env_id": "other.env"}, "env_id="),
            ({**creds, "override_start_date": "2024-04-01"}, "override_start_date="),
            ({**creds, "job_name": "other"}, "job_name="),
        ]
        for options, name in cases:
            with pytest.raises(hg.ConfigError, match=f"started with {name}"):
                hg.launch_jobs(OK[:20], **resume, **options)
        monkeypatch.setenv("HOTGLUE_ENV_ID", "elsewhere.env")
        with pytest.raises(hg.ConfigError, match="HOTGLUE_"):
            hg.launch_jobs(OK[:20], **resume, api_key=sb.api_key)
        monkeypatch.delenv("HOTGLUE_ENV_ID")
        same = hg.launch_jobs(OK[:20], **resume, **creds, override_start_date="2024-03-01",
                              reconcile_delay=0.0)  # fmt: skip
        assert (same.outcome == "created").all()


def test_02_rows_left_out_are_reported_and_in_flight_rows_keep_their_recorded_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.jsonl"
    tenants = pd.DataFrame({"tenant": OK[:12]}, index=[f"r{i}" for i in range(12)])
    with serve({"*": {}, OK[3]: {"lose_answer": 1.0, "odd_list": 1.0}}) as sb:
        first = launch(sb, tenants, journal=path, sleep=_no_sleep)
        assert first.loc["r3", "outcome"] == "unknown"
        sb.state.faults = sandbox.FaultPlan.build(None)  # the API recovers
        edited = tenants.drop(index=["r7", "r9"]).assign(job_name="renamed")  # a cell changed
        with pytest.warns(hg.HotglueWarning, match="r7, r9"):
            again = launch(sb, edited, resume=path)
        assert again.attrs["not_in_frame"] == ["r7", "r9"]
        row = again.loc["r3"]
        assert row.outcome == "created" and row.error == "found by resume"
        assert len(sb.state.jobs_for(OK[3])) == 1  # found under its recorded name: not re-sent
        assert row.job_name.startswith("hotglue-nb~")  # the name it was sent with


def test_02_resuming_a_finished_run_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with serve() as sb:
        first = launch(sb, OK[:5], journal=path)
        posts = len(sb.state.requests)
        again = hg.launch_jobs(OK[:5], resume=path, progress=False, api_key=sb.api_key)
        assert list(again.job_root) == list(first.job_root)
        assert len(sb.state.requests) == posts


# --- 4, 5, 17 and versions: the journal file itself ------------------------------------------


def test_04_a_journal_of_another_run_is_not_mixed_in(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with serve() as sb:
        launch(sb, OK[:2], journal=path)
        before = path.read_text()
        with pytest.raises(hg.ConfigError, match=f"resume='{path}'"):
            launch(sb, OK[2:4], journal=path)
        assert path.read_text() == before


def test_05_a_torn_last_line_is_repaired_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with serve() as sb:
        launch(sb, OK[:3], journal=path)
        lines = path.read_text().splitlines()
        outcome_of_row_2 = next(i for i, line in enumerate(lines)
                                if '"outcome"' in line and '"row": 2' in line)  # fmt: skip
        kept = [line for i, line in enumerate(lines) if i != outcome_of_row_2]
        path.write_text("\n".join(kept) + '\n{"kind": "outcome", "row": 2, "ten')  # torn
        again = hg.launch_jobs(OK[:3], resume=path, progress=False, api_key=sb.api_key)
        assert (again.outcome == "created").all()
        for line in path.read_text().splitlines():
            json.loads(line)  # every line whole again
        assert len(hg.load_run(path)) == 3 and len(sb.state.jobs_for(OK[2])) == 1


def test_17_an_unwritable_journal_is_refused_before_any_request(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with serve() as sb:
        for bad in (blocker / "run.jsonl", Path("/proc/hotglue-nb-test.jsonl")):
            with pytest.raises(hg.ConfigError, match="Cannot write the journal"):
                launch(sb, OK[:2], journal=bad)
        assert sb.state.requests == []
        tenants = tmp_path / "t.csv"
        pd.DataFrame({"tenant": OK[:2]}).to_csv(tenants, index=False)
        env = {**os.environ, "HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
               "HOTGLUE_BASE_URL": sb.base_url}  # fmt: skip
        args = ["launch", str(tenants), "--flow", sb.flow_id, "--journal", str(blocker / "j")]
        cli = subprocess.run([sys.executable, "-m", "hotglue_nb", *args], env=env, text=True,
                             capture_output=True, timeout=60)  # fmt: skip
        assert cli.returncode == 2 and "Traceback" not in cli.stderr
        assert (
            len(cli.stderr.strip().splitlines()) == 1 and "Cannot write the journal" in cli.stderr
        )


def test_a_journal_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"kind": "run", "run_id": "r9", "format": 99}) + "\n")
    with pytest.raises(hg.ConfigError, match="newer hotglue_nb"):
        hg.load_run(path)
    with pytest.raises(hg.ConfigError, match="newer hotglue_nb"):
        hg.launch_jobs(["a"], resume=path, api_key="k", env_id="e", progress=False)


# --- 6. a journal that cannot be written mid-run loses nothing ---------------------------------


FULL_DISK = """
import json, resource, signal, sys, warnings, pandas as pd, hotglue_nb as hg

base, key, env, flow, journal, tenants, limit = sys.argv[1:8]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes beyond the limit fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
frame = pd.DataFrame({"tenant": json.loads(open(tenants).read())})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = hg.launch_jobs(frame, flow_id=flow, journal=journal, api_key=key, env_id=env,
                         base_url=base, concurrency=4, progress=False)
print(json.dumps({"outcomes": out.outcome.tolist(), "roots": out.job_root.fillna("").tolist(),
                  "attrs": out.attrs.get("journal_error"), "errors": out.error.fillna("").tolist(),
                  "warned": [str(w.message) for w in caught]}))
"""


def test_06_a_journal_write_failure_stops_sending_and_returns_every_job(tmp_path: Path) -> None:
    journal, ids = tmp_path / "run.jsonl", tmp_path / "tenants.json"
    with serve({"latency": 0.01}) as sb:
        ids.write_text(json.dumps(OK[:50]))
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(journal), str(ids), "9000"]
        done = subprocess.run([sys.executable, "-c", FULL_DISK, *args], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout)
        outcomes = report["outcomes"]
        assert "File too large" in report["attrs"] and report["warned"]
        assert 0 < outcomes.count("created") < 50 and "skipped" in outcomes
        for tenant, outcome, root in zip(OK[:50], outcomes, report["roots"], strict=True):
            jobs = sb.state.jobs_for(tenant)
            if outcome == "created":
                assert [job["s3_root"] for job in jobs] == [root]  # every job id returned
            else:
                assert outcome in ("skipped", "unknown") and len(jobs) <= (outcome == "unknown")
        assert any("cannot write the journal" in e.lower() for e in report["errors"])


# --- 8. statuses are journaled under each row's own identity -----------------------------------


def test_08_waiting_on_a_filtered_frame_records_the_right_rows(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    tenants = pd.DataFrame({"tenant": OK[:6]}, index=list("abcdef"))
    with serve() as sb:
        results = launch(sb, tenants, journal=path)
        subset = results.loc[["e", "b"]]  # filtered and reordered
        hg.wait_for_jobs(subset, poll_interval=0.05, progress=False, **sb.credentials)
        past = hg.load_run(path)
        assert list(past.index) == list("abcdef") and list(past.tenant) == OK[:6]
        assert past.loc[["b", "e"]].finished.all()
        assert past.loc[["a", "c", "d", "f"]].finished.isna().all()
        assert list(past.loc[["b", "e"]].job_root) == list(results.loc[["b", "e"]].job_root)


# --- 7. Ctrl-C in the shell writes what is known to --out ----------------------------------------


def _cli_env(sb: sandbox.Sandbox) -> dict[str, str]:
    return {**os.environ, "HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
            "HOTGLUE_BASE_URL": sb.base_url, "PYTHONUNBUFFERED": "1"}  # fmt: skip


def _interrupt_cli(args: list[str], env: dict[str, str], when: Any) -> Any:
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "hotglue_nb", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    until(when)
    import time

    time.sleep(0.1)  # let the client take in the answers the server already sent
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_07_ctrl_c_of_the_cli_writes_the_partial_results(tmp_path: Path) -> None:
    tenants, out, journal = tmp_path / "t.csv", tmp_path / "partial.xlsx", tmp_path / "j.jsonl"
    pd.DataFrame({"tenant": OK[:50]}).to_csv(tenants, index=False)
    with serve({"latency": 0.05}, time_scale=0.05) as sb:  # jobs last ~9 s
        posts = lambda: sum(1 for m, *_ in sb.state.requests if m == "POST")  # noqa: E731
        args = ["launch", str(tenants), "--flow", sb.flow_id, "--concurrency", "2",
                "--out", str(out), "--journal", str(journal)]  # fmt: skip
        code, stdout, stderr = _interrupt_cli(args, _cli_env(sb), lambda: posts() >= 6)
        assert code == 130, stderr[-2000:]
        assert f"written to {out}" in stderr and f"--resume {journal}" in stderr
        assert ".results" not in stderr + stdout and "Traceback" not in stderr
        partial = hg.read_results(out)
        assert len(partial) == 50 and (partial.outcome == "created").sum() >= 6
        created = partial[partial.outcome == "created"]
        for row in created.itertuples():
            assert [j["s3_root"] for j in sb.state.jobs_for(row.tenant)] == [row.job_root]
        gets = lambda: sum(1 for m, p, *_ in sb.state.requests if p.endswith("/status"))  # noqa: E731
        before = gets()
        args = ["wait", str(out), "--poll-interval", "0.05"]
        code, stdout, stderr = _interrupt_cli(args, _cli_env(sb), lambda: gets() - before >= 3)
        assert code == 130 and f"written to {out}" in stderr, stderr[-2000:]
        waited = hg.read_results(out)
        assert len(waited) == 50 and waited.polls.sum() >= 1
        had = partial.job_root.notna()
        assert list(waited.job_root[had]) == list(partial.job_root[had])
        # a row in flight at the first Ctrl-C may have made a job: wait finds it by name
        for row in waited[~had & waited.job_root.notna()].itertuples():
            assert [j["s3_root"] for j in sb.state.jobs_for(row.tenant)] == [row.job_root]


# --- 9, 14. what a spreadsheet does to text ------------------------------------------------------

NA_LIKE = ["NA", "N/A", "null", "NaN", "None", "nan", "#N/A", "NULL", "<NA>"]
RISKY = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'quoted", "#REF!"]


def _odd_world(tenants: list[str]) -> sandbox.World:
    world = sandbox.demo_world(0, tenants=10)
    template = next(iter(world.tenants.values()))
    for tenant in tenants:
        world.tenants[tenant] = {"flows": template["flows"], "failures": {}}
    return world


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_09_ids_pandas_would_read_as_missing_survive_every_format(
    tmp_path: Path, suffix: str
) -> None:
    with sandbox.serve(_odd_world(NA_LIKE), time_scale=0.002) as sb:
        results = launch(sb, NA_LIKE)
        assert (results.outcome == "created").all() and list(results.tenant) == NA_LIKE
        path = hg.export_results(results, tmp_path / f"r{suffix}")
        back = hg.read_results(path)
        assert list(back.tenant) == NA_LIKE and back.tenant.notna().all()
        cli = subprocess.run([sys.executable, "-m", "hotglue_nb", "wait", str(path),
                              "--poll-interval", "0.05"], env=_cli_env(sb), text=True,
                             capture_output=True, timeout=120)  # fmt: skip
        assert cli.returncode == 0, cli.stderr[-2000:]
        waited = hg.read_results(path)
        assert list(waited.tenant) == NA_LIKE and waited.finished.all()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_14_cells_a_spreadsheet_would_run_are_neutralised_and_restored(
    tmp_path: Path, suffix: str
) -> None:
    frame = pd.DataFrame(
        {"tenant": RISKY, "outcome": "rejected", "message": ["=1+1", "-x", "ok", "@a", "+", "fine",
                                                             "'", "#"]},
        index=["=A1", "b", "+c", "d", "e", "f", "g", "h"],
    )  # fmt: skip
    frame = hg._frames.apply_dtypes(frame, hg._frames.RESULT_COLUMNS)
    path = hg.export_results(frame, tmp_path / f"r{suffix}")
    if suffix == ".csv":
        import csv

        with path.open(newline="") as file:
            for row in list(csv.reader(file))[1:]:
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(path).active
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value  # not one formula
    back = hg.read_results(path)
    if suffix == ".xlsx":  # XML turns a carriage return into a line feed (a documented limit)
        frame["tenant"] = frame["tenant"].str.replace("\r", "\n")
    pd.testing.assert_frame_equal(back, frame, check_index_type=False)

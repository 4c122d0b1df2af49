"""A wrong flow or environment stops a launch after its first 404s, not hundreds later.

hotglue's 404 does not say what is missing [C], so the run reads the environment's flows
list (``GET /{env}/flows/supported`` [C-code]) once; whether that list names two-way flows
is [I], so the V2 case is run both ways.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

pytestmark = pytest.mark.usefixtures("both_transports")


def posts(sb: sandbox.Sandbox) -> list[tuple[str, str, int]]:
    return [(path, str(t), code) for method, path, t, code in sb.state.requests
            if method == "POST"]  # fmt: skip


def flow_lists(sb: sandbox.Sandbox) -> int:
    return sum(path.endswith("/flows/supported") for _, path, _, _ in sb.state.requests)


def test_a_wrong_flow_id_stops_the_run_after_its_first_answers() -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=240)) as sb:
        wrong = sb.flow_id[:-1] + ("x" if sb.flow_id[-1] != "x" else "y")
        with pytest.raises(hg.ConfigError) as caught:
            hg.launch_jobs(sb.tenants, flow_id=wrong, concurrency=8, progress=False,
                           **sb.credentials)  # fmt: skip
        sent = posts(sb)
        assert len(sent) <= 8, len(sent)  # before: 240 POSTs, every one a 404
        assert flow_lists(sb) == 1
    text = str(caught.value)
    assert f"flow {wrong!r} is not a flow of environment" in text
    assert f"did you mean {sb.flow_id!r}?" in text and "flow_id=" in text
    frame = caught.value.results  # type: ignore[attr-defined]
    assert len(frame) == 240 and hg.last_run() is frame
    counts = frame.outcome.value_counts().to_dict()
    assert counts.get("rejected", 0) == len(sent) and counts["skipped"] == 240 - len(sent)
    skipped = frame[frame.outcome == "skipped"]
    assert skipped.error.str.contains("is not a flow of environment").all()


def test_a_tenant_that_has_not_linked_the_flow_is_data_not_a_stop() -> None:
    world = sandbox.demo_world(0, tenants=12)
    tenants = list(world.tenants)
    world.tenants["stranger"] = {"flows": {}, "failures": {}}
    with sandbox.serve(world) as sb:
        out = hg.launch_jobs(["stranger", *tenants], flow_id=sb.flow_id, concurrency=1,
                             progress=False, **sb.credentials)  # fmt: skip
        assert flow_lists(sb) == 1  # the 404 came first: the list was read, the flow found
    assert out.outcome.tolist() == ["rejected"] + ["created"] * 12
    assert out.http_status.iloc[0] == 404


def test_once_a_job_of_the_flow_exists_a_404_is_never_checked() -> None:
    world = sandbox.demo_world(0, tenants=6)
    world.tenants["stranger"] = {"flows": {}, "failures": {}}
    with sandbox.serve(world) as sb:
        tenants = [*sb.tenants[:6], "stranger"]
        out = hg.launch_jobs(tenants, flow_id=sb.flow_id, concurrency=1, progress=False,
                             **sb.credentials)  # fmt: skip
        assert flow_lists(sb) == 0
    assert out.outcome.tolist()[-1] == "rejected"


def test_a_wrong_environment_stops_the_run_naming_it() -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=50)) as sb:
        creds = {**sb.credentials, "env_id": "prod.hotglue.example"}
        with pytest.raises(hg.ConfigError, match="environment 'prod.hotglue.example' was not"):
            hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, concurrency=4, progress=False,
                           **creds)  # fmt: skip
        assert len(posts(sb)) <= 4


@pytest.mark.parametrize("listed", ["all", "one_way"])
def test_a_wrong_two_way_flow_is_stopped_only_when_the_list_names_two_way_flows(
    listed: str,
) -> None:
    with sandbox.serve(wire={"supported_flows": listed}) as sb:
        pairs = list(sb.connected_tenants().items())[:6]
        frame = pd.DataFrame({"tenant": [t for t, _ in pairs],
                              "connector_id": [c for _, c in pairs]})  # fmt: skip
        options = dict(flow_id="no-such-flow", job_type="read", concurrency=1, progress=False)
        if listed == "all":
            with pytest.raises(hg.ConfigError, match="'no-such-flow' is not a flow"):
                hg.launch_jobs(frame, **options, **sb.credentials)
            assert len(posts(sb)) == 1
        else:  # the list says nothing of two-way flows: nothing is concluded from it
            out = hg.launch_jobs(frame, **options, **sb.credentials)
            assert (out.outcome == "rejected").all() and len(posts(sb)) == 6


def test_an_unreadable_flows_list_concludes_nothing() -> None:
    world = sandbox.demo_world(0, tenants=4)
    world.tenants["stranger"] = {"flows": {}, "failures": {}}
    from hotglue_nb.sandbox import _routes

    with sandbox.serve(world) as sb:  # without the list's route: API Gateway's 403 [I]
        saved = list(_routes.ROUTES)
        _routes.ROUTES[:] = [r for r in saved if r[1][-1] != "supported"]
        try:
            out = hg.launch_jobs(["stranger", *sb.tenants[:4]], flow_id=sb.flow_id,
                                 concurrency=1, progress=False, **sb.credentials)  # fmt: skip
        finally:
            _routes.ROUTES[:] = saved
    assert out.outcome.tolist() == ["rejected", "created", "created", "created", "created"]


def test_the_cli_stops_on_a_wrong_flow_writing_what_it_has(tmp_path: Path) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=40)) as sb:
        sheet = tmp_path / "tenants.csv"
        pd.DataFrame({"tenant": sb.tenants}).to_csv(sheet, index=False)
        out = tmp_path / "results.csv"
        env = {"HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
               "HOTGLUE_BASE_URL": sb.base_url, "PATH": "/usr/bin:/bin"}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "hotglue_nb", "launch", str(sheet), "--flow", "nope",
             "--out", str(out), "--concurrency", "2"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert len(posts(sb)) <= 2
    assert done.returncode == 2, done.stderr
    assert "flow 'nope' is not a flow of environment" in done.stderr
    assert "--flow" in done.stderr and "flow_id=" not in done.stderr
    assert "Traceback" not in done.stderr and sb.api_key not in done.stderr + done.stdout
    assert len(hg.read_results(out)) == 40

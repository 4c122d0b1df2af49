"""Two-way (V2) flows: the client's routing rule and errors (MockTransport), and the client
against the sandbox's /v2 endpoints over real sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

ENV, FLOW = "env.example", "flowV2"
ROOT_V2 = "t1/flows/flowV2/jobs/read/2025/02/5/28/13/tdqmb9"
ROOT_V1 = "t1/flows/flowV2/jobs/2025/02/5/28/13/x"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/linkedConnectors"):
            return httpx.Response(200, json=[{"id": "salesforce", "fieldMap": {}}])
        if request.method == "GET" and request.url.path.endswith("/jobs"):
            return httpx.Response(200, json=[])
        job = {"job_id": "j1", "s3_root": ROOT_V2, "status": "JOB_CREATED",
               "connector_id": "salesforce", "job_type": "READ"}  # fmt: skip
        return httpx.Response(200, json=job)


def client(recorder: Recorder) -> hg.Hotglue:
    return hg.Hotglue(api_key="k", env_id=ENV, transport=httpx.MockTransport(recorder))


def test_a_connector_id_makes_a_v2_job_and_the_reads_follow() -> None:
    rec = Recorder()
    with client(rec) as c:
        job = c.run_job(FLOW, "t1", connector_id="salesforce", job_type="READ",
                        override_connector_config={"sandbox": True})  # fmt: skip
        c.get_job_status(FLOW, "t1", ROOT_V2)
        c.get_job_status(FLOW, "t1", ROOT_V1)
        c.list_jobs(FLOW, "t1", connector_id="salesforce", count=20)
        c.latest_job(FLOW, "t1", connector_id="salesforce")
        c.list_jobs(FLOW, "t1", v2=True)  # v2= is kept and changes nothing
        c.latest_job(FLOW, "t1", tap="salesforce")
        connectors = c.linked_connectors(FLOW, "t1", catalog=True, connector_id="salesforce")
    assert isinstance(job, hg.Job) and job.connector_id == "salesforce" and job.job_type == "read"
    lines = [(r.method, r.url.path, dict(r.url.params)) for r in rec.requests]
    connector = {"entity_id": "salesforce", "entity_type": "connector"}
    # only the POST and linkedConnectors go under /v2, as in hotglue's own widget [C-code]
    assert lines == [
        ("POST", f"/v2/{ENV}/{FLOW}/t1/jobs", {}),
        ("GET", f"/{ENV}/{FLOW}/t1/jobs/status", {"job_root": ROOT_V2}),
        ("GET", f"/{ENV}/{FLOW}/t1/jobs/status", {"job_root": ROOT_V1}),
        ("GET", f"/{ENV}/{FLOW}/t1/jobs", {**connector, "count": "20"}),
        ("GET", f"/{ENV}/{FLOW}/t1/jobs/latest", connector),
        ("GET", f"/{ENV}/{FLOW}/t1/jobs", {}),
        ("GET", f"/{ENV}/{FLOW}/t1/jobs/latest", {**connector, "entity_type": "source"}),
        ("GET", f"/v2/{ENV}/{FLOW}/t1/linkedConnectors",
         {"catalog": "true", "connector_id": "salesforce"}),
    ]  # fmt: skip
    sent = json.loads(rec.requests[0].content)
    assert sent == {"connector_id": "salesforce", "job_type": "read",
                    "override_connector_config": {"sandbox": True}}  # fmt: skip
    assert connectors == [{"id": "salesforce", "fieldMap": {}}]


@pytest.mark.parametrize(
    ("body", "fix"),
    [
        ({"connector_id": "sf", "job_type": "read", "tap": "salesforce"}, "drop tap"),
        ({"job_type": "write"}, "add connector_id="),
        ({"connector_id": "sf"}, "needs job_type='read' or 'write'"),
        ({"connector_id": "sf", "job_type": "delete"}, "needs job_type='read' or 'write'"),
        ({"override_connector_config": {"a": 1}}, "add connector_id="),
        ({"connector_id": "sf", "job_type": "read", "bogus": 1}, "Unknown request-body field"),
    ],
    ids=[
        "tap-with-connector",
        "type-without-connector",
        "no-type",
        "bad-type",
        "v2-field-on-v1",
        "unknown",
    ],  # fmt: skip
)
def test_a_mix_of_v1_and_v2_is_refused_before_sending(body: dict[str, Any], fix: str) -> None:
    rec = Recorder()
    with client(rec) as c, pytest.raises(hg.ConfigError, match=fix.replace("(", r"\(")):
        c.run_job(FLOW, "t1", **body)
    assert rec.requests == []


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    clock = sandbox.FakeClock()
    with sandbox.serve(clock=clock, time_scale=1.0) as running:
        running.clock = clock  # type: ignore[attr-defined]
        yield running


def connected(sb: sandbox.Sandbox, index: int, *, rejecting: bool = False) -> tuple[str, str]:
    pairs = [
        (tenant, connector)
        for tenant, connector in sb.connected_tenants().items()
        if bool(sb.world.connectors(tenant, str(sb.v2_flow_id))[0]["reject_every"]) == rejecting
    ]
    return pairs[index]


def test_a_v2_read_job_on_the_sandbox_runs_to_its_end(sb: sandbox.Sandbox) -> None:
    tenant, connector = connected(sb, 0)
    flow = str(sb.v2_flow_id)
    with hg.Hotglue(**sb.credentials) as c:
        job = c.run_job(flow, tenant, connector_id=connector, job_type="read", job_name="two")
        assert isinstance(job, hg.Job)
        assert job.connector_id == connector and job.job_type == "read"
        # real V2 jobs carry a tap and a target [C]
        assert "/jobs/read/" in str(job.job_root) and job.tap == connector and job.target
        sb.clock.advance(3600)  # type: ignore[attr-defined]
        done = c.get_job_status(flow, tenant, str(job.job_root))
        assert done.status == "JOB_COMPLETED" and done.raw["metrics"]["recordCount"]
        assert done.records == sum(done.raw["metrics"]["recordCount"].values())
        listed = c.list_jobs(flow, tenant, connector_id=connector)
        assert [j.job_root for j in listed] == [job.job_root]
        assert c.latest_job(flow, tenant, connector_id=connector) == done
        assert c.list_jobs(flow, tenant, connector_id="another") == []
        old = f"{sb.base_url}/v2/{sb.env_id}/{flow}/{tenant}/jobs/status"  # no such route [I]
        answer = httpx.get(old, params={"job_root": str(job.job_root)},
                           headers={"x-api-key": sb.api_key})  # fmt: skip
        assert answer.status_code == 403
        with pytest.raises(hg.NotFoundError):
            c.linked_sources(flow, tenant)  # a two-way flow has no linked sources
        linked = c.linked_connectors(flow, tenant, catalog=True)
        assert linked[0]["id"] == connector and linked[0]["catalog"]["streams"]
        assert "reject_every" not in linked[0] and linked[0]["fieldMap"]


def test_a_write_jobs_export_summary_reflects_the_records_sent(sb: sandbox.Sandbox) -> None:
    flow = str(sb.v2_flow_id)
    records = [{"email": "a@x.io", "name": "A"}, {"email": "not-an-address"},
               {"id": "7", "email": "b@x.io"}, {"email": "c@x.io"},
               {"email": "a@x.io", "name": "A"}]  # fmt: skip
    summaries = {}
    with hg.Hotglue(**sb.credentials) as c:
        for rejecting in (False, True):
            tenant, connector = connected(sb, 1, rejecting=rejecting)
            job = c.run_job(flow, tenant, connector_id=connector, job_type="write",
                            state={"Contact": records})  # fmt: skip
            assert "/jobs/write/" in str(job.job_root)  # type: ignore[union-attr]
            sb.clock.advance(3600)  # type: ignore[attr-defined]
            done = c.get_job_status(flow, tenant, str(job.job_root))  # type: ignore[union-attr]
            # a refused record fails the export, as in the real write job file [C]
            assert done.status == "EXPORT_FAILED" and done.job_type == "write"
            assert "at least one export record failed" in str(done.message)
            assert "INVALID_EMAIL" in str(done.error)  # the cause, flattened from the object
            summaries[rejecting] = done.raw["metrics"]
    plain = summaries[False]
    assert plain["exportSummary"] == {
        "Contact": {"success": 2, "fail": 1, "existing": 1, "updated": 1}
    }
    details = plain["exportDetails"]["Contact"]  # no entry for the repeat [C-code SDK]
    assert [d["success"] for d in details] == [True, False, True, True]
    assert details[2]["id"] == "7" and "error" in details[1]
    assert plain["recordCount"] == {"Contact": 5}
    # this tenant's connector refuses every 4th record as well
    assert summaries[True]["exportSummary"]["Contact"]["fail"] == 2


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"job_type": "read"}, 400, "connector_id is required"),
        ({"connector_id": "nope", "job_type": "read"}, 400, "is not linked"),
        ({"connector_id": "CONNECTOR", "job_type": "delete"}, 400, "'read' or 'write'"),
        ({"connector_id": "CONNECTOR", "job_type": "read", "tap": "x"}, 400, "Unknown field"),
    ],
    ids=["no-connector", "unlinked", "bad-type", "tap"],
)
def test_the_sandbox_refuses_a_bad_v2_body(
    sb: sandbox.Sandbox, body: dict[str, Any], status: int, text: str
) -> None:
    tenant, connector = connected(sb, 2)
    body = {k: connector if v == "CONNECTOR" else v for k, v in body.items()}
    url = f"{sb.base_url}/v2/{sb.env_id}/{sb.v2_flow_id}/{tenant}/jobs"
    answer = httpx.post(url, json=body, headers={"x-api-key": sb.api_key})
    assert answer.status_code == status and text in answer.json()["Message"]


def test_v1_flows_are_not_found_under_v2_and_the_v1_world_is_unchanged() -> None:
    world = sandbox.demo_world(0)
    assert world.v2_flows and world.v2_flow_ids[0] not in world.flow_ids
    assert len(world.flows) == 3 and all(f.get("version", 1) == 1 for f in world.flows)
    with sandbox.serve(world) as sb:
        url = f"{sb.base_url}/v2/{sb.env_id}/{sb.flow_id}/{sb.tenants[0]}/jobs"
        answer = httpx.post(url, json={}, headers={"x-api-key": sb.api_key})
        assert answer.status_code == 404
        gone = httpx.get(url, headers={"x-api-key": sb.api_key})  # no such route [I]
        assert gone.status_code == 403 and gone.json() == {
            "message": "Missing Authentication Token"
        }


# --- launching from a frame -----------------------------------------------------------------


def mixed_frame(world: sandbox.World, v1: list[str], v2: int, job_type: str = "read") -> Any:
    import pandas as pd

    flow = world.v2_flow_ids[0]
    pairs = [(t, world.connectors(t, flow)[0]["connector_id"])  # type: ignore[index]
             for t in world.tenants if world.connectors(t, flow)][:v2]  # fmt: skip
    rows = [{"tenant": t} for t in v1]
    rows += [{"tenant": t, "flow_id": flow, "connector_id": c, "job_type": job_type}
             for t, c in pairs]  # fmt: skip
    return pd.DataFrame(rows)


def test_one_frame_launches_v1_and_v2_rows_and_waits_for_both() -> None:
    from .test_wait import OK, Rig

    rig = Rig()
    frame = mixed_frame(rig.state.world, OK[:3], 4, job_type="READ")
    out = rig.launch(frame)
    assert (out.outcome == "created").all(), out[["tenant", "outcome", "error"]]
    v2 = out.connector_id.notna()
    assert v2.sum() == 4 and (out.job_type[v2] == "read").all() and out.job_type[~v2].isna().all()
    assert out.job_root[v2].str.contains("/jobs/read/").all()
    assert not out.job_root[~v2].str.contains("/jobs/read/").any()
    posts = [path for method, path, _ in rig.transport.seen if method == "POST"]
    assert sum(p.startswith("/v2/") for p in posts) == 4 and len(posts) == 7
    done = rig.wait(out)
    assert done.finished.all() and (done.status == "JOB_COMPLETED").all()
    assert (done.connector_id.fillna("-") == out.connector_id.fillna("-")).all()


def test_a_lost_v2_answer_is_reconciled_in_the_v2_job_list() -> None:
    world = sandbox.demo_world(0)
    frame = mixed_frame(world, [], 3)
    lost = {tenant: {"lose_answer": 1.0} for tenant in frame.tenant}
    with sandbox.serve(world, faults={"*": {}, **lost}) as sb:
        out = hg.launch_jobs(frame, flow_id=sb.flow_id, progress=False, reconcile_delay=0.05,
                             **sb.credentials)  # fmt: skip
        assert (out.outcome == "created").all(), out[["outcome", "error", "message"]]
        assert out.job_root.str.contains("/jobs/read/").all()
        for tenant in frame.tenant:  # found by name in the /v2 list, never sent twice
            assert len(sb.state.store.list(str(sb.v2_flow_id), tenant)) == 1


def test_v2_rows_that_mix_versions_are_invalid_rows_with_the_fix() -> None:
    import pandas as pd

    world = sandbox.demo_world(0)
    frame = mixed_frame(world, [], 2)
    frame.loc[0, "tap"] = "salesforce"  # a V1 field on a V2 row
    extra = pd.DataFrame([{"tenant": "x", "job_type": "write"}])  # a type without connector
    both = pd.concat([frame, extra], ignore_index=True)
    out = hg.launch_jobs(both, flow_id="f", env_id=world.env_id, dry_run=True, on_invalid="skip",
                         progress=False)  # fmt: skip
    assert "drop tap" in out.error[0] and "add connector_id=" in out.error[2]
    assert (
        out.message[1]
        == f"dry run: would POST /v2/{world.env_id}/{frame.flow_id[1]}/{frame.tenant[1]}/jobs"
    )
    assert json.loads(out.request[1])["job_type"] == "read"


def test_retry_frame_keeps_the_connector_and_job_type() -> None:
    from .test_wait import Rig

    rig = Rig()
    frame = mixed_frame(rig.state.world, [], 2)
    frame.loc[1, "connector_id"] = "not-linked"  # refused by the API: a rejected row
    out = rig.launch(frame)
    assert list(out.outcome) == ["created", "rejected"] and out.http_status[1] == 400
    again = hg.retry_frame(out)
    assert list(again.connector_id) == ["not-linked"] and list(again.job_type) == ["read"]
    fixed = again.assign(connector_id=frame.connector_id[0], tenant=frame.tenant[0])
    rerun = rig.launch(fixed, ignore_parallel_jobs=True)
    assert (rerun.outcome == "created").all() and rerun.job_root.str.contains("/jobs/read/").all()


def test_a_resumed_v2_row_is_sent_again_exactly_as_recorded() -> None:
    from hotglue_nb._jobs._plan import RowPlan
    from hotglue_nb._jobs._resume import recorded_plan

    old = RowPlan.make((0, 0, 0), ("t", "f", "e"), {"job_name": "x~0"}, "/e/f/t/jobs")
    request = {"connector_id": "salesforce", "job_type": "write", "job_name": "x~0",
               "state": {"Contact": [{"email": "a@x.io"}]}}  # fmt: skip
    intent = {"env_id": "e", "flow_id": "f2", "tenant": "t", "request": request}
    plan = recorded_plan(old, intent)
    assert plan.path == "/v2/e/f2/t/jobs" and plan.v2
    assert (plan.connector_id, plan.job_type) == ("salesforce", "write")
    assert json.loads(plan.request_json) == request


# --- the fleet view on a two-way flow -------------------------------------------------------


def test_history_latest_and_the_pre_launch_check_on_a_two_way_flow() -> None:
    import pandas as pd

    world = sandbox.demo_world(0)
    flow = world.v2_flow_ids[0]
    linked = {t: world.connectors(t, flow)[0] for t in world.tenants if world.connectors(t, flow)}
    broken = next(t for t, c in linked.items() if c["disconnected"])
    healthy = [t for t, c in linked.items() if not c["disconnected"]][:3]
    chosen = [*healthy, broken]
    frame = pd.DataFrame(
        {"tenant": chosen, "connector_id": [linked[t]["connector_id"] for t in chosen]}
    )
    with sandbox.serve(world) as sb:
        hg.launch_jobs(frame.iloc[:2], flow_id=flow, job_type="read", progress=False,
                       **sb.credentials)  # fmt: skip
        history = hg.job_history(flow, frame, progress=False, **sb.credentials)
        latest = hg.latest_jobs(flow, frame, progress=False, **sb.credentials)
        check = hg.check_tenants(frame, flow, progress=False, **sb.credentials)
        v1_way = hg.job_history(flow, healthy[:1], progress=False, **sb.credentials)
    assert sorted(history.tenant) == sorted(healthy[:2])
    assert (history.job_type == "read").all() and history.connector_id.notna().all()
    assert latest.set_index("tenant").job_type[healthy[0]] == "read"
    ready = check.set_index("tenant").ready
    assert ready[healthy[2]] and not ready[broken]
    assert "disconnected" in check.set_index("tenant").reason[broken]
    assert "running" in check.set_index("tenant").reason[healthy[0]]  # its read job runs
    # a row without its connector lists the flow's jobs unfiltered: the jobs are there
    assert set(v1_way.tenant) <= {healthy[0]}


# --- the CLI, exports and resume with V2 rows -------------------------------------------------


def test_the_cli_launches_and_follows_v2_rows_from_a_spreadsheet(tmp_path: Any) -> None:
    from .test_cli import cli, creds

    world = sandbox.demo_world(0)
    frame = mixed_frame(world, ["t-0009"], 3)  # one V1 row, three V2 rows
    file = tmp_path / "tenants.csv"
    frame.to_csv(file, index=False)
    out = tmp_path / "results.csv"
    with sandbox.serve(world) as sb:
        first = world.flow_ids[0]
        launched = cli("launch", str(file), "--flow", first, "--out", str(out), env=creds(sb))
        assert launched.returncode == 0, launched.stderr
        waited = cli("wait", str(out), "--out", str(out), "--poll-interval", "0.2", env=creds(sb))
        assert waited.returncode == 0, waited.stderr
    results = hg.read_results(out)
    assert (results.outcome == "created").all() and results.finished.all()
    v2 = results.connector_id.notna()
    assert v2.sum() == 3 and (results.job_type[v2] == "read").all()
    assert results.job_root[v2].str.contains("/jobs/read/").all()
    assert hg.summarize(results).outcomes.loc["created", "count"] == 4


def test_a_resumed_run_checks_its_v2_rows_in_the_v2_job_list(tmp_path: Any) -> None:
    world = sandbox.demo_world(0)
    frame = mixed_frame(world, [], 3)
    doubtful = frame.tenant[1]
    journal = tmp_path / "run.jsonl"
    faults = {"*": {}, doubtful: {"lose_answer": 1.0, "odd_list": 1.0}}
    with sandbox.serve(world, faults=faults) as sb:
        first = hg.launch_jobs(frame, flow_id=world.flow_ids[0], progress=False, journal=journal,
                               reconcile_delay=0.05, max_attempts=1, **sb.credentials)  # fmt: skip
        assert list(first.outcome) == ["created", "unknown", "created"]
        sb.state.faults = sandbox.FaultPlan.build({})
        again = hg.launch_jobs(frame, resume=journal, progress=False, reconcile_delay=0.05,
                               api_key=sb.api_key, base_url=sb.base_url)  # fmt: skip
        assert list(again.outcome) == ["created"] * 3
        assert again.job_root.str.contains("/jobs/read/").all()
        flow = str(sb.v2_flow_id)
        assert [len(sb.state.store.list(flow, t)) for t in frame.tenant] == [1, 1, 1]


def test_defaults_serve_a_mixed_frame_v2_ones_on_v2_rows_and_tap_on_v1_rows() -> None:
    import pandas as pd

    world = sandbox.demo_world(0)
    frame = mixed_frame(world, ["t-0009"], 2).drop(columns="job_type")
    out = hg.launch_jobs(frame, flow_id=world.flow_ids[0], env_id=world.env_id, dry_run=True,
                         job_type="read", tap="salesforce", progress=False)  # fmt: skip
    bodies = [json.loads(r) for r in out.request]
    assert "job_type" not in bodies[0] and bodies[0]["tap"] == "salesforce"
    assert all(b["job_type"] == "read" and "tap" not in b for b in bodies[1:])
    assert out.error.isna().all() and isinstance(out, pd.DataFrame)


def test_an_empty_connector_id_is_refused_and_none_means_not_sent() -> None:
    rec = Recorder()
    with client(rec) as c:
        with pytest.raises(hg.ConfigError, match="connector_id is empty"):
            c.run_job(FLOW, "t1", connector_id=" ", job_type="read")
        c.run_job(FLOW, "t1", connector_id=None, job_type=None, tap="x")
    assert [r.url.path for r in rec.requests] == [f"/{ENV}/{FLOW}/t1/jobs"]


def test_latest_and_check_are_per_connector() -> None:
    world = sandbox.demo_world(0)
    flow = world.v2_flow_ids[0]
    tenant = next(t for t in world.tenants if world.connectors(t, flow))
    linked = world.connectors(tenant, flow)
    assert linked is not None
    other = "hubspot" if linked[0]["connector_id"] == "salesforce" else "salesforce"
    linked.append({**linked[0], "connector_id": other, "disconnected": False, "error": None})
    with sandbox.serve(world) as sb:
        hg.launch_jobs([tenant], flow_id=flow, connector_id=linked[0]["connector_id"],
                       job_type="read", progress=False, **sb.credentials)  # fmt: skip
        quiet = hg.latest_jobs(flow, [tenant], connector_id=other, progress=False,
                               **sb.credentials)  # fmt: skip
        busy = hg.latest_jobs(flow, [tenant], connector_id=linked[0]["connector_id"],
                              progress=False, **sb.credentials)  # fmt: skip
        check = hg.check_tenants([tenant], flow, connector_id=other, progress=False,
                                 **sb.credentials)  # fmt: skip
    assert quiet.status.isna().all() and busy.job_type.iloc[0] == "read"
    assert "running" not in str(check.reason.iloc[0])  # the other connector's job runs

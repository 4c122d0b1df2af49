from __future__ import annotations

import ast
import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from hotglue_nb import sandbox
from hotglue_nb.sandbox import FakeClock, Faults, create_app, demo_world

from .sandbox_helpers import asgi_client, response_schema, seg

WORLD = demo_world(0)
ENV, FLOW = WORLD.env_id, WORLD.flow_ids[0]
TENANTS = list(WORLD.tenants)
KEY = WORLD.api_key


class SB:
    """An in-process sandbox with a fake clock and a raw httpx client."""

    def __init__(self, **kw: Any) -> None:
        self.clock = FakeClock()
        kw.setdefault("time_scale", 1.0)
        self.app = create_app(clock=self.clock, **kw)
        self.state = self.app.state.sandbox
        self.world = self.state.world

    def call(self, method: str, path: str, key: str | None = KEY, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with asgi_client(self.app, key) as client:
                return await client.request(method, path, **kw)

        return asyncio.run(go())

    def post(self, tenant: str, body: dict[str, Any] | None = None, flow: str = FLOW) -> Any:
        return self.call("POST", f"/{ENV}/{flow}/{seg(tenant)}/jobs", json=body or {})

    def status(self, tenant: str, job_root: str, flow: str = FLOW) -> dict[str, Any]:
        r = self.call(
            "GET", f"/{ENV}/{flow}/{seg(tenant)}/jobs/status", params={"job_root": job_root}
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


def ok_tenant(i: int = 0) -> str:
    """A demo tenant without a scripted failure."""
    return [t for t in TENANTS if not WORLD.tenants[t]["failures"]][i]


# --- the world ----------------------------------------------------------------------------


def test_demo_world_shape() -> None:
    assert len(WORLD.tenants) >= 200
    assert 2 <= len(WORLD.flows) <= 3
    assert all(len(f) == 9 for f in WORLD.flow_ids)
    assert any(t.startswith("00") for t in TENANTS)
    assert any("." in t for t in TENANTS) and any("-" in t for t in TENANTS)
    sizes = {tap: len(cat["streams"]) for tap, cat in WORLD.catalogs.items()}
    assert min(sizes.values()) >= 20 and max(sizes.values()) >= 300
    stream = WORLD.catalogs["hubspot"]["streams"][0]
    assert stream["metadata"][0]["metadata"]["table-key-properties"] == ["Id"]
    auto = [m for m in stream["metadata"] if m["metadata"].get("inclusion") == "automatic"]
    assert {m["breadcrumb"][1] for m in auto} == {"Id", "LastModifiedDate"}
    assert all(WORLD.linked(t, FLOW) for t in TENANTS)
    fails = {
        WORLD.tenants[t]["failures"][FLOW]["stage"] for t in TENANTS if WORLD.tenants[t]["failures"]
    }
    assert fails == {"DISCOVER", "SYNC", "ETL", "EXPORT"}


def test_world_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    assert demo_world(0).to_json() == WORLD.to_json()
    assert demo_world(1).to_json() != WORLD.to_json()
    path = tmp_path / "world.json"
    WORLD.save(path)
    assert sandbox.World.load(path) == WORLD
    app = create_app(str(path))
    assert list(app.state.sandbox.world.tenants) == TENANTS


# --- auth and routing ----------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "wrong"])
def test_auth_required(key: str | None) -> None:
    r = SB().call("GET", f"/tenants/{ENV}", key=key)
    assert r.status_code == 401
    assert r.json() == {"Code": "UnauthorizedError", "Message": "Invalid x-api-key"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/tenants/nope.example", id="env-tenants"),
        pytest.param(f"/nope/{FLOW}/{TENANTS[0]}/jobs", id="env"),
        pytest.param(f"/{ENV}/nope00000/{TENANTS[0]}/jobs", id="flow"),
        pytest.param(f"/{ENV}/{FLOW}/nobody/jobs", id="tenant"),
    ],
)
def test_unknown_ids_are_404(path: str) -> None:
    r = SB().call("GET", path)
    assert r.status_code == 404 and r.json()["Code"] == "NotFoundError"


@pytest.mark.parametrize("key", ["right", "wrong"])
def test_an_undefined_route_is_api_gateways_403_before_the_key_is_read(key: str) -> None:
    sb = SB()
    for path in (f"/{ENV}/{FLOW}/{TENANTS[0]}/nothing", f"/v2/{ENV}/{FLOW}/{TENANTS[0]}/jobs"):
        r = sb.call("GET", path, key=KEY if key == "right" else "wrong")
        assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}
    lenient = SB(wire={"undefined_route": "404"})
    r = lenient.call("GET", f"/{ENV}/{FLOW}/{TENANTS[0]}/nothing")
    assert r.status_code == 404 and r.json()["Code"] == "NotFoundError"


def test_tenant_not_linked_to_flow_is_404() -> None:
    flow2 = WORLD.flow_ids[1]
    tenant = next(t for t in TENANTS if WORLD.linked(t, flow2) is None)
    r = SB().post(tenant, flow=flow2)
    assert r.status_code == 404 and "has not linked" in r.json()["Message"]


def test_percent_encoded_tenant_ids_route_as_one_segment() -> None:
    odd = "a/b?c#d%e f-é"
    world = demo_world(0)
    world.tenants[odd] = world.tenants[TENANTS[0]]
    sb = SB(world=world)
    r = sb.post(odd, {"job_name": "odd"})
    assert r.status_code == 200 and r.json()["tenant"] == odd
    assert sb.state.requests[-1][2] == odd


# --- launching -------------------------------------------------------------------------------


def test_create_job_matches_the_documented_schema() -> None:
    sb = SB()
    tenant = ok_tenant()
    r = sb.post(tenant, {"job_name": "rerun", "override_start_date": "2024-01-01T00:00:00.000Z"})
    assert r.status_code == 200
    job = r.json()
    jsonschema.validate(job, response_schema("200"))
    assert job["status"] == "JOB_CREATED" and job["tenant"] == tenant == job["started_by"]
    assert job["env_id"] == ENV and job["flow_id"] == FLOW
    name, _, suffix = job["job_name"].partition(":")
    assert name == "rerun" and len(suffix) == 9
    assert len(job["job_id"]) == 6
    assert job["override_start_date"] == "2024-01-01T00:00:00.000Z"  # overrides echoed


def test_s3_root_format() -> None:
    # 2022-01-19 15:30 UTC -> week 4 of January (the documented example)
    sb = SB()
    sb.clock.now = 1642606211.0
    job = sb.post(ok_tenant(), {}).json()
    tenant = ok_tenant()
    assert job["s3_root"] == f"{tenant}/flows/{FLOW}/jobs/2022/01/4/19/15/{job['job_id']}"
    assert sandbox._job.s3_root("t", "f", 1728172800.0, "x") == "t/flows/f/jobs/2024/10/1/06/00/x"


def test_auto_job_name() -> None:
    sb = SB()
    sb.clock.now = 1642606211.0
    job = sb.post(ok_tenant(), {}).json()
    assert job["job_name"] == f"{FLOW}-{job['tap']}-20220119-153011"


def test_widget_style_nested_job_name() -> None:
    job = SB().post(ok_tenant(), {"job": {"job_name": "from-widget"}}).json()
    assert job["job_name"].startswith("from-widget:")


@pytest.mark.parametrize(
    "body,field",
    [
        pytest.param({"reset_source_state": "yes"}, "reset_source_state", id="bool"),
        pytest.param({"override_start_date": "31/01/2024"}, "override_start_date", id="date"),
        pytest.param({"override_field_map": [1]}, "override_field_map", id="object"),
        pytest.param({"tap": 3}, "tap", id="string"),
        pytest.param({"overide_start_date": "2024-01-01"}, "overide_start_date", id="unknown"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(body: dict[str, Any], field: str) -> None:
    sb = SB()
    r = sb.post(ok_tenant(), body)
    assert r.status_code == 400 and r.json()["Code"] == "BadRequestError"
    assert repr(field) in r.json()["Message"]
    assert sb.state.job_count() == 0


def test_not_json_and_unlinked_tap_are_400() -> None:
    sb = SB()
    path = f"/{ENV}/{FLOW}/{seg(ok_tenant())}/jobs"
    assert sb.call("POST", path, content=b"{nope").status_code == 400
    r = sb.post(ok_tenant(), {"tap": "zendesk"})
    assert r.status_code == 400 and "not linked" in r.json()["Message"]


def test_one_active_job_per_tenant_and_flow() -> None:
    sb = SB()
    tenant = ok_tenant()
    first = sb.post(tenant).json()
    clash = sb.post(tenant)
    assert clash.status_code == 400 and "currently running" in clash.json()["Message"]
    assert sb.post(ok_tenant(1)).status_code == 200  # other tenants are not blocked
    parallel = sb.post(tenant, {"ignore_parallel_jobs": True})
    assert parallel.status_code == 200
    assert len(sb.state.jobs_for(tenant)) == 2
    sb.clock.advance(10_000)
    assert sb.status(tenant, first["s3_root"])["status"] == "JOB_COMPLETED"
    assert sb.post(tenant).status_code == 200


def test_queue_if_active_job_queues_then_starts_when_the_active_one_ends() -> None:
    sb = SB()
    tenant = ok_tenant()
    first = sb.post(tenant).json()
    r = sb.post(tenant, {"queue_if_active_job": True, "job_name": "queued"})
    assert r.status_code == 202
    jsonschema.validate(r.json(), response_schema("202"))
    assert r.json() == sandbox._routes.QUEUED
    assert len(sb.state.jobs_for(tenant)) == 1
    sb.clock.advance(10_000)
    jobs = sb.state.jobs_for(tenant)
    assert [j["job_name"].split(":")[0] for j in jobs[1:]] == ["queued"]
    first_end = datetime.fromisoformat(sb.status(tenant, first["s3_root"])["last_updated"])
    started = datetime.fromisoformat(jobs[1]["start_time"]).timestamp()
    assert abs(started - first_end.timestamp()) < 0.001


def test_queue_flag_without_a_clash_just_runs() -> None:
    assert SB().post(ok_tenant(), {"queue_if_active_job": True}).status_code == 200


# --- lifecycle ---------------------------------------------------------------------------------


def walk(sb: SB, tenant: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    job = sb.post(tenant, body).json()
    seen = [job]
    while seen[-1]["status"] not in ("JOB_COMPLETED",) and not seen[-1]["status"].endswith(
        "FAILED"
    ):
        sb.clock.advance(1)
        view = sb.status(tenant, job["s3_root"])
        if view["status"] != seen[-1]["status"]:
            seen.append(view)
    return seen


def test_lifecycle_to_completion() -> None:
    sb = SB()
    tenant = next(
        t
        for t in TENANTS
        if not WORLD.tenants[t]["failures"] and not WORLD.linked(t, FLOW)[0]["discover_on_job"]
    )
    seen = walk(sb, tenant)
    assert [v["status"] for v in seen] == [
        "JOB_CREATED", "SYNC_STARTED", "SYNC_SUCCESS", "ETL_STARTED", "ETL_SUCCESS",
        "EXPORT_STARTED", "JOB_COMPLETED",
    ]  # fmt: skip
    last = seen[-1]
    jsonschema.validate(last, response_schema("200"))
    # as real job files: only the *_STARTED stages reached, no processed_rows [C]
    assert list(last["status_timestamp"]) == ["SYNC_STARTED", "ETL_STARTED", "EXPORT_STARTED"]
    assert "processed_rows" not in last and sum(last["metrics"]["recordCount"].values()) > 0
    assert "successfully completed" in last["message"] and last["error"] is None
    start = datetime.fromisoformat(last["start_time"])
    duration = datetime.fromisoformat(last["last_updated"]) - start
    assert 90 <= duration.total_seconds() <= 310  # three minutes at time_scale=1, x 0.6-1.6


def test_discover_stage_when_enabled() -> None:
    tenant = next(
        t
        for t in TENANTS
        if not WORLD.tenants[t]["failures"] and WORLD.linked(t, FLOW)[0]["discover_on_job"]
    )
    assert "DISCOVER_STARTED" in [v["status"] for v in walk(SB(), tenant)]


def test_streaming_job_skips_etl() -> None:
    statuses = [v["status"] for v in walk(SB(), ok_tenant(), {"streaming_job": True})]
    assert not any(s.startswith("ETL") for s in statuses) and statuses[-1] == "JOB_COMPLETED"


@pytest.mark.parametrize("stage", ["DISCOVER", "SYNC", "ETL", "EXPORT"])
def test_scripted_failures(stage: str) -> None:
    tenant = next(
        t for t in TENANTS if (WORLD.tenants[t]["failures"].get(FLOW) or {}).get("stage") == stage
    )
    last = walk(SB(), tenant)[-1]
    assert last["status"] == f"{stage}_FAILED"
    # the cause in an error object, a generic message naming the job [C: real job files]
    assert last["error"] == {"message": WORLD.tenants[tenant]["failures"][FLOW]["message"]}
    assert last["job_id"] in last["message"] and "failed" in last["message"]
    assert "processed_rows" not in last


def test_default_time_scale_finishes_in_seconds() -> None:
    clock = FakeClock()
    app = create_app(clock=clock)
    job = app.state.sandbox.store.create(FLOW, ok_tenant(), {})
    assert job.end - clock.now < 5.0


# --- other endpoints ----------------------------------------------------------------------------


def test_list_latest_and_tenants() -> None:
    sb = SB()
    tenant = ok_tenant()
    base = f"/{ENV}/{FLOW}/{seg(tenant)}/jobs"
    assert sb.call("GET", base).json() == []
    assert sb.call("GET", base + "/latest").status_code == 404
    first = sb.post(tenant).json()
    second = sb.post(tenant, {"ignore_parallel_jobs": True}).json()
    assert [j["job_id"] for j in sb.call("GET", base).json()] == [second["job_id"], first["job_id"]]
    assert sb.call("GET", base + "/latest").json()["job_id"] == second["job_id"]
    assert sb.call("GET", f"/tenants/{ENV}").json() == TENANTS
    assert sb.call("GET", base + "/status").status_code == 400  # job_root missing
    r = sb.call("GET", base + "/status", params={"job_root": "nope"})
    assert r.status_code == 404


def test_linked_flows() -> None:
    tenant = TENANTS[0]
    flows = SB().call("GET", f"/{ENV}/flows/linked", params={"tenant_id": tenant}).json()
    assert [f["id"] for f in flows] == list(WORLD.tenants[tenant]["flows"])
    assert {"id", "name", "taps", "version"} <= set(flows[0])


def test_linked_sources_get_and_patch() -> None:
    sb = SB()
    tenant = ok_tenant()
    path = f"/{ENV}/{FLOW}/{seg(tenant)}/linkedSources"
    plain = sb.call("GET", path).json()
    assert "catalog" not in plain[0] and "config" not in plain[0] and "fieldMap" in plain[0]
    tap = plain[0]["tap"]
    full = sb.call("GET", path, params={"catalog": "true", "config": "true", "tap_name": tap})
    item = full.json()[0]
    assert item["catalog"]["streams"] and "selected_tables" in item["config"]
    assert sb.call("GET", path, params={"tap_name": "nope"}).json() == []
    new_map = {"Account": {"name": "Account", "selected": ["*"]}}
    assert sb.call("PATCH", path, json={"tap": tap, "field_map": new_map}).status_code == 200
    assert sb.call("GET", path).json()[0]["fieldMap"] == new_map
    assert sb.call("PATCH", path, json={"tap": "nope", "field_map": {}}).status_code == 404


# --- faults ---------------------------------------------------------------------------------------


def test_faults_off_by_default() -> None:
    sb = SB()
    assert all(sb.post(t).status_code == 200 for t in TENANTS[:50])


def test_rate_limit_token_bucket() -> None:
    sb = SB(faults={"rate_limit": 1, "burst": 3})
    codes = [sb.post(t).status_code for t in TENANTS[:6]]
    assert codes[:3] == [200, 200, 200] and set(codes[3:]) == {429}
    r = sb.post(TENANTS[10])
    assert r.headers["Retry-After"] == "1" and r.json()["Code"] == "TooManyRequestsError"


def test_locked_and_server_errors_act_before_creating() -> None:
    sb = SB(faults={"locked": 0.3, "server_error": 0.3})
    codes = [sb.post(t).status_code for t in TENANTS[:100] if not WORLD.tenants[t]["failures"]]
    assert {423, 200} <= set(codes) and set(codes) & {500, 502, 503, 504}
    assert sb.state.job_count() == codes.count(200)


def test_faults_are_deterministic_with_the_seed() -> None:
    def codes(seed: int) -> list[int]:
        sb = SB(world=demo_world(0), faults={"server_error": 0.5}, seed=seed)
        return [sb.post(t).status_code for t in TENANTS[:40]]

    assert codes(3) == codes(3)
    assert codes(3) != codes(4)


def test_faults_on_get_only_when_asked() -> None:
    path = f"/{ENV}/{FLOW}/{seg(TENANTS[0])}/jobs"
    assert SB(faults={"server_error": 1.0}).call("GET", path).status_code == 200
    assert SB(faults={"server_error": 1.0, "on_get": True}).call("GET", path).status_code >= 500


def test_per_tenant_faults() -> None:
    bad, good = ok_tenant(0), ok_tenant(1)
    sb = SB(faults={bad: {"locked": 1.0}})
    assert sb.post(bad).status_code == 423
    assert sb.post(good).status_code == 200


def test_broken_json_after_creating() -> None:
    sb = SB(faults={"broken_json": 1.0})
    r = sb.post(ok_tenant())
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert sb.state.job_count() == 1


def test_parse_faults_and_errors() -> None:
    f = sandbox.parse_faults("rate_limit=50, burst=5, on_get=true, latency=0.25")
    assert f == Faults(rate_limit=50.0, burst=5, on_get=True, latency=0.25)
    with pytest.raises(ValueError, match="unknown fault 'nope'"):
        sandbox.parse_faults("nope=1")


def test_lost_slow_and_latency_answers_over_a_real_server() -> None:
    tenant = ok_tenant()
    path = f"/{ENV}/{FLOW}/{seg(tenant)}/jobs"
    with sandbox.serve(faults={tenant: {"lose_answer": 1.0}}) as sb:
        with httpx.Client(base_url=sb.base_url, headers={"x-api-key": KEY}) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                client.post(path, json={})
        assert len(sb.state.jobs_for(tenant)) == 1  # the job exists although the answer was lost
    with sandbox.serve(faults={"slow_answer": 1.0, "slow_seconds": 2.0}) as sb:
        with httpx.Client(base_url=sb.base_url, headers={"x-api-key": KEY}, timeout=0.3) as c:
            with pytest.raises(httpx.ReadTimeout):
                c.post(path, json={})
        assert len(sb.state.jobs_for(tenant)) == 1
    with sandbox.serve(faults={"latency": 0.3}) as sb:
        with httpx.Client(base_url=sb.base_url, headers={"x-api-key": KEY}, timeout=0.1) as c:
            with pytest.raises(httpx.ReadTimeout):
                c.get(f"/tenants/{ENV}")


def test_serve_exposes_credentials_and_state() -> None:
    with sandbox.serve(seed=0) as sb:
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert sb.credentials == {"api_key": KEY, "env_id": ENV, "base_url": sb.base_url}
        assert sb.flow_id == FLOW and sb.tenants == TENANTS
        assert KEY not in repr(sb)
        r = httpx.post(
            f"{sb.base_url}/{ENV}/{FLOW}/{seg(TENANTS[0])}/jobs",
            json={},
            headers={"x-api-key": KEY},
        )
        assert r.status_code == 200
        assert sb.state.requests[-1][:2] == ("POST", f"/{ENV}/{FLOW}/{TENANTS[0]}/jobs")


# --- independence -------------------------------------------------------------------------------


def test_sandbox_imports_nothing_from_the_client_side() -> None:
    folder = Path(sandbox.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert node.level <= 1, f"{path.name} imports from outside the sandbox"
                assert not module.startswith("hotglue_nb"), f"{path.name}: {module}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("hotglue_nb") for a in node.names)


def test_sandbox_body_table_matches_the_openapi() -> None:
    import yaml

    from .sandbox_helpers import SPEC

    spec = yaml.safe_load(SPEC.read_text())
    props = spec["paths"]["/{env_id}/{flow_id}/{tenant}/jobs"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]
    assert {k: v.get("format", v["type"]) for k, v in props.items()} == sandbox._bodies.BODY_TYPES


def test_spec_copy_matches_shared() -> None:
    from .sandbox_helpers import SPEC

    shared = Path(__file__).resolve().parents[2] / "shared/spec/run-job-v1.openapi.yaml"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    assert SPEC.read_text() == shared.read_text()

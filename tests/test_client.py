from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import hotglue_nb as hg

KEY = "sk-secret-123"
ENV = "prod.hg.example.com"
JOB = {
    "job_id": "37g_DK",
    "env_id": ENV,
    "flow_id": "l8odS2mce",
    "job_name": "nightly:KWjsnRTyp",
    "tenant": "12598713",
    "started_by": "12598713",
    "s3_root": "12598713/flows/l8odS2mce/jobs/2022/01/4/19/15/37g_DK",
    "start_time": "2022-01-19T15:30:11.731333+00:00",
    "state": {},
    "tap": "chargebee",
    "status": "JOB_CREATED",
    "scheduled_job": False,
    "message": "...",
    "last_updated": "2022-01-19T15:35:13.982380+00:00",
    "processed_rows": 0,
    "metrics": {"recordCount": {}},
}


class Recorder:
    """A MockTransport handler that records requests and answers from a queue."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else httpx.Response(200, json=JOB)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(recorder: Recorder, **kw: Any) -> hg.AsyncHotglue:
    return hg.AsyncHotglue(api_key=KEY, env_id=ENV, transport=httpx.MockTransport(recorder), **kw)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- endpoints -------------------------------------------------------------------------


def test_run_job_request_and_parsing() -> None:
    rec = Recorder()

    async def go() -> Any:
        async with client(rec) as c:
            return await c.run_job(
                "l8odS2mce", "12598713", job_name="nightly", override_start_date="2024-01-31"
            )

    job = run(go())
    req = rec.requests[0]
    assert req.method == "POST"
    assert req.url.raw_path == b"/prod.hg.example.com/l8odS2mce/12598713/jobs"
    assert req.url.host == "api.hotglue.com"
    assert req.headers["x-api-key"] == KEY
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.content) == {
        "job_name": "nightly",
        "override_start_date": "2024-01-31T00:00:00.000Z",
    }
    assert isinstance(job, hg.Job)
    assert job.job_root == JOB["s3_root"]
    assert job.status == "JOB_CREATED" and job.processed_rows == 0
    assert job.raw["metrics"] == {"recordCount": {}}


def test_run_job_202_is_queued() -> None:
    body = {"message": "Job has been queued. It will run when available", "reason": "busy"}
    rec = Recorder(httpx.Response(202, json=body))
    queued = run(client(rec).run_job("f", "t", queue_if_active_job=True))
    assert isinstance(queued, hg.QueuedJob)
    assert queued.reason == "busy" and queued.message.startswith("Job has been queued")
    assert json.loads(rec.requests[0].content) == {"queue_if_active_job": True}


def test_get_job_status() -> None:
    rec = Recorder(httpx.Response(200, json={**JOB, "flow": "l8odS2mce", "flow_id": None}))
    job = run(client(rec).get_job_status("l8odS2mce", "12598713", JOB["s3_root"]))
    req = rec.requests[0]
    assert req.method == "GET"
    assert req.url.path == "/prod.hg.example.com/l8odS2mce/12598713/jobs/status"
    assert req.url.params["job_root"] == JOB["s3_root"]
    assert job.flow_id == "l8odS2mce"


def test_list_jobs_and_tenants_and_linked_sources() -> None:
    rec = Recorder(
        httpx.Response(200, json=[JOB, {"job_id": "x"}]),
        httpx.Response(200, json=["a", "b", 7]),
        httpx.Response(200, json=[{"tap": "salesforce", "fieldMap": {}}]),
    )

    async def go() -> Any:
        async with client(rec) as c:
            return (
                await c.list_jobs("f", "t"),
                await c.list_tenants(),
                await c.linked_sources("f", "t", catalog=True, tap="salesforce"),
            )

    jobs, tenants, sources = run(go())
    assert [j.job_id for j in jobs] == ["37g_DK", "x"]
    assert tenants == ["a", "b", "7"]
    assert sources == [{"tap": "salesforce", "fieldMap": {}}]
    paths = [(r.method, r.url.path, dict(r.url.params)) for r in rec.requests]
    assert paths == [
        ("GET", "/prod.hg.example.com/f/t/jobs", {}),
        ("GET", "/tenants/prod.hg.example.com", {}),
        (
            "GET",
            "/prod.hg.example.com/f/t/linkedSources",
            {"catalog": "true", "tap_name": "salesforce"},
        ),
    ]


def test_linked_sources_without_catalog_sends_no_params() -> None:
    rec = Recorder(httpx.Response(200, json=[]))
    assert run(client(rec).linked_sources("f", "t")) == []
    assert rec.requests[0].url.query == b""


def test_legacy_job_id_only_answer() -> None:
    job = run(client(Recorder(httpx.Response(200, json={"job_id": "kIhYt"}))).run_job("f", "t"))
    assert job == hg.Job(job_id="kIhYt")
    assert job.job_root is None and not job.is_terminal


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,cls",
    [
        pytest.param(400, hg.BadRequestError, id="400"),
        pytest.param(401, hg.AuthenticationError, id="401"),
        pytest.param(403, hg.AuthenticationError, id="403"),
        pytest.param(404, hg.NotFoundError, id="404"),
        pytest.param(409, hg.ConflictError, id="409"),
        pytest.param(418, hg.APIStatusError, id="418-generic"),
        pytest.param(423, hg.LockedError, id="423"),
        pytest.param(429, hg.RateLimitError, id="429"),
        pytest.param(500, hg.ServerError, id="500"),
        pytest.param(503, hg.ServerError, id="503"),
    ],
)
def test_status_mapping(status: int, cls: type[Exception]) -> None:
    body = {"Code": "SomeError", "Message": "ChaliceViewError: it broke"}
    rec = Recorder(httpx.Response(status, json=body, headers={"retry-after": "2"}))
    with pytest.raises(cls) as info:
        run(client(rec).run_job("flow1", "acme"))
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, hg.APIStatusError) and isinstance(exc, hg.HotglueError)
    assert exc.status_code == status and exc.code == "SomeError"
    assert exc.api_message == "it broke" and exc.retry_after == 2.0
    text = str(exc)
    assert text.startswith(f"POST /{ENV}/flow1/acme/jobs -> {status}")
    hint = " (check the API key: api_key= or HOTGLUE_API_KEY, and its access to this env)"
    assert "tenant='acme'" in text
    assert text.endswith(": it broke" + (hint if status in (401, 403) else ""))
    assert KEY not in text and KEY not in repr(exc)


def test_non_json_error_body_kept_as_text() -> None:
    rec = Recorder(httpx.Response(400, text="<html>Bad Request</html>"))
    with pytest.raises(hg.BadRequestError) as info:
        run(client(rec).list_jobs("f", "t"))
    assert info.value.body == "<html>Bad Request</html>"
    assert info.value.api_message == "<html>Bad Request</html>"


def test_api_gateway_lowercase_message() -> None:
    rec = Recorder(httpx.Response(403, json={"message": "Forbidden"}))
    with pytest.raises(hg.AuthenticationError, match="Forbidden"):
        run(client(rec).list_tenants())


def test_unreadable_success_body() -> None:
    rec = Recorder(httpx.Response(200, text='{"job_id": "ab'))
    with pytest.raises(hg.APIResponseError) as info:
        run(client(rec).run_job("f", "t"))
    assert info.value.status_code == 200


@pytest.mark.parametrize(
    "error,cls,maybe_sent",
    [
        pytest.param(httpx.ConnectError("refused"), hg.APIConnectionError, False, id="connect"),
        pytest.param(httpx.ConnectTimeout("slow"), hg.APITimeoutError, False, id="connect-to"),
        pytest.param(httpx.ReadTimeout("slow"), hg.APITimeoutError, True, id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("drop"), hg.APIConnectionError, True, id="drop"),
    ],
)
def test_transport_errors(error: Exception, cls: type[Exception], maybe_sent: bool) -> None:
    with pytest.raises(cls) as info:
        run(client(Recorder(error)).run_job("f", "t"))
    assert type(info.value) is cls
    assert info.value.maybe_sent is maybe_sent
    assert info.value.__cause__ is None and info.value.__context__ is None  # no key inside
    assert type(error).__name__ in str(info.value) and KEY not in str(info.value)


# --- body validation ------------------------------------------------------------------------


def test_unknown_field_names_the_closest() -> None:
    with pytest.raises(hg.ConfigError, match="Did you mean 'override_start_date'"):
        run(client(Recorder()).run_job("f", "t", overide_start_date="2024-01-01"))


@pytest.mark.parametrize(
    "value,expected",
    [
        pytest.param("2024-01-31", "2024-01-31T00:00:00.000Z", id="iso-date"),
        pytest.param("2024-01-31T10:00:00Z", "2024-01-31T10:00:00.000Z", id="iso-z"),
        pytest.param("2024-01-31T12:00:00+02:00", "2024-01-31T10:00:00.000Z", id="iso-offset"),
        pytest.param("2024-01-31T10:00:00.123456", "2024-01-31T10:00:00.123Z", id="micro"),
    ],
)
def test_date_strings(value: str, expected: str) -> None:
    assert hg._endpoints.build_body({"override_end_date": value}) == {"override_end_date": expected}


def test_date_objects() -> None:
    import datetime as dt

    import pandas as pd

    build = hg._endpoints.build_body
    assert build({"override_start_date": dt.date(2024, 2, 1)})["override_start_date"] == (
        "2024-02-01T00:00:00.000Z"
    )
    aware = dt.datetime(2024, 2, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    assert build({"override_start_date": aware})["override_start_date"] == (
        "2024-02-01T00:00:00.000Z"
    )
    stamp = pd.Timestamp("2024-02-01 08:30", tz="UTC")
    assert build({"override_start_date": stamp})["override_start_date"] == (
        "2024-02-01T08:30:00.000Z"
    )
    with pytest.raises(hg.ConfigError, match="NaT"):
        build({"override_start_date": pd.NaT})


@pytest.mark.parametrize(
    "fields,match",
    [
        pytest.param({"override_start_date": "31/01/2024"}, "not an ISO-8601", id="bad-date"),
        pytest.param({"override_start_date": 20240131}, "must be a datetime", id="int-date"),
        pytest.param({"reset_source_state": "true"}, "True or False", id="str-bool"),
        pytest.param({"streaming_job": 1}, "True or False", id="int-bool"),
        pytest.param({"tap": 5}, "must be a string", id="int-tap"),
        pytest.param({"state": "{not json"}, "not valid JSON", id="bad-json"),
        pytest.param({"override_field_map": "[1, 2]"}, "JSON object", id="json-list"),
        pytest.param({"environment_variables": ["A"]}, "dict or a JSON", id="list-obj"),
    ],
)
def test_bad_field_values(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(hg.ConfigError, match=match):
        hg._endpoints.build_body(fields)


def test_object_fields_accept_dicts_and_json_and_drop_none() -> None:
    body = hg._endpoints.build_body(
        {
            "override_field_map": '{"Account": {"name": "Account", "selected": ["*"]}}',
            "override_selected_tables": {"Vendors": True},
            "tap": None,
        }
    )
    assert body == {
        "override_field_map": {"Account": {"name": "Account", "selected": ["*"]}},
        "override_selected_tables": {"Vendors": True},
    }


def test_body_fields_match_the_openapi() -> None:
    yaml = pytest.importorskip("yaml")
    from pathlib import Path

    spec_path = Path(__file__).resolve().parents[2] / "shared/spec/run-job-v1.openapi.yaml"
    if not spec_path.exists():
        pytest.skip("../shared/spec is not beside this checkout")
    spec = yaml.safe_load(spec_path.read_text())
    props = spec["paths"]["/{env_id}/{flow_id}/{tenant}/jobs"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]
    kinds = {k: v.get("format", v["type"]) for k, v in props.items()}
    assert kinds == hg.BODY_FIELDS


# --- path safety ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tenant,encoded",
    [
        pytest.param("a/b", "a%2Fb", id="slash"),
        pytest.param("x?y#z", "x%3Fy%23z", id="query-fragment"),
        pytest.param("100%", "100%25", id="percent"),
        pytest.param("acme corp", "acme%20corp", id="space"),
        pytest.param("café-ü", "caf%C3%A9-%C3%BC", id="non-ascii"),
        pytest.param("../x", "..%2Fx", id="dotdot-prefix"),
        pytest.param("0012598713", "0012598713", id="leading-zeros"),
    ],
)
def test_ids_are_single_segments(tenant: str, encoded: str) -> None:
    rec = Recorder()
    run(client(rec).run_job("fl/ow", tenant))
    assert rec.requests[0].url.raw_path == f"/{ENV}/fl%2Fow/{encoded}/jobs".encode()


@pytest.mark.parametrize("bad", ["", ".", "..", " acme", None, 1.5, True])
def test_unsafe_ids_refused_before_any_request(bad: Any) -> None:
    rec = Recorder()
    with pytest.raises(hg.ConfigError):
        run(client(rec).run_job("flow", bad))
    with pytest.raises(hg.ConfigError):
        run(client(rec).list_jobs(bad, "t"))
    assert rec.requests == []


def test_env_id_is_encoded_too() -> None:
    rec = Recorder(httpx.Response(200, json=[]))
    c = hg.AsyncHotglue(api_key=KEY, env_id="a/b", transport=httpx.MockTransport(rec))
    run(c.list_tenants())
    assert rec.requests[0].url.raw_path == b"/tenants/a%2Fb"


def test_bad_job_root() -> None:
    with pytest.raises(hg.ConfigError, match="job_root"):
        run(client(Recorder()).get_job_status("f", "t", ""))


# --- config -------------------------------------------------------------------------------------


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTGLUE_API_KEY", KEY)
    monkeypatch.setenv("HOTGLUE_ENV_ID", ENV)
    c = hg.AsyncHotglue()
    assert (c.env_id, c.base_url) == (ENV, "https://api.hotglue.com")
    monkeypatch.setenv("HOTGLUE_BASE_URL", "http://127.0.0.1:8000/")
    assert hg.AsyncHotglue().base_url == "http://127.0.0.1:8000"
    assert hg.AsyncHotglue(env_id="other").env_id == "other"


@pytest.mark.parametrize(
    "kwargs,var",
    [
        pytest.param({"env_id": ENV}, "HOTGLUE_API_KEY", id="no-key"),
        pytest.param({"api_key": KEY}, "HOTGLUE_ENV_ID", id="no-env"),
        pytest.param({"api_key": "  ", "env_id": ENV}, "HOTGLUE_API_KEY", id="blank-key"),
    ],
)
def test_missing_config_names_the_variable(kwargs: dict[str, str], var: str) -> None:
    with pytest.raises(hg.ConfigError, match=var):
        hg.AsyncHotglue(**kwargs)


@pytest.mark.parametrize(
    "url,ok",
    [
        pytest.param("https://api.hotglue.com", True, id="https"),
        pytest.param("https://client-api.hotglue.xyz/", True, id="xyz"),
        pytest.param("http://127.0.0.1:5002", True, id="loopback"),
        pytest.param("http://localhost:5002", True, id="localhost"),
        pytest.param("http://[::1]:5002", True, id="ipv6-loopback"),
        pytest.param("http://api.hotglue.com", False, id="plain-http"),
        pytest.param("http://10.0.0.1", False, id="plain-http-private"),
        pytest.param("ftp://x", False, id="ftp"),
        pytest.param("api.hotglue.com", False, id="no-scheme"),
    ],
)
def test_base_url_rules(url: str, ok: bool) -> None:
    if ok:
        hg.AsyncHotglue(api_key=KEY, env_id=ENV, base_url=url)
    else:
        with pytest.raises(hg.ConfigError, match="base_url"):
            hg.AsyncHotglue(api_key=KEY, env_id=ENV, base_url=url)


def test_key_is_masked_everywhere() -> None:
    c = hg.Hotglue(api_key=KEY, env_id=ENV)
    for text in (repr(c), str(c), repr(c.aio), repr(c.credentials), str(c.credentials)):
        assert KEY not in text
        assert "********" in text


# --- the blocking client ----------------------------------------------------------------------


def test_blocking_client_in_a_script() -> None:
    rec = Recorder(httpx.Response(200, json=["t1"]), httpx.Response(200, json=[JOB]))
    with hg.Hotglue(api_key=KEY, env_id=ENV, transport=httpx.MockTransport(rec)) as c:
        assert c.list_tenants() == ["t1"]
        assert c.list_jobs("f", "t1")[0].job_id == "37g_DK"


def test_blocking_client_inside_a_running_loop() -> None:
    """What a Jupyter cell does: call the sync API while the thread runs an event loop."""
    rec = Recorder(*[httpx.Response(200, json=JOB) for _ in range(20)])
    c = hg.Hotglue(api_key=KEY, env_id=ENV, transport=httpx.MockTransport(rec))

    async def cell() -> list[Any]:
        asyncio.get_running_loop()  # we are inside a loop, like ipykernel
        return [c.run_job("f", f"t{i}") for i in range(20)]

    jobs = asyncio.run(cell())
    assert len(jobs) == 20 and all(isinstance(j, hg.Job) for j in jobs)
    c.close()


def test_blocking_client_errors_propagate() -> None:
    rec = Recorder(httpx.Response(401, json={"Code": "UnauthorizedError", "Message": "Invalid"}))
    c = hg.Hotglue(api_key=KEY, env_id=ENV, transport=httpx.MockTransport(rec))
    with pytest.raises(hg.AuthenticationError, match="Invalid"):
        c.list_tenants()


def test_status_rules() -> None:
    assert hg.is_terminal("JOB_COMPLETED") and not hg.is_failed("JOB_COMPLETED")
    assert hg.is_terminal("SYNC_FAILED") and hg.is_failed("SYNC_FAILED")
    assert hg.is_failed("JOB_FAILED")  # outside the documented enum [I]
    assert not hg.is_terminal("ETL_STARTED") and not hg.is_terminal(None)


# --- retries of GETs, siblings, the endpoint table -----------------------------------------------


def fake_sleeps() -> tuple[list[float], Any]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return slept, sleep


def test_gets_are_retried_with_jittered_backoff_and_retry_after() -> None:
    slept, sleep = fake_sleeps()
    rec = Recorder(
        httpx.Response(500, json={"Message": "x"}),
        httpx.ConnectError("refused"),
        httpx.Response(200, json=[JOB]),
    )
    jobs = run(client(rec, sleep=sleep).list_jobs("f", "t"))
    assert jobs[0].job_id == "37g_DK" and len(rec.requests) == 3
    assert 0.375 <= slept[0] <= 0.5 and 0.75 <= slept[1] <= 1.0  # exponential, jittered
    slept.clear()
    when = "Wed, 21 Oct 2099 07:28:00 GMT"  # an HTTP-date far away: capped
    rec = Recorder(
        httpx.Response(429, headers={"retry-after": "2"}),
        httpx.Response(503, headers={"retry-after": when}),
        httpx.Response(200, json=["t1"]),
    )
    assert run(client(rec, sleep=sleep).list_tenants()) == ["t1"]
    assert slept == [2.0, 60.0]


def test_retries_end_and_only_transient_failures_are_retried() -> None:
    slept, sleep = fake_sleeps()
    rec = Recorder(*[httpx.Response(502) for _ in range(5)])
    with pytest.raises(hg.ServerError):
        run(client(rec, sleep=sleep, max_retries=1).list_jobs("f", "t"))
    assert len(rec.requests) == 2
    rec = Recorder(httpx.Response(404, json={"Message": "Tenant 't' not found"}))
    with pytest.raises(hg.NotFoundError):
        run(client(rec, sleep=sleep).list_jobs("f", "t"))
    assert len(rec.requests) == 1


def test_a_post_is_never_retried_by_the_client() -> None:
    slept, sleep = fake_sleeps()
    for failure in (httpx.Response(503), httpx.ReadTimeout("lost"), httpx.ConnectError("no")):
        rec = Recorder(failure)
        with pytest.raises(hg.APIError):
            run(client(rec, sleep=sleep).run_job("f", "t"))
        assert len(rec.requests) == 1
    assert slept == []


def test_the_blocking_client_retries_too() -> None:
    rec = Recorder(httpx.Response(500), httpx.Response(200, json=[JOB]))
    slept, sleep = fake_sleeps()
    with hg.Hotglue(api_key=KEY, env_id=ENV, transport=httpx.MockTransport(rec), sleep=sleep) as c:
        assert len(c.list_jobs("f", "t")) == 1
    assert len(rec.requests) == 2 and len(slept) == 1


def test_with_options_shares_the_pool_and_leaves_the_original_alone() -> None:
    rec = Recorder(*[httpx.Response(200, json=[]) for _ in range(4)])
    root = client(rec)

    async def go() -> None:
        other = root.with_options(env_id="other.env", max_retries=0, timeout=3)
        await root.list_tenants()
        await other.list_tenants()
        assert root._pool.get() is other._pool.get()  # one connection pool
        await other.aclose()  # a sibling never closes a pool it does not own
        assert not root._pool.get().is_closed
        bigger = root.with_options(max_connections=500)
        assert bigger._pool is not root._pool
        await bigger.list_tenants()
        await bigger.aclose()
        assert not root._pool.get().is_closed
        await root.aclose()

    run(go())
    assert [r.url.raw_path for r in rec.requests[:2]] == [b"/tenants/" + ENV.encode(),
                                                         b"/tenants/other.env"]  # fmt: skip
    assert root.env_id == ENV and root.max_retries == 2
    assert rec.requests[1].extensions["timeout"]["read"] == 3
    with pytest.raises(hg.ConfigError):
        root.with_options(env_id="..")
    sync = hg.Hotglue(api_key=KEY, env_id=ENV).with_options(env_id="e2")
    assert sync.env_id == "e2"


def test_a_paced_sibling_waits_for_the_pace_and_reports_throttles() -> None:
    from hotglue_nb._client._pacing import Pacer

    from .fake_time import FakeTime

    ft = FakeTime(0.0)
    pacer = Pacer(2.0, clock=ft, sleep=ft.sleep)  # 2 requests/second for the whole run
    throttle = httpx.Response(429, headers={"retry-after": "4"})
    ok = [httpx.Response(200, json=[]) for _ in range(7)]
    rec = Recorder(*ok[:3], throttle, throttle, throttle, *ok[3:])
    paced = client(rec).with_options(pacer=pacer, sleep=ft.sleep)

    async def go() -> list[float]:
        stamps = []
        for _ in range(3):
            await paced.list_tenants()
            stamps.append(ft.now)
        calls = [paced.list_tenants() for _ in range(3)]
        await asyncio.gather(*calls)  # three 429s at once: a burst, then each is retried
        stamps.append(ft.now)
        return stamps

    stamps = run(go())
    assert stamps[:3] == [0.0, 0.5, 1.0]  # spaced by the run's rate
    assert pacer.pauses == 1 and pacer.rate < 2.0  # the burst paused the run, slowed its pace
    assert stamps[3] >= 1.5 + 4.0  # the retries waited for the shared pause
    assert len(rec.requests) == 9


def test_latest_job() -> None:
    rec = Recorder(
        httpx.Response(200, json=JOB),
        httpx.Response(404, json={"Code": "NotFoundError", "Message": "No jobs found"}),
        httpx.Response(200, json=None),
        httpx.Response(404, json={"Code": "NotFoundError", "Message": "Tenant 'x' not found"}),
    )
    c = client(rec)
    assert run(c.latest_job("f", "t")).job_id == "37g_DK"
    assert rec.requests[0].url.path == f"/{ENV}/f/t/jobs/latest"
    assert run(c.latest_job("f", "t")) is None
    assert run(c.latest_job("f", "t")) is None
    with pytest.raises(hg.NotFoundError):
        run(c.latest_job("f", "x"))


def test_the_endpoint_table_is_the_single_source() -> None:
    from hotglue_nb._endpoints import ENDPOINTS, BodyOptions
    from hotglue_nb._options import LaunchOptions

    assert ENDPOINTS["run_job"].body is hg.BODY_FIELDS
    assert set(BodyOptions.__annotations__) == set(hg.BODY_FIELDS)
    assert set(hg.BODY_FIELDS) <= set(LaunchOptions.__annotations__)
    for name, endpoint in ENDPOINTS.items():  # a V2 endpoint is served by its V1 method
        method = name.removesuffix("_v2")
        assert callable(getattr(hg.AsyncHotglue, method)) and callable(getattr(hg.Hotglue, method))
        assert endpoint.method in ("GET", "POST", "PUT", "DELETE")
        assert endpoint.path[0] == "v2" or not name.endswith("_v2")
    url = ENDPOINTS["get_job_status"].url(env_id="e", flow_id="f/1", tenant="a b")
    assert url == "/e/f%2F1/a%20b/jobs/status"

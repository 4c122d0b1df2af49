"""hotglue's wire as its own client code and real job files show it (wire-evidence.md), on
the sandbox's strict stage (V2 reads un-prefixed, API Gateway's 403 for undefined routes,
job lists capped at 5 newest first, connectors keyed ``id``, real-shaped jobs), and the client
under each setting of the switches whose evidence is only inferred [I]."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb._client._runner import run_sync

WORLD = sandbox.demo_world(0)
V1, V2 = WORLD.flow_ids[0], WORLD.v2_flow_ids[0]
#: tenants with a healthy connector in the two-way flow, and their connectors
LINKED = {
    t: c[0]["connector_id"]
    for t in WORLD.tenants
    if (c := WORLD.connectors(t, V2)) and not c[0]["disconnected"]
}
CLEAN = [t for t in WORLD.tenants if not WORLD.tenants[t]["failures"]]


@pytest.fixture
def strict() -> Iterator[sandbox.Sandbox]:
    with sandbox.serve(WORLD, time_scale=0.002) as sb:
        yield sb


def v2_paths(sb: sandbox.Sandbox) -> list[tuple[str, str, int]]:
    return [(m, p, s) for m, p, _, s in sb.state.requests if p.startswith("/v2/")]


# --- routes -----------------------------------------------------------------------------------


def test_a_mixed_launch_finishes_every_row_and_sends_no_v2_job_get(strict: Any) -> None:
    v2 = list(LINKED.items())[:3]
    rows = [{"tenant": t} for t in CLEAN[:3]]
    rows += [{"tenant": t, "flow_id": V2, "connector_id": c, "job_type": "read"} for t, c in v2]
    out = hg.launch_jobs(pd.DataFrame(rows), flow_id=V1, wait=True, poll_interval=0.05,
                         max_poll_interval=0.2, progress=False, **strict.credentials)  # fmt: skip
    assert out.finished.all() and (out.status == "JOB_COMPLETED").all(), out[["status", "error"]]
    assert all(m == "POST" and p.endswith("/jobs") for m, p, _ in v2_paths(strict))
    assert not [r for r in strict.state.requests if r[3] == 403]
    assert (out.processed_rows > 0).all()  # from metrics.recordCount: real jobs have no rows


def test_the_connector_form_loads_from_id_keyed_links_with_their_saved_selection(
    strict: Any,
) -> None:
    tenant, connector = next(iter(LINKED.items()))
    with hg.Hotglue(**strict.credentials) as client:
        links = client.linked_connectors(V2, tenant, config=True)
        form = hg.widgets.OverridesForm.from_api(client, V2, tenant, connector_id=connector)
    assert links[0]["id"] == connector and "connector_id" not in links[0]
    saved = WORLD.connectors(tenant, V2)[0]["config"]["selected_tables"]  # type: ignore[index]
    assert links[0]["config"]["selected_tables"] == saved
    assert form.value["override_selected_tables"] == {k: True for k, v in saved.items() if v}


def writes_and_v2(request: httpx.Request) -> bool:
    return request.method != "GET" or request.url.path.startswith("/v2/")


def gateway(status: int, body: dict[str, Any], refused: Any = writes_and_v2) -> hg.Hotglue:
    """A client on a server that answers the ``refused`` requests with ``status``/``body``
    and every other one with an empty list."""

    def answer(request: httpx.Request) -> httpx.Response:
        if refused(request):
            return httpx.Response(status, json=body)
        return httpx.Response(200, json=[])

    return hg.Hotglue(api_key="secret-key", env_id="env", transport=httpx.MockTransport(answer))


def test_missing_authentication_token_is_a_route_error_not_the_key() -> None:
    with gateway(403, {"message": "Missing Authentication Token"}) as client:
        ep = hg._endpoints.Endpoint("gone", "GET", ("v2", "{env_id}", "{flow_id}", "{tenant}",
                                    "jobs"))  # fmt: skip
        with pytest.raises(hg.RouteError) as info:
            run_sync(client.aio._call(ep, "f", "t"))
    text = str(info.value)
    assert "GET /v2/env/f/t/jobs" in text and "not a key problem" in text
    assert "check the API key" not in text and "secret-key" not in text
    assert hg._client._retry.decide(info.value) == "reject"  # never a run-wide abort


def test_a_403_on_one_read_while_others_answer_is_the_route_and_a_401_is_the_key() -> None:
    status_too = lambda r: writes_and_v2(r) or r.url.path.endswith("/status")  # noqa: E731
    with gateway(403, {"message": "Forbidden"}, status_too) as client:
        client.list_jobs("f", "t")  # a read works
        with pytest.raises(hg.RouteError, match="other calls with this key were answered"):
            client.get_job_status("f", "t", "t/flows/f/jobs/2025/01/1/01/00/x")
        ep = hg._endpoints.Endpoint("gone", "GET", ("v2", "{env_id}", "{flow_id}", "{tenant}"))
        with pytest.raises(hg.RouteError):
            run_sync(client.aio._call(ep, "f", "t"))
    refused = {"Code": "UnauthorizedError", "Message": "Invalid x-api-key"}
    with gateway(401, refused, lambda r: True) as client:
        with pytest.raises(hg.AuthenticationError, match="check the API key") as info:
            client.list_jobs("f", "t")
    assert hg._client._retry.decide(info.value) == "abort"
    with gateway(403, refused, lambda r: True) as client:  # hotglue's own body: the key
        with pytest.raises(hg.AuthenticationError, match="check the API key"):
            client.list_jobs("f", "t")


def test_a_refused_write_while_reads_work_says_the_key_may_be_read_only() -> None:
    with gateway(403, {"message": "Forbidden"}) as client:
        client.list_jobs("f", "t")
        with pytest.raises(hg.AuthenticationError, match="may lack write permission") as info:
            client.run_job("f", "t")
    assert hg._client._retry.decide(info.value) == "abort"  # every other row would fail too
    with gateway(403, {"message": "Forbidden"}, lambda r: True) as client:  # nothing worked
        with pytest.raises(hg.AuthenticationError, match="check the API key"):
            client.run_job("f", "t")


def test_a_route_error_while_waiting_ends_that_row_only() -> None:
    root = "{t}/flows/f/jobs/2025/01/1/01/00/{t}"

    def answer(request: httpx.Request) -> httpx.Response:
        tenant = request.url.path.split("/")[3]
        if request.method == "POST":
            return httpx.Response(200, json={"s3_root": root.format(t=tenant), "job_id": tenant,
                                             "status": "JOB_CREATED"})  # fmt: skip
        if tenant == "t2":
            return httpx.Response(403, json={"message": "Missing Authentication Token"})
        return httpx.Response(200, json={"s3_root": root.format(t=tenant), "job_id": tenant,
                                         "status": "JOB_COMPLETED"})  # fmt: skip

    client = hg.Hotglue(api_key="k", env_id="env", transport=httpx.MockTransport(answer))
    out = hg.launch_jobs(["t1", "t2", "t3"], flow_id="f", wait=True, poll_interval=0.01,
                         client=client, progress=False)  # fmt: skip
    by = out.set_index("tenant")
    assert by.finished["t1"] and by.finished["t3"]  # the run was not stopped
    assert "RouteError" in by.error["t2"] and "refused the key" not in by.error["t2"]


# --- capped lists -----------------------------------------------------------------------------


def history_on(wire: dict[str, Any], count: int | None = None) -> pd.DataFrame:
    clock = sandbox.FakeClock()
    app = sandbox.create_app(WORLD, clock=clock, history_days=30, wire=wire)
    client = hg.AsyncHotglue(api_key=WORLD.api_key, env_id=WORLD.env_id, base_url="http://127.0.0.1",
                             transport=httpx.ASGITransport(app=app))  # fmt: skip
    tenants = list(WORLD.tenants)[:12]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = hg.job_history(V1, tenants, count=count, client=client, progress=False)
    frame.attrs["warnings"] = [str(w.message) for w in caught]
    return frame


@pytest.mark.parametrize(
    ("wire", "count", "complete"),
    [
        ({}, None, False),  # capped at 5, newest first: every tenant possibly cut short
        ({}, 100, False),  # count ignored [I]: still 5
        ({"honour_count": True}, 100, True),  # count honoured: 30 < 100, whole
        ({"list_cap": None}, 100, True),  # uncapped, count ignored: 30 < 100, whole
        ({"list_cap": None}, None, False),  # uncapped, nothing asked: 30 may be a cap
        ({"list_order": "oldest"}, None, False),  # capped, oldest first
    ],
    ids=["strict", "count-ignored", "count-honoured", "uncapped", "uncapped-no-count", "oldest"],
)
def test_job_history_marks_lists_that_may_be_cut_short(
    wire: dict[str, Any], count: int | None, complete: bool
) -> None:
    frame = history_on(wire, count)
    dormant = [t for t in frame.tenant.unique()
               if WORLD.tenants[t]["history"][V1]["profile"] == "dormant"]  # fmt: skip
    busy = frame[~frame.tenant.isin(dormant)]
    assert busy.history_complete.eq(complete).all()
    cut = frame.loc[~frame.history_complete.astype(bool), "tenant"].nunique()
    assert cut >= (0 if complete else busy.tenant.nunique())
    assert len(frame.attrs["warnings"]) == (1 if cut else 0)
    if cut:
        assert f"{cut} of 12 tenants" in frame.attrs["warnings"][0]
    health = hg.fleet_health(frame, now=frame.start_time.max())
    assert health.set_index("tenant").history_complete[busy.tenant.unique()].eq(complete).all()
    if wire.get("list_cap", 5) == 5 and not wire.get("honour_count"):
        assert frame.groupby("tenant").size().max() == 5
        latest = frame.groupby("tenant").start_time.max()
        assert latest.notna().all()


def test_since_reaching_past_a_capped_list_is_whole() -> None:
    frame = history_on({}, None)
    newest = frame.start_time.max()
    window = frame[frame.start_time >= newest - pd.Timedelta("2D")]
    assert len(window)  # a capped list that reaches before `since` covers the window
    clock = sandbox.FakeClock()
    app = sandbox.create_app(WORLD, clock=clock, history_days=30)
    client = hg.AsyncHotglue(api_key=WORLD.api_key, env_id=WORLD.env_id, base_url="http://127.0.0.1",
                             transport=httpx.ASGITransport(app=app))  # fmt: skip
    tenant = CLEAN[0]
    short = hg.job_history(V1, [tenant], since="2d", now=pd.Timestamp(clock.now, unit="s",
                           tz="UTC"), client=client, progress=False)  # fmt: skip
    assert len(short) and short.history_complete.all()


def test_a_lost_answer_is_unknown_when_the_capped_list_cannot_prove_absence() -> None:
    tenant = CLEAN[0]
    faults = {"*": {}, tenant: {"lose_answer": 1.0}}
    with sandbox.serve(WORLD, faults=faults, history_days=30) as sb:  # capped at 5 [I]
        before = len(sb.state.store.list(V1, tenant))
        out = hg.launch_jobs([tenant], flow_id=V1, progress=False, reconcile_delay=0.0,
                             ignore_parallel_jobs=True, job_name="capped",
                             **sb.credentials)  # fmt: skip
        created = len(sb.state.store.list(V1, tenant)) - before
    row = out.iloc[0]
    posts = [r for r in sb.state.requests if r[0] == "POST"]
    assert created == 1 and len(posts) == 1  # never a second POST
    # the job it made is the newest, so the capped list does show it: found
    assert row.outcome == "created" and "found after" in str(row.error)


def test_a_capped_list_without_the_job_is_not_proof_of_absence() -> None:
    jobs = [hg.Job(job_name=f"other:{n}", status="JOB_COMPLETED") for n in range(5)]
    state, _, why = hg._jobs._reconcile.verdict(jobs, "mine", queue_flag=False, asked=100)
    assert state == "unknown" and "cut short" in why
    assert hg._jobs._reconcile.verdict(jobs[:4], "mine", queue_flag=False)[0] == "absent"
    longer = jobs * 3  # 15 listed for 100 asked: the server neither caps at 5 nor at the count
    assert hg._jobs._reconcile.verdict(longer, "mine", queue_flag=False, asked=100)[0] == "absent"
    assert hg._jobs._reconcile.verdict(longer, "mine", queue_flag=False, asked=15)[0] == "unknown"


def test_a_lost_answer_hidden_by_the_cap_is_unknown_and_never_sent_twice() -> None:
    """Five newer jobs push the row's job out of the capped list before the check reads it."""
    tenant = CLEAN[1]
    world = sandbox.demo_world(0)

    def crowd(state: Any) -> None:  # five more jobs, started after the row's
        for n in range(5):
            state.store.create(V1, tenant, {"job_name": f"later{n}", "ignore_parallel_jobs": True})

    with sandbox.serve(world, faults={"*": {}, tenant: {"lose_answer": 1.0}}) as sb:
        state = sb.state

        async def sleep(seconds: float) -> None:  # the reconcile's wait: others start jobs
            crowd(state)

        out = hg.launch_jobs([tenant], flow_id=V1, progress=False, reconcile_delay=1.0,
                             sleep=sleep, **sb.credentials)  # fmt: skip
    row = out.iloc[0]
    posts = [r for r in state.requests if r[0] == "POST"]
    assert len(posts) == 1 and row.outcome == "unknown" and "cut short" in str(row.error)


# --- the job object -----------------------------------------------------------------------------


def test_errors_are_flat_text_and_group_by_their_real_cause() -> None:
    generic = (
        "Export for Job {j} for tenant {t} and target hubspot failed because at least "
        "one export record failed."
    )
    reads = []
    for n, cause in enumerate(["INVALID_EMAIL on contact 1", "INVALID_EMAIL on contact 2",
                               "PROPERTY_DOESNT_EXIST: lifecyclestage"] * 2):  # fmt: skip
        job = hg.Job.from_api({
            "job_id": f"j{n}", "tenant": f"t{n}", "status": "EXPORT_FAILED",
            "message": generic.format(j=f"j{n}", t=f"t{n}"), "error": {"message": cause},
            "start_time": f"2025-11-13T04:3{n}:25+00:00", "tap": "cbx1", "target": "hubspot",
        })  # fmt: skip
        assert job.error == cause and job.target == "hubspot"
        reads.append(hg._fleet._reads.Read(n, f"t{n}", "f", data=job))
    frame = hg._fleet._tables.latest_frame(reads, "e")
    assert frame.error.str.startswith(("INVALID", "PROPERTY")).all()
    signatures = hg.failure_signatures(frame)
    assert len(signatures) == 2 and sorted(signatures["count"]) == [2, 4]
    assert hg.failures(frame.assign(outcome="created"))["message"].nunique() == 2
    assert hg.Job.from_api({"error": {"code": 7}}).error == '{"code": 7}'
    assert hg.Job.from_api({"error": "plain"}).error == "plain"


def test_sparse_status_timestamps_give_durations_and_a_prediction() -> None:
    done = hg.Job.from_api({
        "status": "JOB_COMPLETED", "start_time": "2025-11-13T04:30:25+00:00",
        "last_updated": "2025-11-13T04:33:25+00:00",
        "status_timestamp": {"SYNC_STARTED": 1763008285000, "ETL_STARTED": 1763008345000,
                             "EXPORT_STARTED": 1763008375000},
    })  # fmt: skip
    steps = hg._jobs._eta.stages(done)
    assert [s for s, _ in steps] == ["JOB_CREATED", "SYNC_STARTED", "ETL_STARTED",
                                     "EXPORT_STARTED", "JOB_COMPLETED"]  # fmt: skip
    eta = hg._jobs._eta.Eta(shift=0.0)
    eta.observe("a", "t", done, 1763008405.0)
    assert eta.lengths["EXPORT_STARTED"]  # the export's length is learnt from last_updated
    running = hg.Job.from_api({"status": "ETL_STARTED", "start_time": "2025-11-14T04:30:25+00:00",
                               "status_timestamp": {"SYNC_STARTED": 1763094685000,
                                                    "ETL_STARTED": 1763094745000}})  # fmt: skip
    delay = eta.delay("t", running, 1763094750.0, cap=600.0)
    assert delay is not None and 0 < delay[0] <= 600


def test_write_records_and_failed_records_return_exactly_the_refused_ones(strict: Any) -> None:
    tenant, connector = next(
        (t, c)
        for t, c in LINKED.items()
        if not WORLD.connectors(t, V2)[0]["reject_every"]  # type: ignore[index]
    )
    records = pd.DataFrame(
        [{"email": "a@x.io", "name": "A"}, {"email": "bad-1"}, {"email": "a@x.io", "name": "A"},
         {"email": "b@x.io", "externalId": "ext-4"}, {"email": "bad-2", "externalId": "ext-5"},
         {"email": "bad-1"}, {"email": "c@x.io", "id": "7"}],  # repeats: rows 2 and 5
        index=[f"r{n}" for n in range(7)],
    )  # fmt: skip
    out = hg.write_records(records, object="Contact", tenant=tenant, connector_id=connector,
                           flow_id=V2, wait=True, poll_interval=0.05, max_poll_interval=0.2,
                           progress=False, **strict.credentials)  # fmt: skip
    assert (out.status == "EXPORT_FAILED").all() and "INVALID_EMAIL" in out.error.iloc[0]
    refused = hg.failed_records(out, records)
    # the two refused records, each once; the repeat of a refused one is not blamed
    assert list(refused.index) == ["r1", "r4"]
    assert refused.reason.str.contains("INVALID_EMAIL").all()
    assert not refused.reason.str.contains("position").any()


def test_failed_records_by_id_and_position_only_as_a_labelled_fallback() -> None:
    from hotglue_nb._jobs._details import locate

    sent = [{"externalId": "a"}, {"externalId": "b"}, {"externalId": "b"}, {"n": 4}]
    # keyed entries: the repeat of "b" is not blamed; an unkeyed entry with one detail per
    # record sent falls back to its position, labelled
    entries = [{"index": 1, "of": 4, "externalId": "b", "error": "E1"},
               {"index": 3, "of": 4}]  # fmt: skip
    by_position = "refused by the target (matched by position [I])"
    assert locate(entries, sent) == [(1, "refused by the target: E1"), (3, by_position)]
    skipped = [{"index": 2, "of": 3}]  # a repeat had no entry: positions are off, so unknown
    assert locate(skipped, sent) is None
    assert locate([3], sent) == [(3, "refused by the target")]  # an older export's positions


def test_an_empty_status_answer_ends_its_row_quickly(strict: Any) -> None:
    tenant = CLEAN[2]
    slept: list[float] = []

    def clock() -> float:
        return sum(slept)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with sandbox.serve(WORLD, faults={"*": {}, tenant: {"empty_status": 1.0}},
                       time_scale=0.002) as sb:  # fmt: skip
        out = hg.launch_jobs([tenant], flow_id=V1, progress=False, **sb.credentials)
        done = hg.wait_for_jobs(out, progress=False, sleep=sleep, clock=clock, timeout=3600,
                                **sb.credentials)  # fmt: skip
        polls = [r for r in sb.state.requests if r[1].endswith("/jobs/status")]
    row = done.iloc[0]
    assert "hotglue returned no job for this job_root" in str(row.error)
    assert len(polls) <= 4 and sum(slept) < 30  # a few tries, never until wait_timeout
    assert not row.finished


def test_a_429_without_retry_after_is_backed_off_and_retried() -> None:
    tenant = CLEAN[3]
    with sandbox.serve(WORLD, faults={"*": {}, tenant: {"throttle_first": 2, "bare_429": 1.0}},
                       time_scale=0.002) as sb:  # fmt: skip
        out = hg.launch_jobs([tenant], flow_id=V1, progress=False, **sb.credentials)
        answers = [r[3] for r in sb.state.requests if r[0] == "POST"]
    assert answers == [429, 429, 200] and out.outcome.iloc[0] == "created"


def test_the_sandbox_can_still_serve_v2_job_reads_under_v2_when_asked() -> None:
    with sandbox.serve(WORLD, wire={"v2_job_reads": "both"}) as sb:
        tenant, connector = next(iter(LINKED.items()))
        url = f"{sb.base_url}/v2/{sb.env_id}/{V2}/{tenant}/jobs"
        assert httpx.get(url, headers={"x-api-key": sb.api_key}).status_code == 200
    with pytest.raises(ValueError, match="list_cap"):
        sandbox.Wire(list_cap=0)
    with pytest.raises(ValueError, match="unknown wire switch"):
        sandbox.Wire.build({"cap": 5})


def test_the_commands_take_a_list_cap_and_a_count(tmp_path: Any, capsys: Any) -> None:
    import os
    import subprocess
    import sys

    from hotglue_nb.sandbox._main import _list_cap, build_parser

    parser = build_parser()
    assert _list_cap(parser, "none") is None and _list_cap(parser, "30") == 30
    with pytest.raises(SystemExit):
        _list_cap(parser, "0")
    assert "--list-cap: give a whole number >= 1 or 'none'" in capsys.readouterr().err
    with sandbox.serve(WORLD, history_days=30) as sb:  # capped at 5
        env = {**os.environ, "HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
               "HOTGLUE_BASE_URL": sb.base_url}  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "hotglue_nb", "history", "--flow", V1, "--count", "50"],
            env=env, text=True, capture_output=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        counts = [r for r in sb.state.requests if r[1].endswith("/jobs") and r[0] == "GET"]
    assert run.returncode == 0, run.stderr[-800:]
    assert "may be cut short" in run.stderr and "--count N asks for more" in run.stderr
    assert "HotglueWarning" not in run.stderr and "count=" not in run.stderr  # the CLI's words
    assert counts  # one list per tenant

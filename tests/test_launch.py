from __future__ import annotations

import _thread
import asyncio
import io
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from tqdm import tqdm

import hotglue_nb as hg
from hotglue_nb._frames import OUTCOMES, RESULT_COLUMNS

from .fake_api import ENV, FLOW, KEY, FakeAPI, error
from .fake_time import FakeTime

FAST = {"reconcile_delay": 0.0, "progress": False}


def launch(api: FakeAPI, tenants: Any, time: FakeTime | None = None, **kw: Any) -> pd.DataFrame:
    """launch_jobs on the fake API, on fake time (no test waits for a back-off)."""
    client = hg.AsyncHotglue(api_key=KEY, env_id=ENV, transport=api.transport())
    ft = time or FakeTime()
    options = {"flow_id": FLOW, "client": client, "clock": ft, "sleep": ft.sleep, **FAST, **kw}
    return hg.launch_jobs(tenants, **options)


def client_for(api: FakeAPI) -> hg.AsyncHotglue:
    return hg.AsyncHotglue(api_key=KEY, env_id=ENV, transport=api.transport())


def frame(n: int, **cols: Any) -> pd.DataFrame:
    return pd.DataFrame({"tenant": [f"t{i:03d}" for i in range(n)], **cols})


# --- input -------------------------------------------------------------------------------


def test_columns_beat_defaults_and_empty_cells_mean_default() -> None:
    api = FakeAPI()
    df = frame(
        3,
        override_start_date=["2024-02-01", None, ""],
        state=['{"a": 1}', None, {"b": 2}],
        reset_source_state=[True, None, False],
    )
    launch(api, df, override_start_date="2024-01-01", reset_source_state=True, tap="salesforce")
    bodies = {t: b for t, b in api.posts}
    assert bodies["t000"]["override_start_date"] == "2024-02-01T00:00:00.000Z"
    assert bodies["t001"]["override_start_date"] == "2024-01-01T00:00:00.000Z"
    assert bodies["t002"]["override_start_date"] == "2024-01-01T00:00:00.000Z"
    assert bodies["t000"]["state"] == {"a": 1} and bodies["t002"]["state"] == {"b": 2}
    assert "state" not in bodies["t001"]
    assert [bodies[t]["reset_source_state"] for t in ("t000", "t001", "t002")] == [
        True, True, False,
    ]  # fmt: skip
    assert all(b["tap"] == "salesforce" for b in bodies.values())


def test_every_row_problem_is_reported_at_once() -> None:
    api = FakeAPI()
    df = pd.DataFrame(
        {
            "tenant": ["ok", None, "b", 12.0, ".."],
            "override_start_date": ["2024-01-01", None, "31/01/2024", None, None],
            "state": [None, None, None, "{bad", None],
        },
        index=["r0", "r1", "r2", "r3", "r4"],
    )
    with pytest.raises(hg.ConfigError) as info:
        launch(api, df)
    text = str(info.value)
    assert "4 of 5 rows have problems; nothing was sent" in text
    assert "row 'r1': column 'tenant': blank tenant" in text
    assert "row 'r2': column 'override_start_date'" in text and "ISO-8601" in text
    assert "row 'r3': column 'tenant': 12.0 is a number" in text
    assert "row 'r3': column 'state'" in text and "not valid JSON" in text
    assert "row 'r4': column 'tenant'" in text
    assert "on_invalid='skip'" in text
    assert api.posts == []


def test_on_invalid_skip_launches_the_rest() -> None:
    api = FakeAPI()
    df = pd.DataFrame({"tenant": ["a", None, "c"]})
    out = launch(api, df, on_invalid="skip")
    assert list(out.outcome) == ["created", "skipped", "created"]
    assert out.error.iloc[1].startswith("invalid row: column 'tenant': blank tenant")
    assert len(api.posts) == 2


def test_a_body_json_cannot_carry_is_an_invalid_row() -> None:
    api = FakeAPI()
    df = pd.DataFrame({"tenant": ["a", "b"], "state": ['{"n": NaN}', '{"n": 1}']})
    out = launch(api, df, on_invalid="skip")
    assert list(out.outcome) == ["skipped", "created"]
    assert "NaN or Infinity" in out.error.iloc[0] and [t for t, _ in api.posts] == ["b"]


def test_the_body_sent_is_the_request_column_byte_for_byte() -> None:
    sent: list[bytes] = []
    api = FakeAPI()

    async def spy(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        assert request.headers["content-type"] == "application/json"
        return await api.handle(request)

    client = hg.AsyncHotglue(api_key=KEY, env_id=ENV, transport=httpx.MockTransport(spy))
    df = frame(2, environment_variables=['{"Ä": "é"}', None])
    out = launch(api, df, client=client, tap="hubspot")
    assert sorted(sent) == sorted(r.encode() for r in out.request)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        pytest.param({"concurrency": 0}, "concurrency", id="concurrency"),
        pytest.param({"rate_limit": -1}, "rate_limit", id="rate"),
        pytest.param({"max_attempts": 0}, "max_attempts", id="attempts"),
        pytest.param({"on_invalid": "drop"}, "on_invalid", id="on-invalid"),
        pytest.param({"overide_start_date": "2024-01-01"}, "override_start_date", id="typo"),
        pytest.param({"flow_id": None}, "flow_id", id="no-flow"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(hg.ConfigError, match=match):
        launch(FakeAPI(), frame(2), **kwargs)


def test_frame_level_mistakes() -> None:
    with pytest.raises(hg.ConfigError, match="no 'tenant' column"):
        launch(FakeAPI(), pd.DataFrame({"customer": ["a"]}))
    assert list(launch(FakeAPI(), pd.DataFrame({"Tenant ID": ["a"]})).tenant) == ["a"]
    with pytest.raises(hg.ConfigError, match="looks like a misspelt 'override_start_date'"):
        launch(FakeAPI(), pd.DataFrame({"tenant": ["a"], "overide_start_date": ["x"]}))
    with pytest.raises(hg.ConfigError, match="duplicate labels"):
        launch(FakeAPI(), pd.DataFrame({"tenant": ["a", "b"]}, index=[1, 1]))


def test_flow_and_env_columns_and_plain_lists() -> None:
    api = FakeAPI()
    df = pd.DataFrame({"tenant": ["a", "b"], "flow_id": ["f1", None]})
    out = launch(api, df, flow_id="f2")
    assert list(out.flow_id) == ["f1", "f2"]
    assert list(launch(FakeAPI(), ["x", "y"]).tenant) == ["x", "y"]


# --- output ------------------------------------------------------------------------------


def test_results_schema_index_and_order() -> None:
    api = FakeAPI()
    df = frame(5)
    df.index = ["e", "d", "c", "b", "a"]
    out = launch(api, df)
    assert list(out.index) == ["e", "d", "c", "b", "a"]
    assert list(out.tenant) == list(df.tenant)
    assert list(out.columns) == list(RESULT_COLUMNS)
    assert out.http_status.dtype == "Int64" and out.attempts.dtype == "Int64"
    assert str(out.launched_at.dtype) == "datetime64[ns, UTC]"
    assert set(out.outcome) <= set(OUTCOMES)
    assert out.run_id.nunique() == 1
    row = out.loc["c"]
    assert row.job_root.endswith(row.job_id) and row.job_name.endswith(":SUFFIX002")
    for request in out.request:
        assert KEY not in request
        assert json.loads(request)["job_name"].startswith("hotglue-nb~")
    assert KEY not in out.to_csv()


def test_job_names_are_unique_per_row_and_keep_the_users_name() -> None:
    api = FakeAPI()
    out = launch(api, frame(3), job_name="rerun-jan")
    names = [b["job_name"] for _, b in api.posts]
    assert len(set(names)) == 3 and all(n.startswith("rerun-jan~") for n in names)
    assert all(out.job_name.str.startswith("rerun-jan~"))


def test_dry_run_sends_nothing_and_shows_path_and_body() -> None:
    api = FakeAPI()
    df = pd.DataFrame({"tenant": ["a/b", "c"], "tap": ["hubspot", None]})
    out = launch(api, df, dry_run=True)
    assert api.posts == [] and api.gets == []
    assert list(out.outcome) == ["skipped", "skipped"]
    assert out.message.iloc[0] == f"dry run: would POST /{ENV}/{FLOW}/a%2Fb/jobs"
    assert json.loads(out.request.iloc[0])["tap"] == "hubspot"


def test_a_dry_run_keeps_every_row_at_its_label_with_invalid_rows_between() -> None:
    df = pd.DataFrame(
        {"tenant": ["a", "", "c", None, "e"], "override_start_date": [None, None, "x", None, None]},
        index=pd.Index(["r1", "r2", "r3", "r4", "r5"], name="row"),
    )
    out = launch(FakeAPI(), df, dry_run=True, on_invalid="skip")
    assert list(out.index) == ["r1", "r2", "r3", "r4", "r5"] and out.index.name == "row"
    assert list(out.tenant) == ["a", "", "c", "", "e"]
    assert out.message.notna().tolist() == [True, False, False, False, True]
    assert out.error.notna().tolist() == [False, True, True, True, False]
    assert out.dtypes["tenant"] == "string" and out.dtypes["attempts"] == "Int64"
    assert out.request["r5"] is not pd.NA and json.loads(out.request["r5"])["job_name"]


def test_dry_run_needs_no_key() -> None:
    out = hg.launch_jobs(["a"], flow_id=FLOW, env_id=ENV, dry_run=True, progress=False)
    assert list(out.outcome) == ["skipped"]


# --- retries and reconciliation ------------------------------------------------------------


def scripted(rules: dict[str, list[Any]]) -> FakeAPI:
    """Per tenant, the action of each successive POST (then: normal)."""

    def script(tenant: str, attempt: int) -> Any:
        actions = rules.get(tenant, [])
        return actions[attempt - 1] if attempt <= len(actions) else None

    return FakeAPI(script)


@pytest.mark.parametrize(
    "first,attempts",
    [
        pytest.param(error(429, retry_after="0"), 2, id="429"),
        pytest.param(error(423, retry_after="0"), 2, id="423"),
        pytest.param(error(503, retry_after="0"), 2, id="503"),
        pytest.param(httpx.ConnectError("refused"), 2, id="connect"),
    ],
)
def test_certainly_not_acted_is_retried(first: Any, attempts: int) -> None:
    api = scripted({"t000": [first]})
    out = launch(api, frame(1))
    assert out.outcome.iloc[0] == "created" and out.attempts.iloc[0] == attempts
    assert api.job_count("t000") == 1 and api.gets == []


@pytest.mark.parametrize("action", ["lost", "broken"])
def test_ambiguous_failure_after_creation_is_found_not_resent(action: str) -> None:
    api = scripted({"t000": [action]})
    out = launch(api, frame(1))
    row = out.iloc[0]
    assert row.outcome == "created" and row.attempts == 1
    assert api.job_count("t000") == 1 and len(api.posts) == 1 and api.gets == ["t000"]
    assert row.job_root == api.jobs["t000"][0]["s3_root"]
    assert row.error.startswith("found after")


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(error(500), id="500"),
        pytest.param(error(502), id="502"),
        pytest.param(httpx.ReadTimeout("slow"), id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("dropped"), id="dropped"),
    ],
)
def test_ambiguous_failure_without_job_is_proven_absent_then_retried(first: Any) -> None:
    api = scripted({"t000": [first]})
    out = launch(api, frame(1))
    assert out.outcome.iloc[0] == "created" and out.attempts.iloc[0] == 2
    assert api.gets == ["t000"] and api.job_count("t000") == 1


def test_cannot_tell_means_unknown_never_a_second_post() -> None:
    api = scripted({"t000": ["lost"]})
    api.list_script = lambda tenant: error(500)
    ft = FakeTime()
    out = launch(api, frame(1), time=ft)
    row = out.iloc[0]
    assert row.outcome == "unknown" and len(api.posts) == 1
    assert "could not list the tenant's jobs" in row.error and "ReadTimeout" in row.error
    assert len(api.gets) == 6 and ft.slept > 10  # a patient look, on fake time


def test_lost_answer_with_queue_flag_and_an_active_job_is_unknown() -> None:
    api = scripted({"t000": [httpx.ReadTimeout("lost")]})
    api.jobs["t000"] = [{"job_name": "other:1", "status": "SYNC_STARTED", "s3_root": "x"}]
    out = launch(api, frame(1), queue_if_active_job=True)
    assert out.outcome.iloc[0] == "unknown" and "queued" in out.error.iloc[0]
    assert len(api.posts) == 1


def test_rejections_are_not_retried() -> None:
    api = scripted({"t000": [error(400, "a job is running")], "t001": [error(404, "no tenant")]})
    out = launch(api, frame(3))
    assert list(out.outcome) == ["rejected", "rejected", "created"]
    assert list(out.http_status) == [400, 404, 200]
    assert "a job is running" in out.error.iloc[0]
    assert len(api.posts) == 3


def test_max_attempts_caps_the_posts() -> None:
    api = FakeAPI(lambda tenant, attempt: error(429, retry_after="0"))
    out = launch(api, frame(1), max_attempts=3)
    row = out.iloc[0]
    assert row.outcome == "rejected" and row.attempts == 3 and len(api.posts) == 3
    assert row.error.startswith("gave up after 3 attempts: RateLimitError")


def test_queued_rows() -> None:
    queued = httpx.Response(202, json={"message": "Job has been queued", "reason": "busy"})
    api = scripted({"t000": [queued]})
    out = launch(api, frame(1), queue_if_active_job=True)
    row = out.iloc[0]
    assert row.outcome == "queued" and row.http_status == 202
    assert row.message == "Job has been queued - busy" and pd.isna(row.job_root)


def test_a_burst_of_429s_slows_the_whole_run() -> None:
    api = scripted({f"t00{i}": [error(429, retry_after="0.4")] for i in range(3)})
    ft = FakeTime()
    stamps: list[float] = []
    api.on_post = lambda tenant, body: stamps.append(ft.now)
    launch(api, frame(6), time=ft, concurrency=3)
    # three 429s at once are a burst: every POST after them waited for the shared pause
    assert len(stamps) == 9 and stamps[:3] == [stamps[0]] * 3
    assert all(later >= stamps[0] + 0.4 for later in stamps[3:])


# --- auth failure ---------------------------------------------------------------------------


def test_bad_key_stops_the_run_fast() -> None:
    api = FakeAPI()
    client = hg.AsyncHotglue(api_key="wrong", env_id=ENV, transport=api.transport())
    with pytest.raises(hg.AuthenticationError) as caught:  # a run-wide failure raises
        hg.launch_jobs(frame(2000), flow_id=FLOW, client=client, concurrency=4, **FAST)
    out = caught.value.results
    assert out is hg.last_run() and len(out) == 2000
    counts = out.outcome.value_counts().to_dict()
    assert counts["rejected"] <= 4 and counts["skipped"] >= 1996
    reason = out.error[out.outcome == "skipped"].iloc[0]
    assert reason.startswith("not sent: the API refused the key: AuthenticationError")
    assert "check the API key: api_key= or HOTGLUE_API_KEY" in reason
    assert "wrong" not in out.to_csv()


# --- limits -----------------------------------------------------------------------------------


def test_concurrency_cap() -> None:
    api = FakeAPI(delay=0.02)
    launch(api, frame(40), concurrency=5)
    assert api.max_in_flight == 5


# --- journal and resume ---------------------------------------------------------------------------


def test_intent_is_on_disk_before_the_post(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    api = FakeAPI()

    def check(tenant: str, body: dict[str, Any]) -> None:
        intents = [json.loads(x) for x in path.read_text().splitlines()]
        assert any(r["kind"] == "intent" and r["job_name"] == body["job_name"] for r in intents)

    api.on_post = check
    out = launch(api, frame(20), journal=path, concurrency=4)
    assert (out.outcome == "created").all()
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert records[0]["kind"] == "run" and KEY not in path.read_text()
    assert sum(r["kind"] == "outcome" for r in records) == 20


def test_resume_carries_over_reconciles_and_sends_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    api = scripted({"t001": [error(400, "busy")]})
    first = launch(api, frame(4), journal=path)
    assert list(first.outcome) == ["created", "rejected", "created", "created"]
    # simulate a crash: t003's outcome never reached the journal, t002 never got an outcome
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    keep = [r for r in lines if not (r["kind"] == "outcome" and r["tenant"] in ("t002", "t003"))]
    path.write_text("".join(json.dumps(r) + "\n" for r in keep) + '{"kind": "outc')  # torn line
    api.jobs.pop("t003")  # t003's POST never arrived
    posts_before = len(api.posts)
    # no flow_id: a resume repeats the journal's flow
    again = hg.launch_jobs(frame(4), resume=path, client=client_for(api), **FAST)
    assert list(again.outcome) == ["created", "created", "created", "created"]
    assert again.run_id.unique().tolist() == [first.run_id.iloc[0]]
    assert again.job_id.iloc[0] == first.job_id.iloc[0]  # carried over, not resent
    assert again.job_id.iloc[2] == first.job_id.iloc[2]  # found by reconciliation
    sent = [t for t, _ in api.posts[posts_before:]]
    assert sorted(sent) == ["t001", "t003"]
    assert api.job_count("t002") == 1 and api.job_count("t003") == 1


def test_resume_refuses_another_frame(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    launch(FakeAPI(), frame(3), journal=path)
    other = frame(3)
    other.loc[1, "tenant"] = "zzz"
    with pytest.raises(hg.ConfigError, match="row 1 was tenant 't001' there and is 'zzz' here"):
        launch(FakeAPI(), other, resume=path)
    with pytest.raises(hg.ConfigError, match="No journal"):
        launch(FakeAPI(), other, resume=tmp_path / "nope.jsonl")


def test_journal_true_uses_runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = launch(FakeAPI(), frame(2), journal=True)
    run_id = out.run_id.iloc[0]
    assert (tmp_path / "hotglue-runs" / f"{run_id}.jsonl").exists()
    again = launch(FakeAPI(), frame(2), resume=run_id)
    assert list(again.job_id) == list(out.job_id)


# --- modes: async, inside a loop, nest, interrupt, progress --------------------------------------


def test_async_api() -> None:
    api = FakeAPI()

    async def go() -> pd.DataFrame:
        client = hg.AsyncHotglue(api_key=KEY, env_id=ENV, transport=api.transport())
        return await hg.aio.launch_jobs(frame(5), flow_id=FLOW, client=client, **FAST)

    assert (asyncio.run(go()).outcome == "created").all()


def test_sync_api_inside_a_running_loop() -> None:
    api = FakeAPI()

    async def cell() -> pd.DataFrame:
        return launch(api, frame(5))

    assert (asyncio.run(cell()).outcome == "created").all()


def test_nest_asyncio_mode_is_opt_in() -> None:
    pytest.importorskip("nest_asyncio2")
    api = FakeAPI()

    async def cell() -> pd.DataFrame:
        return launch(api, frame(3), nest_asyncio=True)

    assert (asyncio.run(cell()).outcome == "created").all()


def test_interrupt_returns_consistent_partial_results() -> None:
    api = FakeAPI(delay=0.3)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(hg.LaunchInterrupted) as info:
        launch(api, frame(50), concurrency=2)
    timer.cancel()
    out = info.value.results
    assert len(out) == 50 and list(out.tenant) == list(frame(50).tenant)
    created = out[out.outcome == "created"]
    assert len(created) >= 1
    assert set(out.outcome) <= {"created", "unknown", "skipped"}
    assert (out.outcome == "skipped").sum() >= 40
    assert "interrupted" in out[out.outcome == "skipped"].error.iloc[0]
    # no row is left claiming a job that does not exist
    assert api.job_count() >= len(created)


def test_progress_counts_per_outcome() -> None:
    sink = io.StringIO()

    def bar(**kw: Any) -> tqdm:
        return tqdm(file=sink, mininterval=0, miniters=1, **kw)

    api = scripted({"t001": [error(400)]})
    launch(api, frame(4), progress=bar)
    text = sink.getvalue()
    assert "4/4" in text and "created=3" in text and "rejected=1" in text


# --- found in review: interrupts and stops at the edges --------------------------------------


async def _cancel_after(task: asyncio.Task[Any], api: FakeAPI, posts: int, then: float) -> None:
    while len(api.posts) < posts:  # noqa: ASYNC110 - the fake server is polled
        await asyncio.sleep(0.005)
    await asyncio.sleep(then)
    task.cancel()


def test_rows_waiting_for_a_rate_slot_at_an_interrupt_were_not_sent() -> None:
    api = FakeAPI()

    async def go() -> pd.DataFrame:
        task = asyncio.ensure_future(hg.aio.launch_jobs(
            frame(8), flow_id=FLOW, client=client_for(api), concurrency=4, rate_limit=1.0, **FAST
        ))  # fmt: skip
        await _cancel_after(task, api, 1, 0.2)
        with pytest.raises(hg.LaunchInterrupted) as info:
            await task
        return info.value.results

    out = asyncio.run(go())
    assert len(api.posts) == 1 and out.outcome.tolist() == ["created"] + ["skipped"] * 7
    assert (out.attempts.iloc[1:] == 0).all()


def test_a_row_paused_by_a_429_at_an_interrupt_has_no_job_and_returns_at_once() -> None:
    api = scripted({"t000": [error(429, retry_after="30")]})

    async def go() -> tuple[pd.DataFrame, float]:
        task = asyncio.ensure_future(hg.aio.launch_jobs(
            frame(3), flow_id=FLOW, client=client_for(api), concurrency=1, **FAST
        ))  # fmt: skip
        await _cancel_after(task, api, 1, 0.1)
        start = __import__("time").monotonic()
        with pytest.raises(hg.LaunchInterrupted) as info:
            await task
        return info.value.results, __import__("time").monotonic() - start

    out, took = asyncio.run(go())
    assert took < 2 and api.gets == []  # no check GET waiting out the 30 s pause
    first = out.iloc[0]
    assert first.outcome == "skipped" and first.attempts == 1 and "no job exists" in first.error


def test_a_refused_key_stops_rows_already_waiting_for_a_rate_slot() -> None:
    api = FakeAPI(lambda tenant, attempt: error(401, "Invalid key"), delay=0.05)
    options = {"concurrency": 4, "rate_limit": 4.0, **FAST}  # real time: slots 0.25 s apart
    with pytest.raises(hg.AuthenticationError) as caught:
        hg.launch_jobs(frame(8), flow_id=FLOW, client=client_for(api), **options)
    out = caught.value.results
    assert len(api.posts) == 1  # the rows waiting for their slot did not send after the 401
    assert out.outcome.value_counts().to_dict() == {"skipped": 7, "rejected": 1}


def test_a_resumed_row_left_unchecked_stays_unknown(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    api = scripted({"t000": [error(400, "bad")], "t001": ["lost"]})
    api.list_script = lambda tenant: error(500)  # the check cannot tell
    first = launch(api, frame(2), journal=path)
    assert list(first.outcome) == ["rejected", "unknown"] and api.job_count("t001") == 1
    revoked = hg.AsyncHotglue(api_key="revoked", env_id=ENV, transport=api.transport())
    with pytest.raises(hg.AuthenticationError) as caught:
        hg.launch_jobs(frame(2), resume=path, client=revoked, concurrency=1, **FAST)
    again = caught.value.results
    assert list(again.outcome) == ["rejected", "unknown"]  # never "skipped": a job may exist
    assert "not checked yet" in again.error.iloc[1]


def test_nest_asyncio_mode_stops_sending_on_ctrl_c() -> None:
    pytest.importorskip("nest_asyncio2")
    api = FakeAPI(delay=0.05)

    def watch() -> None:
        while len(api.posts) < 4:
            __import__("time").sleep(0.005)
        _thread.interrupt_main()

    async def cell() -> tuple[pd.DataFrame, int]:
        threading.Thread(target=watch, daemon=True).start()
        with pytest.raises(hg.LaunchInterrupted) as info:
            launch(api, frame(40), concurrency=2, nest_asyncio=True)
        sent = len(api.posts)
        await asyncio.sleep(0.3)  # the kernel's loop goes on running
        assert len(api.posts) == sent  # nothing more went out after the interrupt
        return info.value.results, sent

    loop = asyncio.new_event_loop()  # like ipykernel's: no SIGINT handler of asyncio's own
    try:
        out, sent = loop.run_until_complete(cell())
    finally:
        loop.close()
    assert len(out) == 40 and (out.outcome == "created").sum() == api.job_count() <= sent


def test_an_undecodable_body_is_ambiguous_not_a_crash() -> None:
    def bad() -> httpx.Response:
        stream = httpx.ByteStream(b"not gzip at all")
        return httpx.Response(200, headers={"content-encoding": "gzip"}, stream=stream)

    api = FakeAPI(lambda tenant, attempt: bad() if tenant == "t001" and attempt == 1 else None)
    out = launch(api, frame(3))
    assert list(out.outcome) == ["created"] * 3 and api.job_count("t001") == 1
    assert out.attempts.iloc[1] == 2  # proven absent by the job list, then sent again


def test_one_tenant_in_twenty_throttled_does_not_collapse_the_run() -> None:
    """Issue #12, 18: per-tenant 429s (twice, Retry-After 0.2) are not a global burst."""
    throttled = {f"t{i:03d}" for i in range(0, 600, 20)}

    def script(tenant: str, attempt: int) -> Any:
        return error(429, retry_after="0.2") if tenant in throttled and attempt <= 2 else None

    api, ft = FakeAPI(script), FakeTime(0.0)
    out = launch(api, frame(600), time=ft, concurrency=8)
    assert (out.outcome == "created").all() and api.job_count() == 600
    assert out.attempts[out.tenant.isin(throttled)].eq(3).all()
    # simulated time: a throttled row waits its two Retry-Afters while the others go on
    # (before: the first 429s halved the run's pace down to 1 request/s, ~450 s simulated)
    assert ft.now < 1.0, ft.now


def test_a_global_burst_of_429s_still_pauses_everyone() -> None:
    api, ft = (
        FakeAPI(lambda tenant, attempt: error(429, retry_after="1") if attempt == 1 else None),
        FakeTime(0.0),
    )
    out = launch(api, frame(40), time=ft, concurrency=4)
    assert (out.outcome == "created").all()
    starts = sorted(ft.sleeps)
    assert ft.slept >= 1.0 and max(starts) >= 1.0  # the run paused for the Retry-After

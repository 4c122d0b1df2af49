"""wait_for_jobs and the analysis helpers, driven by the sandbox's fake clock (no sleeping)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb._frames import RESULT_COLUMNS, WAIT_COLUMNS
from hotglue_nb._jobs._wait import poll_delay

from .fake_time import FakeTime

WORLD = sandbox.demo_world(0)
FLOW = WORLD.flow_ids[0]
FAILING = {
    t: WORLD.tenants[t]["failures"][FLOW] for t in WORLD.tenants if WORLD.tenants[t]["failures"]
}
OK = [t for t in WORLD.tenants if t not in FAILING]


class Recording(httpx.AsyncBaseTransport):
    """In front of the in-process sandbox: notes (method, path, fake time) of each request;
    ``intercept`` may answer instead of the sandbox."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.inner = httpx.ASGITransport(app=rig.app)
        self.seen: list[tuple[str, str, float]] = []
        self.ends: dict[str, float] = {}  # job root -> when a poll first saw it over
        self.intercept: Any = lambda request, number: None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path, self.rig.clock()))
        answer = self.intercept(request, len(self.seen))
        response = answer or await self.inner.handle_async_request(request)
        if request.url.path.endswith("/jobs/status") and response.status_code == 200:
            body = json.loads(await response.aread())
            if body.get("status") in ("JOB_COMPLETED",) or "FAILED" in body.get("status", ""):
                self.ends.setdefault(body["s3_root"], self.rig.clock())
        return response


class Rig:
    """An in-process sandbox on a fake clock, a client on it, and a fake sleep."""

    def __init__(self, api_key: str = WORLD.api_key, **kw: Any) -> None:
        self.time = FakeTime(1_700_000_000.0)
        self.clock = self.time
        self.app = sandbox.create_app(sandbox.demo_world(0), clock=self.clock, time_scale=1.0, **kw)
        self.state = self.app.state.sandbox
        self.transport = Recording(self)
        self.client = hg.AsyncHotglue(
            api_key=api_key,
            env_id=WORLD.env_id,
            base_url="http://127.0.0.1",
            transport=self.transport,
        )
        self.sleep = self.time.sleep

    @property
    def slept(self) -> float:
        """Simulated seconds passed."""
        return self.time.now - 1_700_000_000.0

    def gets(self, after: float = 0.0) -> list[float]:
        return [at for method, _, at in self.transport.seen if method == "GET" and at >= after]

    def launch(self, tenants: Any, **kw: Any) -> pd.DataFrame:
        return hg.launch_jobs(
            tenants, flow_id=FLOW, client=self.client, progress=False, reconcile_delay=0, **kw
        )

    def wait(self, results: pd.DataFrame, **kw: Any) -> pd.DataFrame:
        return hg.wait_for_jobs(
            results, client=self.client, clock=self.clock, sleep=self.sleep, progress=False, **kw
        )


def test_poll_delay_backs_off_and_is_capped() -> None:
    assert [poll_delay(n, 5, 30) for n in range(1, 8)] == [5, 7.5, 11.25, 16.875, 25.3125, 30, 30]


def test_wait_to_the_end_with_failed_stages() -> None:
    rig = Rig()
    failing = {FAILING_BY_STAGE[s]: s for s in ("SYNC", "ETL", "EXPORT", "DISCOVER")}
    tenants = OK[:6] + list(failing)
    out = rig.wait(rig.launch(tenants))
    assert list(out.columns) == [*RESULT_COLUMNS, *WAIT_COLUMNS]
    assert out.finished.all()
    ok = out[out.tenant.isin(OK)]
    assert (ok.status == "JOB_COMPLETED").all() and ok.succeeded.all()
    assert (ok.processed_rows > 0).all() and (ok.duration_s > 100).all()
    for tenant, stage in failing.items():
        row = out[out.tenant == tenant].iloc[0]
        assert row.status == f"{stage}_FAILED" and row.succeeded == False  # noqa: E712
        assert row.failed_stage == stage and row.error == FAILING[tenant]["message"]  # the cause
        assert row.job_id in row.message  # the generic text real jobs carry [C]
    assert rig.slept > 150  # simulated minutes, not real ones


FAILING_BY_STAGE = {v["stage"]: t for t, v in reversed(list(FAILING.items()))}


def test_the_end_of_a_job_is_noticed_within_seconds_in_few_polls() -> None:
    rig = Rig()
    out = rig.wait(rig.launch(OK[:80]))  # 3-minute jobs x 0.6-1.6, launched together
    assert out.finished.all() and out.duration_s.min() < 130 < 250 < out.duration_s.max()
    ends = zip(out.job_root, out.last_updated, strict=True)
    late = pd.Series([rig.transport.ends[root] - ended.timestamp() for root, ended in ends])
    three = (out.duration_s >= 150).to_numpy() & (out.duration_s <= 210).to_numpy()
    assert three.sum() >= 15
    assert late[three].median() <= 5 and late[three].quantile(0.9) <= 15  # x1.5 back-off: 16, 27
    assert out.polls[three].max() <= 12 and out.polls.max() <= 15


def test_timeout_leaves_rows_unfinished_without_raising() -> None:
    rig = Rig()
    out = rig.wait(rig.launch(OK[:5]), timeout=60)
    assert not out.finished.any() and out.succeeded.isna().all()
    assert set(out.status) <= {"JOB_CREATED", "SYNC_STARTED", "ETL_STARTED"}
    assert rig.slept == 60  # the last poll is made at the deadline, none after it


def test_queued_jobs_are_found_then_followed() -> None:
    rig = Rig()
    tenant = OK[0]
    first = rig.launch([tenant])
    queued = rig.launch([tenant], queue_if_active_job=True)
    assert queued.outcome.iloc[0] == "queued" and pd.isna(queued.job_root.iloc[0])
    both = pd.concat([first, queued], ignore_index=True)
    out = rig.wait(both)
    assert out.finished.all() and (out.status == "JOB_COMPLETED").all()
    assert out.job_root.iloc[1] != out.job_root.iloc[0] and pd.notna(out.job_root.iloc[1])
    assert out.job_name.iloc[1].startswith(queued.job_name.iloc[0] + ":")


def test_transient_get_errors_are_retried() -> None:
    rig = Rig()
    results = rig.launch(OK[:3])
    rig.state.faults = sandbox.FaultPlan.build({"server_error": 0.5, "on_get": True}, seed=1)
    out = rig.wait(results)
    assert out.finished.all()
    codes = [code for method, _, _, code in rig.state.requests if method == "GET"]
    assert any(code >= 500 for code in codes)


def test_rows_without_jobs_are_not_polled() -> None:
    rig = Rig()
    results = rig.launch([OK[0], "nobody"], on_invalid="skip")
    assert list(results.outcome) == ["created", "rejected"]
    out = rig.wait(results)
    assert out.finished.iloc[0] and pd.isna(out.finished.iloc[1])


def test_launch_with_wait_true() -> None:
    rig = Rig()
    out = hg.launch_jobs(
        OK[:3], flow_id=FLOW, client=rig.client, progress=False, wait=True,
        clock=rig.clock, sleep=rig.sleep,
    )  # fmt: skip
    assert out.finished.all() and (out.status == "JOB_COMPLETED").all()


def test_async_wait() -> None:
    rig = Rig()

    async def go() -> pd.DataFrame:
        results = await hg.aio.launch_jobs(OK[:2], flow_id=FLOW, client=rig.client, progress=False)
        return await hg.aio.wait_for_jobs(
            results, client=rig.client, clock=rig.clock, sleep=rig.sleep, progress=False
        )

    assert asyncio.run(go()).finished.all()


def test_bad_wait_arguments() -> None:
    rig = Rig()
    results = rig.launch(OK[:1])
    with pytest.raises(hg.ConfigError, match="poll_interval"):
        rig.wait(results, poll_interval=0)
    typo = r"wait_for_jobs\(\) got an unexpected keyword argument .pol_interval. — did you mean"
    with pytest.raises(hg.ConfigError, match=typo):
        rig.wait(results, pol_interval=3)
    with pytest.raises(hg.ConfigError, match="results frame"):
        hg.wait_for_jobs(pd.DataFrame({"tenant": ["a"]}))


def test_polling_honours_the_rate_limit() -> None:
    rig = Rig()
    results = rig.launch(OK[:10])
    rig.wait(results, rate_limit=4)
    starts = rig.gets()
    assert len(starts) >= 90
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.25 - 1e-9  # 4 requests/second at most, on the fake clock


def test_a_burst_of_429s_on_polls_pauses_every_poll_for_its_retry_after() -> None:
    rig = Rig()
    results = rig.launch(OK[:8])
    throttled: list[float] = []

    def intercept(request: httpx.Request, number: int) -> httpx.Response | None:
        if request.method == "GET" and len(throttled) < 4 and len(rig.gets()) >= 12:
            throttled.append(rig.clock())  # four 429s in a row: the server is saturated
            return httpx.Response(429, json={"Message": "slow down"}, headers={"Retry-After": "7"})
        return None

    rig.transport.intercept = intercept
    out = rig.wait(results, poll_interval=1, concurrency=4)
    assert out.finished.all() and len(throttled) == 4
    burst = throttled[2]  # the third 429 within a second: a burst, not one tenant's limit
    during = [at for at in rig.gets() if burst < at < burst + 7]
    assert during == [] and rig.gets(after=burst + 7)  # every poll waited out the pause


def test_a_refused_key_stops_the_wait_at_once() -> None:
    good = Rig()
    results = good.launch(OK[:40])
    rig = Rig(api_key="wrong-key")
    rig.app = good.app  # the same jobs, seen with a bad key
    rig.transport.inner = httpx.ASGITransport(app=good.app)
    with pytest.raises(hg.AuthenticationError) as caught:  # a run-wide failure raises
        rig.wait(results, concurrency=4)
    out = caught.value.results
    assert out is hg.last_run() and len(out) == 40
    assert len(rig.gets()) <= 4  # the first refusal stopped every other poll
    assert not out.finished.any() and out.status.eq("JOB_CREATED").all()
    assert out.error.str.contains("refused the key").all()
    assert "wrong-key" not in out.to_csv()


# --- analysis ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished() -> pd.DataFrame:
    rig = Rig()
    tenants = OK[:10] + list(FAILING)[:4] + ["nobody"]
    results = rig.launch(tenants, on_invalid="skip", override_start_date="2024-01-01",
                         job_name="nightly")  # fmt: skip
    return rig.wait(results)


def test_summarize(finished: pd.DataFrame) -> None:
    summary = hg.summarize(finished)
    assert summary.outcomes.loc["created", "count"] == 14
    assert summary.outcomes.loc["rejected", "count"] == 1
    assert summary.statuses.loc["JOB_COMPLETED", "count"] == 10
    assert abs(summary.outcomes["share"].sum() - 1) < 1e-9
    assert set(summary.durations.columns) >= {"p50", "p90", "max"}
    assert summary.by_flow.loc[FLOW, "success_rate"] == pytest.approx(10 / 14, abs=1e-4)
    assert "outcomes" in repr(summary) and "<table" in summary._repr_html_()


def test_failures_grouped_by_message(finished: pd.DataFrame) -> None:
    table = hg.failures(finished)
    assert list(table.columns) == ["kind", "message", "count", "tenants", "stage"]
    assert table["count"].sum() == 5
    rejected = table[table.kind == "rejected"].iloc[0]
    assert rejected.tenants == "nobody" and rejected.message == "Tenant <value> not found"
    failed = table[table.kind == "failed"]
    assert set(failed.stage) <= {"SYNC", "ETL", "EXPORT", "DISCOVER"}
    assert all(len(t) >= 1 for t in failed.tenants)
    assert all(isinstance(t, str) for t in table.tenants)


def test_retry_frame_round_trip(finished: pd.DataFrame) -> None:
    again = hg.retry_frame(finished)
    assert len(again) == 5 and set(again.index) == set(
        finished[
            (finished.succeeded == False) | (finished.outcome == "rejected")  # noqa: E712
        ].index
    )
    assert (again.override_start_date == "2024-01-01T00:00:00.000Z").all()
    assert (again.job_name == "nightly").all()
    only_failed = hg.retry_frame(finished, which="failed")
    assert len(only_failed) == 4
    rerun = hg.launch_jobs(only_failed, dry_run=True, progress=False, env_id=WORLD.env_id)
    bodies = [json.loads(b) for b in rerun.request]
    assert all(b["override_start_date"] == "2024-01-01T00:00:00.000Z" for b in bodies)
    assert all(b["job_name"].startswith("nightly~") for b in bodies)
    with pytest.raises(hg.ConfigError, match="which="):
        hg.retry_frame(finished, which="broken")


def test_plot_outcomes(finished: pd.DataFrame) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    fig = hg.plot_outcomes(finished)
    assert len(fig.axes) == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_export_round_trips(finished: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    path = hg.export_results(finished, tmp_path / f"results{suffix}")
    back = hg.read_results(path)
    assert list(back.columns) == list(finished.columns)
    assert back.dtypes.astype(str).tolist() == finished.dtypes.astype(str).tolist()
    assert list(back.index) == list(finished.index)
    expected = finished.copy()
    if suffix == ".xlsx":  # Excel keeps milliseconds
        for column in ("launched_at", "last_updated"):
            expected[column] = expected[column].dt.round("ms")
    pd.testing.assert_frame_equal(back, expected, check_index_type=False)
    assert json.loads(back.request.iloc[0])["job_name"].startswith("nightly~")


def test_export_bad_extension(finished: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(hg.ConfigError, match=".csv, .parquet, .xlsx"):
        hg.export_results(finished, tmp_path / "results.json")
    with pytest.raises(hg.ConfigError, match="No results file"):
        hg.read_results(tmp_path / "missing.csv")


def test_history_in_the_journal(tmp_path: Path) -> None:
    rig = Rig()
    journal = tmp_path / "run.jsonl"
    tenants = pd.DataFrame({"tenant": [OK[0], list(FAILING)[0], "nobody"]}, index=["a", "b", "c"])
    results = rig.launch(tenants, journal=journal)
    out = rig.wait(results)  # the journal path travels in results.attrs
    past = hg.load_run(journal)
    assert list(past.index) == ["a", "b", "c"]
    assert list(past.outcome) == list(out.outcome)
    assert list(past.status) == list(out.status)
    assert past.finished.iloc[0] and past.succeeded.iloc[0] and not past.succeeded.iloc[1]
    assert hg.failures(past)["count"].sum() == 2


def test_launch_and_wait_share_one_progress_display() -> None:
    import io

    from tqdm import tqdm

    bars: list[tqdm] = []
    sink = io.StringIO()

    def bar(**kw: Any) -> tqdm:
        bars.append(tqdm(file=sink, mininterval=0, miniters=1, **kw))
        return bars[-1]

    rig = Rig()
    out = hg.launch_jobs(
        OK[:3], flow_id=FLOW, client=rig.client, progress=bar, wait=True,
        clock=rig.clock, sleep=rig.sleep,
    )  # fmt: skip
    assert out.finished.all()
    assert len(bars) == 1
    text = sink.getvalue()
    assert "launch" in text and "wait" in text and "completed=3" in text


def test_unknown_rows_are_looked_up_by_name() -> None:
    rig = Rig()
    results = rig.launch(OK[:2])
    lost = results.copy()
    lost["outcome"] = "unknown"  # as if both answers had been lost
    lost["job_root"] = pd.NA
    lost["job_id"] = pd.NA
    body = json.loads(lost.loc[1, "request"])
    body["job_name"] = "never-sent~x-000001"  # the second was in fact never created
    lost.loc[1, "request"] = json.dumps(body)
    out = rig.wait(lost)
    first, second = out.iloc[0], out.iloc[1]
    assert first.outcome == "created" and first.finished and first.job_root == results.job_root[0]
    assert "found by wait_for_jobs" in first.error
    assert second.outcome == "unknown" and not second.finished
    assert "most likely never created" in second.error


def test_progress_counts_rows_even_when_a_tenant_is_in_two_flows() -> None:
    import io

    from tqdm import tqdm

    sink = io.StringIO()
    flow2 = WORLD.flow_ids[1]
    both = [t for t in OK if WORLD.linked(t, flow2)][:2]
    rig = Rig()
    tenants = pd.DataFrame({"tenant": both * 2, "flow_id": [FLOW, FLOW, flow2, flow2]})
    out = hg.launch_jobs(
        tenants, client=rig.client, wait=True, clock=rig.clock, sleep=rig.sleep,
        progress=lambda **kw: tqdm(file=sink, mininterval=0, miniters=1, **kw),
    )  # fmt: skip
    assert out.finished.all()
    assert "4/4" in sink.getvalue() and "completed=4" in sink.getvalue()

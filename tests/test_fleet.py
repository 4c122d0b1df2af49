"""The fleet view on the sandbox's seeded 30-day history: known answers, in-process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb.sandbox._history import DAY

# the sandbox's clock when it was made, "now" for the history: today (a launch's preflight
# measures dormancy against the wall clock)
ORIGIN = float(int(time.time()) // 60 * 60)
WORLD = sandbox.demo_world(0)
FLOW = WORLD.flow_ids[0]
NOW = pd.Timestamp(ORIGIN, unit="s", tz="UTC")


def profiles(kind: str) -> list[str]:
    return [t for t, info in WORLD.tenants.items() if info["history"][FLOW]["profile"] == kind]


#: a server that lists every job (the analysis is tested on whole histories; the capped,
#: stricter wire has tests of its own below)
UNCAPPED = {"list_cap": None}


class Fleet:
    """A sandbox with history on a fixed clock, and a client on it (no sockets)."""

    def __init__(
        self, api_key: str = WORLD.api_key, history_days: int = 30, faults: Any = None,
        wire: Any = UNCAPPED,
    ) -> None:  # fmt: skip
        self.now = ORIGIN
        self.app = sandbox.create_app(
            sandbox.demo_world(0), clock=lambda: self.now, history_days=history_days,
            faults=faults, wire=wire,
        )  # fmt: skip
        self.state = self.app.state.sandbox
        self.client = hg.AsyncHotglue(
            api_key=api_key, env_id=WORLD.env_id, base_url="http://127.0.0.1",
            transport=httpx.ASGITransport(app=self.app),
        )  # fmt: skip

    def options(self, **kw: Any) -> dict[str, Any]:
        return {"client": self.client, "progress": False, **kw}


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return hg.job_history(FLOW, now=NOW, count=100, **Fleet().options())


def test_one_row_per_job_sorted_with_the_promised_columns(history: pd.DataFrame) -> None:
    dormant = profiles("dormant")
    assert len(history) == 30 * (len(WORLD.tenants) - len(dormant)) + 15 * len(dormant)
    assert list(history.columns) == list(hg._frames.HISTORY_COLUMNS)
    assert history.attrs["errors"] == [] and hg.read_errors(history).empty
    keys = list(zip(history.tenant, history.start_time, strict=True))
    assert keys == sorted(keys)
    completed = history[history.status == "JOB_COMPLETED"]
    assert completed.succeeded.all() and (completed.duration_s > 100).all()
    assert completed.records.map(lambda r: isinstance(r, dict) and len(r) > 0).all()
    assert history.scheduled_job.all() and set(history.tap) <= {"salesforce", "hubspot"}


def test_a_failure_streak_is_reported_from_the_day_it_started(history: pd.DataFrame) -> None:
    health = hg.fleet_health(history, now=NOW).set_index("tenant")
    for kind in ("failing", "fixed", "disconnected"):
        for tenant in profiles(kind):
            day = WORLD.tenants[tenant]["history"][FLOW]["day"]
            row = health.loc[tenant]
            assert row.problem == "failing" and row.failure_streak == 30 - day
            started = pd.Timestamp(ORIGIN - (30 - day) * DAY, unit="s", tz="UTC")
            assert started <= row.failing_since < started + pd.Timedelta(hours=4), tenant
            assert row.last_success_at < row.failing_since


def test_problem_labels_match_the_seeded_profiles(history: pd.DataFrame) -> None:
    health = hg.fleet_health(history, now=NOW).set_index("tenant")
    assert (health.loc[profiles("dormant"), "problem"] == "dormant").all()
    assert (health.loc[profiles("dormant"), "days_since_last_job"] > 44).all()
    assert (health.loc[profiles("records_drop"), "problem"] == "records_drop").all()
    assert (health.loc[profiles("records_drop"), "records_ratio"] < 0.2).all()
    assert (health.loc[profiles("slow"), "problem"] == "slow").all()
    assert set(health.loc[profiles("flaky"), "problem"]) <= {"flaky", "failing"}
    assert (health.loc[profiles("ok"), "problem"] == "ok").all()
    assert list(health.columns) == list(hg._frames.HEALTH_COLUMNS)[1:]
    assert health.problem.iloc[0] == "failing"  # worst first


def test_since_until_accept_spans_dates_and_text(history: pd.DataFrame) -> None:
    fleet = Fleet()
    tenants = profiles("ok")[:5]
    week = hg.job_history(FLOW, tenants, since="7d", now=NOW, **fleet.options())
    assert len(week) == 5 * 7 and (week.start_time >= NOW - pd.Timedelta(days=7)).all()
    day = (NOW - pd.Timedelta(days=3)).date()
    window = hg.job_history(FLOW, tenants, since=day, until=str(NOW.date()), now=NOW,
                            **fleet.options())  # fmt: skip
    since, until = pd.Timestamp(day, tz="UTC"), pd.Timestamp(NOW.date(), tz="UTC")
    every = hg.job_history(FLOW, tenants, now=NOW, count=100, **fleet.options())
    inside = every[(every.start_time >= since) & (every.start_time < until)]
    assert len(window) == len(inside) and 5 * 2 <= len(window) <= 5 * 4  # jobs start ~1-3 h
    assert window.job_root.tolist() == inside.job_root.tolist()  # after "now": by the clock
    with pytest.raises(hg.ConfigError, match="span like '7d'"):
        hg.job_history(FLOW, tenants, since="last tuesday", **fleet.options())


def test_a_failing_tenant_read_is_data_a_refused_key_raises() -> None:
    fleet = Fleet()
    out = hg.job_history(FLOW, ["nobody", profiles("ok")[0]], count=100, **fleet.options())
    errors = hg.read_errors(out)
    assert list(errors.tenant) == ["nobody"] and errors.http_status.iloc[0] == 404
    assert dict(errors.dtypes.astype(str)) == {k: v for k, v in hg._frames.ERROR_COLUMNS.items()}
    assert set(out.tenant) == {profiles("ok")[0]}
    bad = Fleet(api_key="wrong")
    with pytest.raises(hg.AuthenticationError):
        hg.job_history(FLOW, **bad.options(concurrency=4))
    gets = [r for r in bad.state.requests if r[0] == "GET"]
    assert len(gets) == 1  # the tenant listing itself was refused: nothing else was sent


def test_latest_jobs_keeps_tenants_without_a_job() -> None:
    fleet = Fleet(history_days=0)
    first = profiles("ok")[0]
    asyncio.run(fleet.client.run_job(FLOW, first))
    out = hg.latest_jobs(FLOW, profiles("ok")[:3], **fleet.options())
    assert list(out.tenant) == profiles("ok")[:3]
    assert out.status.iloc[0] == "JOB_CREATED" and out.status.iloc[1:].isna().all()


def test_signatures_group_the_same_cause_and_agree_with_failures(history: pd.DataFrame) -> None:
    table = hg.failure_signatures(history)
    assert list(table.columns) == [
        "stage", "tap", "signature", "count", "tenants", "first_seen", "last_seen",
    ]  # fmt: skip
    flaky = table[table.signature.str.contains("answered <n> at <time>")]
    assert len(flaky) <= 2 and flaky["count"].sum() > 20  # 503s on many days: one signature/tap
    assert not table.signature.str.contains(r"\d").any()  # numbers, ids and times masked
    assert table["count"].sum() == int((history.succeeded == False).sum())  # noqa: E712
    results = pd.DataFrame({
        "tenant": ["a1", "b2"], "flow_id": FLOW, "env_id": "e", "outcome": "created",
        "succeeded": [False, False], "finished": True, "failed_stage": "SYNC",
        "message": ["Sync failed for a1 at 2024-01-01T00:00:00Z", "Sync failed for b2 at "
                    "2024-02-03T10:00:00Z"], "error": None, "launched_at": NOW,
    })  # fmt: skip
    assert hg.failures(results).message.tolist() == ["Sync failed for <tenant> at <time>"]
    assert (
        hg.failure_signatures(results).signature.tolist() == hg.failures(results).message.tolist()
    )


def test_compare_a_history_with_a_rerun() -> None:
    fleet = Fleet()
    history = hg.job_history(FLOW, now=NOW, count=100, **fleet.options())
    health = hg.fleet_health(history, now=NOW)
    again = hg.retry_frame(health[health.problem == "failing"])
    assert list(again.columns) == ["tenant", "flow_id", "env_id"]
    fixed, broken = set(profiles("fixed")), set(profiles("failing")) | set(profiles("disconnected"))
    assert fixed | broken <= set(again.tenant)
    clock = hg.sandbox.FakeClock(ORIGIN)
    fleet.now = clock.now

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        fleet.now = clock.now

    rerun = hg.launch_jobs(again, wait=True, clock=clock, sleep=sleep, reconcile_delay=0,
                           **fleet.options())  # fmt: skip
    diff = hg.compare(history, rerun)
    changes = diff.set_index("tenant").change
    assert (changes[list(fixed)] == "fixed").all()
    assert (changes[list(broken)] == "still_failing").all()
    healed = set(again.tenant) - broken  # the "fixed" profiles, and flaky ones that had failed
    assert diff.attrs["summary"]["fixed"] == len(healed) and len(diff) == len(again)
    assert {"records_before", "records_after", "records_change", "duration_s_change"} <= set(
        diff.columns
    )


def test_check_tenants_and_the_preflight_of_a_launch() -> None:
    fleet = Fleet()
    dormant, broken, ok = profiles("dormant")[0], profiles("disconnected")[0], profiles("ok")[0]
    flow2 = WORLD.flow_ids[1]
    unlinked = next(t for t in WORLD.tenants if WORLD.linked(t, flow2) is None)
    asyncio.run(fleet.client.run_job(FLOW, ok))  # a job is running for `ok`
    check = hg.check_tenants([dormant, broken, ok, profiles("ok")[1]], FLOW, now=NOW,
                             **fleet.options())  # fmt: skip
    reasons = dict(zip(check.tenant, check.reason.fillna(""), strict=True))
    assert reasons[dormant].startswith("dormant: no job for 4") and "billable" in reasons[dormant]
    assert reasons[broken].startswith("disconnected:") and "refresh token" in reasons[broken]
    assert reasons[ok].startswith("running:") and list(check.ready) == [False] * 3 + [True]
    other = hg.check_tenants([unlinked], flow2, **fleet.options())
    assert other.reason.iloc[0].startswith("not_linked") and other.linked.iloc[0] == False  # noqa: E712
    tenants = [dormant, broken, profiles("ok")[1]]
    out = hg.launch_jobs(tenants, flow_id=FLOW, preflight=True, reconcile_delay=0,
                         **fleet.options())  # fmt: skip
    assert list(out.outcome) == ["skipped", "skipped", "created"]
    assert out.error.iloc[0].startswith("preflight: dormant")
    allowed = hg.launch_jobs([dormant], flow_id=FLOW, preflight=True,
                             preflight_allow=["dormant"], **fleet.options())  # fmt: skip
    assert allowed.outcome.iloc[0] == "created"
    with pytest.raises(hg.ConfigError, match="preflight_allow"):
        hg.launch_jobs([dormant], flow_id=FLOW, preflight=True, preflight_allow="dormant",
                       **fleet.options())  # fmt: skip


def test_an_interrupted_history_read_returns_what_was_read() -> None:
    fleet = Fleet(faults={"latency": 0.002})  # each answer awaits: there is time to cancel

    async def go() -> hg.LaunchInterrupted:
        task = asyncio.ensure_future(
            hg.aio.job_history(FLOW, count=100, **fleet.options(concurrency=2))
        )
        while sum(1 for r in fleet.state.requests if r[0] == "GET") < 20:  # noqa: ASYNC110
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(hg.LaunchInterrupted) as info:
            await task
        return info.value

    exc = asyncio.run(go())
    assert exc.phase == "history" and 0 < exc.results.tenant.nunique() < len(WORLD.tenants)


def test_plot_history(history: pd.DataFrame) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    fig = hg.plot_history(history, worst=10)
    assert len(fig.axes) == 2 and len(fig.axes[1].get_yticklabels()) == 10


def test_the_fleet_commands(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotglue_nb", *args], env=env, text=True,
                              capture_output=True, timeout=120, cwd=tmp_path)  # fmt: skip

    with sandbox.serve(history_days=30, wire=UNCAPPED) as sb:
        env = {**os.environ, "HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
               "HOTGLUE_BASE_URL": sb.base_url}  # fmt: skip
        r = cli("history", "--flow", sb.flow_id, "--since", "7d", "--out", "h.csv")
        assert r.returncode == 0, r.stderr[-1000:]
        assert "Failures by signature" in r.stdout and (tmp_path / "h.csv").exists()
        assert hg.read_results(tmp_path / "h.csv").start_time.min() >= NOW - pd.Timedelta(days=8)
        r = cli("health", "--flow", sb.flow_id, "--problem", "failing", "--out", "rerun.xlsx")
        assert r.returncode == 0 and "a tenants file" in r.stdout, r.stderr[-1000:]
        rerun = hg.read_tenants(tmp_path / "rerun.xlsx")  # a valid tenants file
        assert set(rerun.problem) == {"failing"} and len(rerun) >= 20
        r = cli("check", "rerun.xlsx", "--flow", sb.flow_id)
        assert r.returncode == 1 and "disconnected:" in r.stdout  # not every row is ready
        r = cli("launch", "rerun.xlsx", "--flow", sb.flow_id, "--check", "--out", "res.csv")
        launched = hg.read_results(tmp_path / "res.csv")
        assert len(launched) == len(rerun)
        assert launched.error.fillna("").str.startswith("preflight: disconnected").sum() >= 1
        assert cli("health").returncode == 2  # no --flow: one line, exit 2

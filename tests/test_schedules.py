"""Schedules in bulk (issue #25): read, set, pause and restore exactly, on the sandbox over
real sockets; faults, lost answers, a killed pause, two processes, bad frames and journals."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

from .polling import until

pytestmark = pytest.mark.usefixtures("both_transports")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # default journals go to ./hotglue-runs


FAULTS = {"server_error": 0.15, "locked": 0.05, "lose_answer": 0.1, "latency": 0.002}


async def _no_sleep(_: float) -> None:
    return None


def opts(sb: sandbox.Sandbox, **kw: Any) -> dict[str, Any]:
    return {"progress": False, "sleep": _no_sleep, **sb.credentials, **kw}


def writes(sb: sandbox.Sandbox) -> list[tuple[str, str | None]]:
    return [(m, t) for m, path, t, _ in sb.state.requests if m in ("PUT", "DELETE")]


def test_the_wire_is_hotglues_pascalcase_and_no_schedule_reads_as_none_both_ways() -> None:
    for no_schedule in ("empty", "404"):
        with sandbox.serve(wire={"no_schedule": no_schedule}) as sb:
            key = next(k for k, v in sb.state.schedules.items() if v["State"] == "DISABLED")
            with httpx.Client(base_url=sb.base_url, headers={"x-api-key": sb.api_key}) as c:
                answer = c.get(f"/{sb.env_id}/{key[0]}/{key[1]}/jobs/schedule").json()
                assert {"ScheduleExpression", "State", "Name", "Arn"} <= set(answer)
                bad = c.put(f"/{sb.env_id}/{key[0]}/{key[1]}/jobs/schedule",
                            json={"schedule_expression": "0 3 * * *"})  # fmt: skip
                assert bad.status_code == 400  # the sandbox checks as EventBridge does
            table = hg.schedules(sb.flow_id, **opts(sb))
            missing = table[~table["has_schedule"].astype(bool)]
            assert len(missing) and missing["error"].isna().all()
            row = table.set_index("tenant").loc[key[1]]
            assert row["state"] == "DISABLED" and row["raw"]["ScheduleExpression"]


def test_pause_then_restore_over_500_tenants_with_faults_puts_every_schedule_back() -> None:
    world = sandbox.demo_world(0, tenants=500)
    with sandbox.serve(world, faults=FAULTS) as sb:
        before = dict(sb.state.schedules)
        plan = hg.pause_schedules(sb.flow_id, dry_run=True, **opts(sb))
        assert writes(sb) == [] and set(plan["outcome"]) <= {"planned", "unchanged"}
        paused = hg.pause_schedules(sb.flow_id, **opts(sb))
        enabled = {k for k, v in before.items() if k[0] == sb.flow_id and v["State"] == "ENABLED"}
        assert set(paused.loc[paused["changed"].astype(bool), "tenant"]) == {t for _, t in enabled}
        assert (paused["outcome"].isin(["changed", "unchanged"])).all(), paused["error"].dropna()
        assert all(sb.state.schedules[k]["State"] == "DISABLED" for k in enabled)
        puts = len(writes(sb))
        restored = hg.restore_schedules(paused, **opts(sb))
        assert (restored["outcome"] == "changed").all(), restored["error"].dropna()
        assert sb.state.schedules == before  # byte for byte, "no schedule" included
        assert puts >= len(enabled)  # lost answers re-read, 5xx tried again after a read


def test_a_lost_answer_is_read_back_never_sent_twice() -> None:
    world = sandbox.demo_world(0, tenants=30)
    with sandbox.serve(world) as sb:
        enabled = [t for (f, t), v in sb.state.schedules.items()
                   if f == sb.flow_id and v["State"] == "ENABLED"][:3]  # fmt: skip
        sb.state.faults.per_tenant.update(
            {t: sandbox.Faults(lose_answer=1.0) for t in enabled})  # fmt: skip
        paused = hg.pause_schedules(sb.flow_id, enabled, **opts(sb))
        assert list(paused["outcome"]) == ["changed"] * 3
        assert sorted(t for _, t in writes(sb)) == sorted(enabled)  # one PUT each


def test_a_schedule_changed_meanwhile_is_a_conflict_unless_overwrite() -> None:
    with sandbox.serve() as sb:
        paused = hg.pause_schedules(sb.flow_id, sb.tenants[:30], **opts(sb))
        touched = paused.loc[paused["changed"].astype(bool), "tenant"].tolist()
        other = touched[0]
        sb.state.schedules[(sb.flow_id, other)] = {"ScheduleExpression": "rate(5 minutes)",
                                                   "State": "ENABLED"}  # fmt: skip
        restored = hg.restore_schedules(paused, **opts(sb)).set_index("tenant")
        assert restored.loc[other, "outcome"] == "conflict"
        assert "overwrite=True" in restored.loc[other, "error"]
        assert sb.state.schedules[(sb.flow_id, other)]["ScheduleExpression"] == "rate(5 minutes)"
        again = hg.restore_schedules(paused, overwrite=True, **opts(sb)).set_index("tenant")
        assert again.loc[other, "outcome"] == "changed"
        assert sb.state.schedules[(sb.flow_id, other)]["State"] == "ENABLED"
        assert sb.state.schedules[(sb.flow_id, other)]["ScheduleExpression"] != "rate(5 minutes)"


def test_set_schedules_refuses_bad_rows_before_any_request() -> None:
    with sandbox.serve() as sb:
        frame = pd.DataFrame({
            "tenant": ["a", "b", "c", "d", "a"], "flow_id": sb.flow_id,
            "schedule_expression": ["cron(0 3 * * *)", "every day", None, "rate(1 day)",
                                    "rate(2 hours)"],
            "state": [None, None, "PAUSED", None, None],
            "delete": [False, False, False, True, False],
        })  # fmt: skip
        with pytest.raises(hg.ConfigError) as caught:
            hg.set_schedules(frame, **opts(sb))
        text = str(caught.value)
        assert "5 row(s) cannot be set, nothing was sent" in text
        assert "add the year" in text and "'every day'" in text and "PAUSED" in text
        assert "choose one" in text and "row 0" in text
        assert sb.state.requests == []
        for bad in (frame[["tenant"]], "not a frame", frame.drop(columns="flow_id")):
            with pytest.raises(hg.ConfigError):
                hg.set_schedules(bad, **opts(sb))


def test_set_sends_only_differences_and_restore_of_its_journal_deletes_what_was_new(
    tmp_path: Path,
) -> None:
    with sandbox.serve() as sb:
        before = dict(sb.state.schedules)
        flows = sb.state.world.tenants
        none = [t for t in sb.tenants if sb.flow_id in flows[t]["flows"]
                and (sb.flow_id, t) not in before][:2]  # fmt: skip
        same = [t for t in sb.tenants if before.get((sb.flow_id, t), {}).get("State") == "ENABLED"]
        frame = pd.DataFrame({"tenant": [*none, same[0]], "flow_id": sb.flow_id,
                              "schedule_expression": ["cron(0 5 * * ? *)"] * 2
                              + [before[(sb.flow_id, same[0])]["ScheduleExpression"]]})  # fmt: skip
        journal = tmp_path / "set.jsonl"
        result = hg.set_schedules(frame, journal=journal, **opts(sb))
        assert list(result["action"]) == ["put", "put", "none"]
        assert list(result["outcome"]) == ["changed", "changed", "unchanged"]
        assert len(writes(sb)) == 2
        assert sb.api_key not in journal.read_text() and sb.api_key not in repr(result)
        restored = hg.restore_schedules(journal, **opts(sb))
        assert list(restored["action"]) == ["delete", "delete"]
        assert sb.state.schedules == before


KILLED = """
import sys, hotglue_nb as hg
base, key, env, flow, journal = sys.argv[1:6]
hg.pause_schedules(flow, journal=journal, api_key=key, env_id=env, base_url=base,
                   concurrency=2, progress=False)
print("DONE")
"""


def test_a_pause_killed_midway_resumes_and_restores_every_tenant_exactly(tmp_path: Path) -> None:
    journal = tmp_path / "pause.jsonl"
    world = sandbox.demo_world(0, tenants=120)
    with sandbox.serve(world, faults={"latency": 0.02}) as sb:
        before = dict(sb.state.schedules)
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(journal)]
        child = subprocess.Popen([sys.executable, "-c", KILLED, *args])
        until(lambda: journal.exists() and journal.read_text().count('"intent"') >= 10)
        child.kill()
        child.wait()
        second = subprocess.run([sys.executable, "-c", KILLED, *args], capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        assert "DONE" in second.stdout, second.stderr
        restored = hg.restore_schedules(journal, **opts(sb))
        assert (restored["outcome"].isin(["changed", "unchanged"])).all()
        assert sb.state.schedules == before


def test_two_processes_cannot_pause_with_one_journal(tmp_path: Path) -> None:
    journal = tmp_path / "pause.jsonl"
    with sandbox.serve(sandbox.demo_world(0, tenants=120), faults={"latency": 0.03}) as sb:
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(journal)]
        first = subprocess.Popen([sys.executable, "-c", KILLED, *args])
        until(lambda: journal.exists() and journal.stat().st_size > 0)
        with pytest.raises(hg.ConfigError, match="in use by another run"):
            hg.pause_schedules(sb.flow_id, journal=journal, **opts(sb))
        first.wait(timeout=120)


def test_restore_refuses_foreign_torn_and_other_flow_journals(tmp_path: Path) -> None:
    launch = tmp_path / "launch.jsonl"
    launch.write_text(json.dumps({"kind": "run", "run_id": "r", "flow_id": "f"}) + "\n")
    with pytest.raises(hg.ConfigError, match="not of a schedule change"):
        hg.restore_schedules(launch, api_key="k", env_id="e")
    torn = tmp_path / "torn.jsonl"
    header = {"kind": "run", "run_id": "t", "operation": "pause_schedules", "flow_id": "f"}
    torn.write_text(json.dumps(header) + "\n{not json\n" + json.dumps({"kind": "x"}) + "\n")
    with pytest.raises(hg.ConfigError, match="is not a journal record"):
        hg.restore_schedules(torn, api_key="k", env_id="e")
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps(header) + "\n")
    with pytest.raises(hg.ConfigError, match="journal of flow 'f', not 'g'"):
        hg.pause_schedules("g", ["a"], journal=other, api_key="k", env_id="e", progress=False)
    with pytest.raises(hg.ConfigError, match="needs the result"):
        hg.restore_schedules(pd.DataFrame({"tenant": ["a"]}), api_key="k", env_id="e")


def test_a_read_only_key_reads_but_its_writes_are_refused_naming_permissions() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"ScheduleExpression": "rate(1 day)",
                                             "State": "ENABLED"})  # fmt: skip
        return httpx.Response(403, json={"Code": "ForbiddenError", "Message": "Forbidden"})

    client = hg.AsyncHotglue("secret-key-123", "env", transport=httpx.MockTransport(handler))
    options = {"client": client, "progress": False}
    assert hg.schedules("f", ["a", "b"], **options)["state"].tolist() == ["ENABLED"] * 2
    with pytest.raises(hg.AuthenticationError) as caught:
        hg.pause_schedules("f", ["a", "b"], dry_run=False, journal=None, **options)
    frame = caught.value.results  # type: ignore[attr-defined]
    assert "write permission" in frame["error"].dropna().iloc[0]
    assert "secret-key-123" not in repr(frame) + str(caught.value)


def test_writes_in_flight_at_ctrl_c_are_unknown_and_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import _thread
    import asyncio
    import threading

    from starlette.responses import JSONResponse

    from hotglue_nb.sandbox import _schedules as served

    class Late(JSONResponse):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await asyncio.sleep(1.0)
            await super().__call__(scope, receive, send)

    with sandbox.serve(sandbox.demo_world(0, tenants=40)) as sb:
        before = dict(sb.state.schedules)
        on_time = served.answer_write
        monkeypatch.setattr(served, "answer_write", lambda *_: Late({}))

        def interrupt() -> None:
            until(lambda: len(writes(sb)) >= 3)
            time.sleep(0.2)
            _thread.interrupt_main()

        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(hg.LaunchInterrupted) as caught:
            hg.pause_schedules(sb.flow_id, sb.tenants, concurrency=4, **opts(sb))
        frame = caught.value.results
        sent = frame[frame["action"] == "put"]
        assert len(sent) >= 3 and set(sent["outcome"]) == {"unknown"}
        monkeypatch.setattr(served, "answer_write", on_time)
        time.sleep(1.2)  # the late answers land
        hg.restore_schedules(hg.read_results(_exported(frame)), **opts(sb))
        assert sb.state.schedules == before


def _exported(frame: pd.DataFrame) -> Path:
    path = Path("paused.csv")
    hg.export_results(frame, path)
    return path


def test_a_resume_matches_rows_by_tenant_and_leaves_a_colleagues_change_alone() -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=30)) as sb:
        before = dict(sb.state.schedules)
        on = [t for (f, t), v in before.items() if f == sb.flow_id and v["State"] == "ENABLED"]
        a, b, c = on[:3]
        hg.pause_schedules(sb.flow_id, [a, b], journal="j.jsonl", **opts(sb))
        sb.state.schedules[(sb.flow_id, b)] = {"ScheduleExpression": "rate(7 days)",
                                               "State": "ENABLED"}  # fmt: skip
        again = hg.pause_schedules(sb.flow_id, [c, b, a], journal="j.jsonl", **opts(sb))
        outcome = dict(zip(again["tenant"], again["outcome"], strict=True))
        assert outcome == {c: "changed", b: "conflict", a: "changed"}
        assert sb.state.schedules[(sb.flow_id, b)]["ScheduleExpression"] == "rate(7 days)"
        restored = hg.restore_schedules("j.jsonl", **opts(sb)).set_index("tenant")
        assert restored.loc[b, "outcome"] == "conflict"  # someone else's: left alone
        assert sb.state.schedules[(sb.flow_id, a)] == before[(sb.flow_id, a)]
        assert sb.state.schedules[(sb.flow_id, c)] == before[(sb.flow_id, c)]


def test_a_lost_answer_whose_read_back_fails_is_unknown_and_restorable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hotglue_nb._client._tenant_calls import TenantCalls

    real = TenantCalls.get_schedule
    lost: set[str] = set()

    async def get(self: Any, flow_id: str, tenant: str) -> Any:
        if tenant in lost:
            answer = httpx.Response(503, request=httpx.Request("GET", "http://sandbox/x"))
            raise hg.ServerError("GET -> 503", method="GET", path="/x", tenant=tenant,
                                 response=answer, body=None, code=None, api_message="")  # fmt: skip
        return await real(self, flow_id, tenant)

    with sandbox.serve(sandbox.demo_world(0, tenants=30)) as sb:
        before = dict(sb.state.schedules)
        on = [t for (f, t), v in before.items() if f == sb.flow_id and v["State"] == "ENABLED"]
        sb.state.faults.per_tenant[on[0]] = sandbox.Faults(lose_answer=1.0)
        lost.add(on[0])
        monkeypatch.setattr(TenantCalls, "get_schedule", get)
        lost.discard(on[0])  # reads fail only once the PUT's answer is lost
        original_put = TenantCalls.put_schedule

        async def put(self: Any, *args: Any, **kw: Any) -> None:
            try:
                await original_put(self, *args, **kw)
            except hg.APIConnectionError:
                lost.add(args[1])
                raise

        monkeypatch.setattr(TenantCalls, "put_schedule", put)
        paused = hg.pause_schedules(sb.flow_id, on[:2], journal="j.jsonl", **opts(sb))
        assert list(paused["outcome"]) == ["unknown", "changed"]
        monkeypatch.setattr(TenantCalls, "get_schedule", real)
        monkeypatch.setattr(TenantCalls, "put_schedule", original_put)
        sb.state.faults.per_tenant.clear()
        hg.restore_schedules("j.jsonl", **opts(sb))
        assert sb.state.schedules == before


def test_a_wrong_flow_is_an_error_not_no_schedule_and_bad_ids_are_refused_first() -> None:
    with sandbox.serve() as sb:
        with pytest.raises(hg.NotFoundError, match="not found"):
            hg.schedules(sb.flow_id + "x", sb.tenants[:3], **opts(sb))
        paused = hg.pause_schedules(sb.flow_id + "x", sb.tenants[:3], **opts(sb))
        assert set(paused["outcome"]) == {"failed"} and paused["error"].str.contains("Flow").all()
        frame = pd.DataFrame({"tenant": [sb.tenants[1], " lead", ".."], "flow_id": sb.flow_id,
                              "state": "DISABLED"})  # fmt: skip
        with pytest.raises(hg.ConfigError, match="2 row.*cannot be set") as caught:
            hg.set_schedules(frame, **opts(sb))
        assert "surrounding spaces" in str(caught.value)
        assert not writes(sb)
        with pytest.raises(hg.ConfigError, match="did you mean 'schedule_expression'"):
            hg.set_schedules(frame.assign(Schedule_Expression="rate(1 day)"), **opts(sb))


def test_a_result_read_back_as_text_restores_too() -> None:
    with sandbox.serve() as sb:
        before = dict(sb.state.schedules)
        paused = hg.pause_schedules(sb.flow_id, sb.tenants[:20], **opts(sb))
        paused.to_csv("raw.csv", index=False)
        hg.restore_schedules(pd.read_csv("raw.csv", dtype=str), **opts(sb))
        assert sb.state.schedules == before


def test_a_damaged_journal_is_refused_not_turned_into_deletes() -> None:
    with sandbox.serve() as sb:
        hg.pause_schedules(sb.flow_id, sb.tenants[:10], journal="j.jsonl", **opts(sb))
        text = Path("j.jsonl").read_text()
        Path("k.jsonl").write_text(text.replace('"before": {', '"before": null, "x": {', 1))
        with pytest.raises(hg.ConfigError, match="not a schedule as this package journals it"):
            hg.restore_schedules("k.jsonl", dry_run=True, **opts(sb))
        Path("k.jsonl").write_text(text.replace('"tenant": ', '"tenant_": ', 2))
        with pytest.raises(hg.ConfigError, match="without its tenant and flow_id"):
            hg.restore_schedules("k.jsonl", dry_run=True, **opts(sb))

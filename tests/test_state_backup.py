"""State kept before a full resync (issue #25): one file per link, a V2 state written back
only when asked and only where a write is known; on the sandbox over real sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

pytestmark = pytest.mark.usefixtures("both_transports")


def opts(sb: sandbox.Sandbox, **kw: Any) -> dict[str, Any]:
    return {"progress": False, **sb.credentials, **kw}


def test_a_backup_is_one_whole_file_per_tenant_even_for_odd_ids(tmp_path: Path) -> None:
    world = sandbox.demo_world(0, tenants=12)
    odd = "acme/eu west"
    world.tenants[odd] = world.tenants.pop(next(iter(world.tenants)))
    with sandbox.serve(world) as sb:
        index = hg.backup_state(sb.flow_id, [odd, *sb.tenants[:3]], out=tmp_path / "b",
                                **opts(sb))  # fmt: skip
        assert index["error"].isna().all() and (index["bytes"] > 0).all()
        saved = json.loads(Path(index["path"].iloc[0]).read_text())
        assert saved["tenant"] == odd and saved["state"] == sb.state.bookmarks[
            (sb.flow_id, odd, None)]  # fmt: skip
        assert index["streams"].iloc[0] == len(saved["state"]["bookmarks"])
        assert not list((tmp_path / "b").rglob("*.partial"))
        assert sb.api_key not in "".join(p.read_text() for p in (tmp_path / "b").rglob("*.json"))


def test_v1_states_cannot_be_written_back_and_say_why(tmp_path: Path) -> None:
    with sandbox.serve() as sb:
        index = hg.backup_state(sb.flow_id, sb.tenants[:2], out=tmp_path, **opts(sb))
        with pytest.raises(hg.ConfigError, match="no way to write a V1"):
            hg.restore_state(index, third_party=True, **opts(sb))


def test_a_v2_state_goes_back_only_with_third_party_and_a_dry_run_writes_nothing(
    tmp_path: Path,
) -> None:
    with sandbox.serve() as sb:
        world = sb.state.world.tenants
        linked = [t for t in sb.tenants if world[t].get("connectors")][:3]
        frame = pd.DataFrame(
            {
                "tenant": linked,
                "connector_id": [
                    world[t]["connectors"][sb.v2_flow_id][0]["connector_id"] for t in linked
                ],
            }
        )
        index = hg.backup_state(sb.v2_flow_id, frame, out=tmp_path, **opts(sb))
        saved = {k: v for k, v in sb.state.bookmarks.items() if k[0] == sb.v2_flow_id}
        hg.launch_jobs(frame.assign(job_type="read"), flow_id=sb.v2_flow_id,
                       reset_source_state=True, **opts(sb))  # fmt: skip
        wiped = (sb.v2_flow_id, linked[0], frame["connector_id"][0])
        assert sb.state.bookmarks[wiped]["bookmarks"] == {}
        with pytest.raises(hg.ConfigError, match="third_party=True"):
            hg.restore_state(index, **opts(sb))
        plan = hg.restore_state(tmp_path, third_party=True, dry_run=True, **opts(sb))
        assert set(plan["outcome"]) == {"planned"}
        assert not [r for r in sb.state.requests if r[0] == "PUT"]
        done = hg.restore_state(index, third_party=True, **opts(sb))
        assert set(done["outcome"]) == {"changed"}
        assert {k: v for k, v in sb.state.bookmarks.items() if k[0] == sb.v2_flow_id} == saved


def test_not_a_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(hg.ConfigError, match="not a state backup"):
        hg.restore_state(tmp_path, third_party=True, api_key="k", env_id="e")
    (tmp_path / "empty").mkdir()
    for nothing in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(hg.ConfigError, match="no state backup in"):
            hg.restore_state(nothing, third_party=True, api_key="k", env_id="e")


def test_a_launch_that_resets_state_backs_it_up_first_and_skips_a_row_it_could_not(
    tmp_path: Path,
) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=12)) as sb:
        tenants = sb.tenants[:4]
        before = {t: sb.state.bookmarks[(sb.flow_id, t, None)] for t in tenants}
        broken = tenants[3]
        sb.state.faults.per_tenant[broken] = sandbox.Faults(server_error=1.0, on_get=True)
        frame = pd.DataFrame({"tenant": tenants, "reset_source_state": [True, True, False, True]})
        out = hg.launch_jobs(frame, flow_id=sb.flow_id, backup_state=tmp_path / "kept",
                             journal=tmp_path / "run.jsonl", max_attempts=1,
                             **opts(sb))  # fmt: skip
        assert list(out["outcome"]) == ["created", "created", "created", "skipped"]
        assert "state backup failed" in out["error"].iloc[3]
        assert out["state_backup"].iloc[2] is pd.NA or pd.isna(out["state_backup"].iloc[2])
        for tenant, path in zip(tenants[:2], out["state_backup"][:2], strict=True):
            assert json.loads(Path(path).read_text())["state"] == before[tenant]
            assert sb.state.bookmarks[(sb.flow_id, tenant, None)]["bookmarks"] == {}  # reset
        assert len(sb.state.jobs_for(broken, sb.flow_id)) == 0  # not sent
        journal = (tmp_path / "run.jsonl").read_text()
        assert str(out["state_backup"].iloc[0]) in journal


def test_ctrl_c_while_backing_up_sends_no_job(monkeypatch: pytest.MonkeyPatch) -> None:
    import _thread
    import threading
    import time

    with sandbox.serve(sandbox.demo_world(0, tenants=30), faults={"latency": 0.05}) as sb:

        def interrupt() -> None:
            while sum(1 for r in sb.state.requests if "state" in r[1]) < 3:
                time.sleep(0.005)
            _thread.interrupt_main()

        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(hg.LaunchInterrupted):
            hg.launch_jobs(sb.tenants[:30], flow_id=sb.flow_id, reset_source_state=True,
                           backup_state="kept", concurrency=2, **opts(sb))  # fmt: skip
        assert not [r for r in sb.state.requests if r[0] == "POST"]


def test_a_refused_state_write_stops_the_restore(tmp_path: Path) -> None:
    import httpx

    state = {"current_stream": None, "bookmarks": {"a": {"v": 1}}}
    for n in range(5):
        record = {"tenant": f"t{n}", "flow_id": "f", "connector_id": "c", "state": state}
        (tmp_path / f"t{n}.json").write_text(json.dumps(record))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={})
        return httpx.Response(403, json={"Code": "ForbiddenError", "Message": "Forbidden"})

    client = hg.AsyncHotglue("secret-key-789", "env", transport=httpx.MockTransport(handler))
    with pytest.raises(hg.AuthenticationError) as caught:
        hg.restore_state(tmp_path, third_party=True, client=client, progress=False,
                         concurrency=1)  # fmt: skip
    frame = caught.value.results  # type: ignore[attr-defined]
    assert (frame["outcome"] == "failed").sum() == 1 and "write permission" in frame["error"][0]
    assert "secret-key-789" not in repr(frame)

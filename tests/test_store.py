"""The outcome store (issue #26): history kept between reads, upserted by job_root, never
duplicated; runs kept; on the sandbox over real sockets, each test on SQLite and on
PostgreSQL (``tests/stores.py``)."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

from .stores import ENGINES, new_location, raw_rows


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "job_history", hg.HotglueWarning)  # capped lists
        yield


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def where(engine: str, tmp_path: Path) -> Any:
    """A new store's location on the test's engine."""
    yield from new_location(engine, tmp_path)


def every_value(location: str) -> str:
    tables = ("meta", "jobs", "spans", "runs", "results", "events")
    return repr([raw_rows(location, f"SELECT * FROM {t}") for t in tables])


def opts(sb: sandbox.Sandbox) -> dict[str, Any]:
    return {"progress": False, **sb.credentials}


def test_a_sync_twice_keeps_every_job_once_and_reads_back_as_job_history(where: str) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=20), history_days=30) as sb:
        store = hg.Store(where)
        first = store.sync_history(sb.flow_id, **opts(sb))
        assert len(first) and set(first["change"]) == {"new"}
        assert len(store.sync_history(sb.flow_id, **opts(sb))) == 0  # idempotent
        kept, api = store.history(sb.flow_id), hg.job_history(sb.flow_id, **opts(sb))
        columns = [c for c in api.columns if c != "history_complete"]
        pd.testing.assert_frame_equal(kept[columns], api[columns])
        assert kept.groupby("tenant")["history_complete"].first().eq(False).all()  # oldest
        assert hg.fleet_health(kept)["tenant"].nunique() == 20
        assert sb.api_key not in every_value(where) and sb.api_key not in repr(store.info())


def test_history_outlives_the_apis_list_and_a_job_seen_again_is_replaced(where: str) -> None:
    clock = [1.9e9]
    world = sandbox.demo_world(0, tenants=30)
    failing = next(t for t, info in world.tenants.items() if info["failures"])
    with sandbox.serve(world, history_days=10, clock=lambda: clock[0]) as sb:
        store = hg.Store(where)
        store.sync_history(sb.flow_id, [failing], **opts(sb))
        for _ in range(6):  # six more failed jobs: the API still lists five
            hg.launch_jobs([failing], flow_id=sb.flow_id, **opts(sb))
            running = store.sync_history(sb.flow_id, [failing], **opts(sb))
            assert set(running["change"]) == {"new"}
            clock[0] += 3 * 3600  # the job ends
            ended = store.sync_history(sb.flow_id, [failing], **opts(sb))
            assert list(ended["change"]) == ["changed"]  # the same job, now finished
        listed = hg.job_history(sb.flow_id, [failing], **opts(sb))
        kept = store.history(sb.flow_id, [failing])
        assert len(listed) == 5 and len(kept) == len(set(kept["job_root"])) > 5
        streak = hg.fleet_health(kept)["failure_streak"].iloc[0]
        assert streak > hg.fleet_health(listed)["failure_streak"].iloc[0]


def test_files_that_are_not_a_store_and_a_newer_schema_are_refused(tmp_path: Path) -> None:
    (tmp_path / "text.sqlite").write_text("not a database at all, just text" * 20)
    with pytest.raises(hg.ConfigError, match="is not a hotglue_nb store"):
        hg.Store(tmp_path / "text.sqlite")
    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    with pytest.raises(hg.ConfigError, match="SQLite file but not a hotglue_nb store"):
        hg.Store(tmp_path / "other.sqlite")
    store = hg.Store(tmp_path / "new.sqlite")
    store.close()
    db = sqlite3.connect(tmp_path / "new.sqlite")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(hg.ConfigError, match="newer hotglue_nb .*upgrade"):
        hg.Store(tmp_path / "new.sqlite")
    assert json.dumps(repr(hg.Store(tmp_path / "fresh.sqlite")))
    with pytest.raises(hg.ConfigError, match="a list of ids"):  # not its letters
        hg.Store(tmp_path / "fresh.sqlite").history(tenants="acme")


SYNC = """
import sys, warnings, hotglue_nb as hg
warnings.simplefilter("ignore")
base, key, env, flow, path = sys.argv[1:6]
store = hg.Store(path)
while True:
    store.sync_history(flow, api_key=key, env_id=env, base_url=base, progress=False,
                       concurrency=2)
"""


def test_a_sync_killed_at_random_moments_loses_nothing_committed(where: str) -> None:
    import random
    import subprocess
    import sys
    import time

    path = where
    with sandbox.serve(sandbox.demo_world(0, tenants=40), history_days=10,
                       faults={"latency": 0.01}) as sb:  # fmt: skip
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(path)]
        rng = random.Random(3)
        for _ in range(4):
            child = subprocess.Popen([sys.executable, "-c", SYNC, *args])
            time.sleep(rng.uniform(1.0, 2.5))
            child.kill()
            child.wait()
            if "://" not in where:
                assert raw_rows(where, "PRAGMA integrity_check") == [("ok",)]
            roots = raw_rows(where, "SELECT count(*), count(DISTINCT job_root) FROM jobs")
            assert roots[0][0] == roots[0][1]
        store = hg.Store(path)
        store.sync_history(sb.flow_id, **opts(sb))
        kept, api = store.history(sb.flow_id), hg.job_history(sb.flow_id, **opts(sb))
        assert len(kept) == len(api) == kept["job_root"].nunique()


def test_a_runs_results_come_back_exactly_and_saving_again_never_doubles(where: str) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=12)) as sb:
        frame = pd.DataFrame({"tenant": sb.tenants[:6]}, index=[f"r{i}" for i in range(6)])
        results = hg.launch_jobs(frame, flow_id=sb.flow_id, wait=True, poll_interval=0.2,
                                 **opts(sb))  # fmt: skip
        store = hg.Store(where)
        assert store.save_results(results) == 6 and store.save_results(results) == 6
        run_id = str(results["run_id"].iloc[0])
        assert list(store.runs()["run_id"]) == [run_id] and store.runs()["rows"].iloc[0] == 6
        back = store.results(run_id)
        pd.testing.assert_frame_equal(back, results, check_index_type=False)
        assert hg.compare(back, results)["change"].isin(["still_ok", "still_failing"]).all()
        with pytest.raises(hg.ConfigError, match="store.runs\\(\\) lists"):
            store.results("nope")
        with pytest.raises(hg.ConfigError):
            store.save_results(pd.DataFrame({"tenant": ["a"]}))


def test_a_reader_goes_on_while_a_sync_writes_and_a_second_writer_is_told(where: str) -> None:
    import os

    holder = hg.Store(where)
    with holder._db.write() as writing:  # another process in the middle of a sync
        writing.run("INSERT INTO meta VALUES ('busy', 'yes')")
        assert hg.Store(where).history().empty  # reading is not blocked (WAL / MVCC)
        other = hg.Store(where, timeout=0.2)  # not 30 s in a test
        frame = pd.DataFrame({c: [] for c in ("tenant", "flow_id", "job_root", "last_updated",
                                               "start_time", "connector_id",
                                               "history_complete")})  # fmt: skip
        with pytest.raises(hg.ConfigError, match="being written by") as told:
            other._keep(frame)
        assert f"pid {os.getpid()}" in str(told.value)  # the holder, named
        assert "timeout=" in str(told.value)
    assert other._keep(frame).empty  # once the holder is done, the second writer goes on
    assert raw_rows(where, "SELECT value FROM meta WHERE key = 'busy'") == [("yes",)]


def test_store_on_a_launch_and_a_wait_keeps_the_run_and_a_broken_store_only_warns(
    where: str, tmp_path: Path
) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=12)) as sb:
        launched = hg.launch_jobs(sb.tenants[:4], flow_id=sb.flow_id, store=where, **opts(sb))
        run_id = str(launched["run_id"].iloc[0])
        pd.testing.assert_frame_equal(hg.Store(where).results(run_id), launched,
                                      check_index_type=False)  # fmt: skip
        done = hg.wait_for_jobs(launched, poll_interval=0.2, store=hg.Store(where), **opts(sb))
        assert hg.Store(where).results(run_id)["finished"].all() and done["finished"].all()
        assert sb.api_key not in every_value(where)
        (tmp_path / "bad.sqlite").write_text("not a store" * 50)
        with pytest.warns(hg.HotglueWarning, match="could not keep this run") as said:
            kept = hg.launch_jobs(sb.tenants[4:6], flow_id=sb.flow_id,
                                  store=tmp_path / "bad.sqlite", **opts(sb))  # fmt: skip
        assert set(kept["outcome"]) == {"created"}  # the jobs were launched all the same
        assert said[0].filename == __file__  # the warning points at the caller's line

"""The outcome store (issue #26): history kept between reads, upserted by job_root, never
duplicated; runs kept; on the sandbox over real sockets, each test on SQLite and on
PostgreSQL (``tests/stores.py``)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

from .polling import until
from .stores import ENGINES, new_location, raw_rows


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a stored launch keeps its journal under hotglue-runs/


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
        if "://" in where:
            sql = (
                "SELECT DISTINCT collation_name FROM information_schema.columns WHERE "
                "table_name = 'jobs' AND data_type = 'text'"
            )
            collations = raw_rows(where, sql)
            assert collations == [("C",)]  # byte order, as SQLite compares


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
    assert repr(hg.Store(tmp_path / "fresh.sqlite")) == f"Store('{tmp_path / 'fresh.sqlite'}')"
    with pytest.raises(hg.ConfigError, match="a list of ids"):  # not its letters
        hg.Store(tmp_path / "fresh.sqlite").history(tenants="acme")
    with pytest.raises(hg.ConfigError, match="no options"):
        hg.Store("sqlite:///x.sqlite?mode=ro")
    home = hg.Store("~/.hotglue-nb-test-store.sqlite")
    assert home.location == str(Path.home() / ".hotglue-nb-test-store.sqlite")
    home.close()
    for leftover in Path.home().glob(".hotglue-nb-test-store.sqlite*"):
        leftover.unlink()


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
        seen = 0
        for _ in range(4):
            child = subprocess.Popen([sys.executable, "-c", SYNC, *args])
            kill_at = time.monotonic() + rng.uniform(1.0, 2.5)
            while time.monotonic() < kill_at:  # another process reads while the child writes
                read = hg.Store(path).history()
                assert read["job_root"].is_unique and len(read) >= seen  # whole syncs only
                seen = len(read)
            child.kill()
            child.wait()
            if "://" not in where:
                assert raw_rows(where, "PRAGMA integrity_check") == [("ok",)]
            roots = raw_rows(where, "SELECT count(*), count(DISTINCT job_root) FROM jobs")
            assert roots[0][0] == roots[0][1]
        assert seen > 0  # the children committed syncs before they were killed
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
        assert "longer timeout" in str(told.value)
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


LAUNCH = """
import sys, json, warnings, pandas as pd, hotglue_nb as hg
warnings.simplefilter("ignore")
base, key, env, flow, journal, tenants, where, resume = sys.argv[1:9]
frame = pd.DataFrame({"tenant": json.loads(open(tenants).read())})
options = dict(api_key=key, env_id=env, base_url=base, concurrency=4, progress=False,
               store=where)
if resume == "yes":
    hg.launch_jobs(frame, resume=journal, **options)
else:
    hg.launch_jobs(frame, flow_id=flow, journal=journal, **options)
"""


def test_a_stored_launch_killed_at_random_records_its_rows_once_and_a_resume_completes_it(
    where: str, tmp_path: Path
) -> None:
    import random
    import subprocess
    import sys

    journal, ids = tmp_path / "run.jsonl", tmp_path / "tenants.json"
    rng = random.Random(7)
    with sandbox.serve(sandbox.demo_world(0, tenants=60), faults={"latency": 0.03}) as sb:
        ids.write_text(json.dumps(sb.tenants))
        args = [sb.base_url, sb.api_key, sb.env_id, sb.flow_id, str(journal), str(ids), where]
        for attempt in ("no", "yes"):  # killed, then its resume killed too
            child = subprocess.Popen([sys.executable, "-c", LAUNCH, *args, attempt])
            outcomes = rng.randint(5, 40)
            until(
                lambda n=outcomes: journal.exists() and journal.read_text().count('"outcome"') >= n
            )
            child.kill()
            child.wait()
            runs = hg.Store(where).runs()
            assert list(runs["state"]) == ["recorded"]  # its rows as they happened
            run_id = str(runs["run_id"].iloc[0])
            recorded = hg.Store(where).results(run_id)
            written = [json.loads(line) for line in journal.read_text().splitlines()]
            in_journal = {str(r["row"]): r for r in written if r.get("kind") == "outcome"}
            assert len(recorded) and recorded.index.is_unique
            assert set(recorded.index) <= set(in_journal)  # the store trails the journal
            for row, job_id in recorded["job_id"].items():
                assert in_journal[row]["job_id"] == job_id  # each row as the journal has it
            assert recorded["job_root"].notna().all() and recorded["job_root"].is_unique
        done = subprocess.run([sys.executable, "-c", LAUNCH, *args, "yes"], timeout=120)
        assert done.returncode == 0
        store = hg.Store(where)
        assert list(store.runs()["state"]) == ["saved"]
        results = store.results(run_id)
        assert len(results) == 60 and set(results["tenant"]) == set(sb.tenants)
        assert {len(sb.state.jobs_for(t)) for t in sb.tenants} == {1}  # one job per tenant
        store.sync_history(sb.flow_id, **opts(sb))
        joined = results.merge(store.history(sb.flow_id), on="job_root")
        assert len(joined) == 60  # the jobs a run created join their history rows


def test_a_full_disk_is_named_and_a_launch_into_it_still_returns_every_job(tmp_path: Path) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=30), history_days=30) as sb:
        store = hg.Store(tmp_path / "h.sqlite")
        pages = raw_rows(str(tmp_path / "h.sqlite"), "PRAGMA page_count")[0][0]
        store._db.connection.execute(f"PRAGMA max_page_count = {pages + 2}")  # a full disk
        with pytest.raises(hg.ConfigError, match="is full .*free space"):
            store.sync_history(sb.flow_id, **opts(sb))
        assert store.history().empty  # the failed sync left nothing half-written
        with pytest.warns(hg.HotglueWarning, match="could not keep this run.*is full"):
            launched = hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, store=store, **opts(sb))
        assert len(launched) == 30 and launched["job_id"].notna().all()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A folder nobody may write: root ignores permissions, so it is made immutable."""
    import os
    import subprocess

    if os.geteuid() != 0:
        folder.chmod(0o500)
    elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("root here cannot make a folder read-only (chattr +i)")
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


def test_a_read_only_location_is_named_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with read_only(folder), pytest.raises(hg.ConfigError, match="Cannot write the store .*"
                                          "choose a location you can write"):  # fmt: skip
        hg.Store(folder / "h.sqlite")
    with sandbox.serve(sandbox.demo_world(0, tenants=6)) as sb, read_only(folder):
        with pytest.warns(hg.HotglueWarning, match="could not keep this run"):
            launched = hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, store=folder / "h.sqlite",
                                      **opts(sb))  # fmt: skip
        assert launched["job_id"].notna().all()


def test_a_truncated_store_and_a_newer_one_are_refused(where: str, tmp_path: Path) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=10), history_days=30) as sb:
        store = hg.Store(where)
        store.sync_history(sb.flow_id, **opts(sb))
        store.close()  # (SQLite: the WAL checkpointed into the file)
    if "://" not in where:
        data = Path(where).read_bytes()
        (tmp_path / "cut.sqlite").write_bytes(data[: len(data) // 3])
        with pytest.raises(hg.ConfigError, match="not a hotglue_nb store, or it is damaged"):
            hg.Store(tmp_path / "cut.sqlite").history()
    else:
        import psycopg

        with psycopg.connect(where.replace("+psycopg", "")) as db:
            db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
        with pytest.raises(hg.ConfigError, match="newer hotglue_nb .*upgrade"):
            hg.Store(where)


def test_a_version_1_store_is_migrated_forward_on_open(where: str) -> None:
    store = hg.Store(where)
    with store._db.write() as writer:  # as the first release left it
        writer.run("DROP TABLE events")
        writer.run("UPDATE meta SET value = '1' WHERE key = 'schema'")
    assert hg.Store(where).info()["schema"] == hg._store.SCHEMA_VERSION == 2
    assert hg.Store(where).runs().empty  # the events table is back


def test_postgresql_down_refusing_the_login_or_missing_a_database_is_named() -> None:
    import socket

    from .stores import server_url

    url = server_url()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(hg.ConfigError, match="Cannot reach PostgreSQL .*start the server") as down:
        hg.Store(f"postgresql+psycopg://hotglue:s3cret-pw@127.0.0.1:{port}/x", timeout=2)
    assert "s3cret-pw" not in str(down.value) and "***" in str(down.value)
    user, rest = url.split("://", 1)[1].split(":", 1)
    wrong = f"postgresql+psycopg://{user}:wrong-s3cret@{rest.split('@', 1)[1]}"
    with pytest.raises(hg.ConfigError, match="refused the login .*user and password") as refused:
        hg.Store(wrong)
    assert "wrong-s3cret" not in str(refused.value) + repr(refused.value)
    with pytest.raises(hg.ConfigError, match="createdb"):
        hg.Store(url.rsplit("/", 1)[0] + "/no_such_database_here")
    with pytest.raises(hg.ConfigError, match="SQLite file or PostgreSQL, not mysql://"):
        hg.Store("mysql://u@h/d")
    shown = repr(hg.Store(url))
    assert shown.startswith("Store('postgresql+psycopg://") and ":***@" in shown
    leaky = f"postgresql+psycopg://x:pa@ss/word@{url.split('@')[1].split('/')[0]}/db"
    with pytest.raises(hg.ConfigError, match="percent-encoded") as malformed:
        hg.Store(leaky)
    assert "ss/word" not in str(malformed.value)


def test_job_history_with_a_store_returns_the_long_history_in_one_call(where: str) -> None:
    clock = [1.9e9]
    world = sandbox.demo_world(0, tenants=8)
    with sandbox.serve(world, history_days=10, clock=lambda: clock[0]) as sb:
        first = hg.job_history(sb.flow_id, store=where, **opts(sb))
        for _ in range(6):  # six more jobs per tenant: the API's list stays five long
            hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, **opts(sb))
            clock[0] += 3 * 3600
            hg.job_history(sb.flow_id, store=where, **opts(sb))
        listed = hg.job_history(sb.flow_id, **opts(sb))
        kept = hg.job_history(sb.flow_id, store=where, **opts(sb))
        assert len(kept) == len(first) + 6 * 8 > len(listed)
        assert list(kept.columns) == list(listed.columns)
        assert kept.dtypes.equals(listed.dtypes)
        assert set(listed["job_root"]) <= set(kept["job_root"]) and kept["job_root"].is_unique
        recent = hg.job_history(
            sb.flow_id,
            store=where,
            since="2d",
            now=pd.Timestamp(clock[0], unit="s", tz="UTC"),
            **opts(sb),
        )
        assert 0 < len(recent) < len(kept)
        with pytest.raises(hg.ConfigError, match="now=1900.* is a number: .*unit='s'"):
            hg.job_history(sb.flow_id, now=1.9e9, **opts(sb))  # not 1970 plus 1.9 seconds
        with pytest.raises(hg.ConfigError, match="drop count="):
            hg.job_history(sb.flow_id, store=where, count=50, **opts(sb))


def test_the_async_twins_take_a_store_too(where: str) -> None:
    import asyncio

    with sandbox.serve(sandbox.demo_world(0, tenants=6)) as sb:

        async def go() -> pd.DataFrame:
            launched = await hg.aio.launch_jobs(sb.tenants, flow_id=sb.flow_id, store=where,
                                                **opts(sb))  # fmt: skip
            return await hg.aio.wait_for_jobs(launched, poll_interval=0.2, store=where,
                                              **opts(sb))  # fmt: skip

        done = asyncio.run(go())
        kept = hg.Store(where).results(str(done["run_id"].iloc[0]))
        pd.testing.assert_frame_equal(kept, done, check_index_type=False)


def test_the_cli_keeps_a_launch_and_a_wait_in_a_store_named_by_flag_or_variable(
    where: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    def cli(*args: str, **env: str) -> Any:
        variables = {**os.environ, "HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
                     "HOTGLUE_BASE_URL": sb.base_url, **env}  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "hotglue_nb", *args], capture_output=True,
                              text=True, env=variables, timeout=120, cwd=tmp_path)  # fmt: skip
        secret = where.split("@")[0].rsplit(":", 1)[-1] if "@" in where else None
        for text in (done.stdout, done.stderr):
            assert sb.api_key not in text and (secret is None or f":{secret}@" not in text)
        return done

    with sandbox.serve(sandbox.demo_world(0, tenants=8)) as sb:
        (tmp_path / "t.csv").write_text("tenant\n" + "\n".join(sb.tenants[:5]) + "\n")
        launched = cli("launch", "t.csv", "--flow", sb.flow_id, "--out", "r.csv",
                       HOTGLUE_NB_STORE=where)  # fmt: skip
        assert launched.returncode == 0, launched.stderr
        events = raw_rows(where, "SELECT kind, count(*) FROM events GROUP BY kind")
        assert dict(events).get("outcome") == 5  # recorded as they happened, --out or not
        waited = cli("wait", "r.csv", "--poll-interval", "0.2", "--store", where)
        assert waited.returncode == 0, waited.stderr
        runs = cli("store", "runs", "--json", HOTGLUE_NB_STORE=where)
        kept = [json.loads(line) for line in runs.stdout.splitlines()]
        assert [(r["rows"], r["state"]) for r in kept] == [(5, "saved")]
        frame = hg.Store(where).results(kept[0]["run_id"])
        assert frame["finished"].all() and list(frame["tenant"]) == sb.tenants[:5]
        nowhere = cli("store", "info")
        assert nowhere.returncode == 2 and "--store LOCATION" in nowhere.stderr


def test_a_store_busy_with_another_writer_never_holds_up_a_launch(where: str) -> None:
    import threading

    holder, posted, released = hg.Store(where), threading.Event(), threading.Event()
    with sandbox.serve(sandbox.demo_world(0, tenants=20)) as sb:

        def hold() -> None:  # another notebook in the middle of a long sync
            with holder._db.write():
                started.set()
                posts = lambda: sum(1 for m, *_ in sb.state.requests if m == "POST")  # noqa: E731
                until(lambda: posts() >= 20 or released.is_set(), timeout=60)
                if posts() >= 20:
                    posted.set()

        started = threading.Event()
        thread = threading.Thread(target=hold)
        thread.start()
        started.wait(10)
        try:
            launched = hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, concurrency=4,
                                      store=hg.Store(where, timeout=90), **opts(sb))  # fmt: skip
        finally:
            released.set()
            thread.join()
        assert posted.is_set()  # every POST went while the store was held by the other writer
        kept = hg.Store(where).results(str(launched["run_id"].iloc[0]))
        assert len(kept) == 20 and kept["job_id"].notna().all()  # and the store has the run


def test_a_wait_on_part_of_a_run_keeps_the_rest_and_the_index_name(where: str) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=8)) as sb:
        frame = pd.DataFrame({"tenant": sb.tenants[:6]},
                             index=pd.Index([f"r{i}" for i in range(6)], name="line"))  # fmt: skip
        launched = hg.launch_jobs(frame, flow_id=sb.flow_id, store=where, **opts(sb))
        hg.wait_for_jobs(launched.head(2), poll_interval=0.2, store=where, **opts(sb))
        kept = hg.Store(where).results(str(launched["run_id"].iloc[0]))
        assert list(kept.index) == list(launched.index) and kept.index.name == "line"
        assert kept["finished"].head(2).all() and kept["finished"].tail(4).isna().all()
        assert (kept["job_id"] == launched["job_id"]).all()
        dry = hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, dry_run=True, store=where,
                             **opts(sb))  # fmt: skip
        assert str(dry["run_id"].iloc[0]) not in set(hg.Store(where).runs()["run_id"])


def test_two_runs_and_a_sync_on_one_store_at_once_all_land(where: str) -> None:
    import asyncio
    import threading

    store = hg.Store(where)
    with sandbox.serve(sandbox.demo_world(0, tenants=30), history_days=10) as sb:

        async def two() -> list[pd.DataFrame]:
            return list(await asyncio.gather(*(
                hg.aio.launch_jobs(sb.tenants[at : at + 10], flow_id=sb.flow_id, store=store,
                                   **opts(sb))
                for at in (0, 10)
            )))  # fmt: skip

        syncing = threading.Thread(target=lambda: store.sync_history(sb.flow_id, **opts(sb)))
        with warnings.catch_warnings():
            warnings.simplefilter("error", hg.HotglueWarning)  # no "could not keep"
            syncing.start()
            runs = asyncio.run(two())
            syncing.join()
        kept = store.runs()
        assert sorted(kept["rows"]) == [10, 10] and set(kept["state"]) == {"saved"}
        for run in runs:
            assert len(store.results(str(run["run_id"].iloc[0]))) == 10
        assert len(store.history(sb.flow_id)) > 0


def test_a_sync_since_a_moment_claims_nothing_before_it(where: str) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=10), history_days=10) as sb:
        store = hg.Store(where)
        store.sync_history(sb.flow_id, since="3d", **opts(sb))
        kept = store.history(sb.flow_id)
        oldest = kept.groupby("tenant")["history_complete"].first()
        assert not oldest.any()  # the store has not seen what came before the window
        assert hg.fleet_health(kept)["history_complete"].eq(False).all()


def test_a_store_that_fails_for_a_while_still_gets_the_whole_run(where: str) -> None:
    import threading

    holder, released = hg.Store(where), threading.Event()
    with sandbox.serve(sandbox.demo_world(0, tenants=12)) as sb:

        def hold() -> None:  # another writer, for longer than the launch's store waits
            with holder._db.write():
                started.set()
                posts = lambda: sum(1 for m, *_ in sb.state.requests if m == "POST")  # noqa: E731
                until(lambda: posts() >= 12 or released.is_set(), timeout=60)

        started = threading.Event()
        thread = threading.Thread(target=hold)
        thread.start()
        started.wait(10)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", hg.HotglueWarning)
                launched = hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, concurrency=3,
                                          store=hg.Store(where, timeout=1), **opts(sb))  # fmt: skip
        finally:
            released.set()
            thread.join()
        kept = hg.Store(where).results(str(launched["run_id"].iloc[0]))
        assert len(kept) == 12 and list(hg.Store(where).runs()["state"]) == ["saved"]


def test_a_store_that_stops_answering_never_holds_up_a_launch(engine: str, where: str) -> None:
    """A PostgreSQL behind a proxy that goes silent mid-run (real sockets): every job is
    launched, the run ends after the store's bound, with a warning."""
    import socket
    import threading

    if engine != "postgresql":
        pytest.skip("a silent server is a network store's failure")
    host, port = where.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
    silent, never = threading.Event(), threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                if silent.is_set():
                    never.wait()  # the network goes quiet; the sockets stay open
                b.sendall(data)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection((host, int(port)))
                for a, b in ((client, server), (server, client)):
                    threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    proxy = f"127.0.0.1:{listener.getsockname()[1]}"
    store = hg.Store(where.replace(f"{host}:{port}", proxy), timeout=1)
    with sandbox.serve(sandbox.demo_world(0, tenants=10)) as sb:
        silent.set()  # from here on the store's server never answers
        with pytest.warns(hg.HotglueWarning, match="did not answer within 2 s"):
            launched = hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, store=store, **opts(sb))
        assert len(launched) == 10 and launched["job_id"].notna().all()
    listener.close()


def test_a_read_only_postgresql_is_named_and_a_launch_into_it_goes_on(where: str) -> None:
    if "://" not in where:
        pytest.skip("the SQLite case: test_a_read_only_location_is_named_with_the_fix")
    standby = where + "?options=-c%20default_transaction_read_only%3Don"  # as a replica
    with pytest.raises(hg.ConfigError, match="Cannot write the store .*allowed to create"):
        hg.Store(standby)
    hg.Store(where).close()  # made; now the replica is a store that cannot be written
    with sandbox.serve(sandbox.demo_world(0, tenants=6)) as sb:
        with pytest.warns(hg.HotglueWarning, match="could not keep this run.*Cannot write"):
            launched = hg.launch_jobs(sb.tenants, flow_id=sb.flow_id, store=standby, **opts(sb))
        assert launched["job_id"].notna().all()
        assert not hg.Store(where).info()["runs"]

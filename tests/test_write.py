"""write_records: a DataFrame of records to V2 write jobs in batches, and the refused ones back."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb._jobs._write import BODY_ROOM, batches, record_values

from .test_wait import Rig


def test_values_go_as_json_faithfully() -> None:
    frame = pd.DataFrame({
        "n": pd.array([1, None, 2**53 + 1], dtype="Int64"),
        "x": [1.5, float("nan"), np.float32(2.0)],
        "at": pd.to_datetime(["2024-01-02 03:04:05", None, "2024-06-01"], utc=True,
                             format="ISO8601"),
        "naive": [pd.Timestamp("2024-01-02"), pd.NaT, pd.Timestamp("2024-01-03 10:00")],
        "day": [date(2024, 1, 2), None, date(2024, 1, 3)],
        "ok": [True, False, None],
        "s": pd.array(["a", None, "c"], dtype="string"),
        "big": np.array([10, 20, 30], dtype=np.int64),
    })  # fmt: skip
    values = record_values(frame)
    assert values[0] == {"n": 1, "x": 1.5, "at": "2024-01-02T03:04:05+00:00",
                         "naive": "2024-01-02T00:00:00", "day": "2024-01-02", "ok": True,
                         "s": "a", "big": 10}  # fmt: skip
    assert values[1] == dict.fromkeys(["n", "x", "at", "naive", "day", "s"], None) | {
        "ok": False, "big": 20}  # fmt: skip
    assert values[2]["n"] == 2**53 + 1 and type(values[2]["n"]) is int
    assert type(values[2]["big"]) is int and values[2]["x"] == 2.0
    assert json.loads(json.dumps(values)) == values


def test_batches_follow_the_count_and_the_byte_limit() -> None:
    values = [{"v": "x" * 90} for _ in range(10)]  # ~101 bytes of JSON each
    assert list(batches(values, 4, 10**6, 10**6)) == [(0, 4), (4, 8), (8, 10)]
    assert list(batches(values, None, 10**6, 10**6)) == [(0, 10)]
    by_bytes = list(batches(values, None, 350, BODY_ROOM + 350))
    assert by_bytes == [(0, 3), (3, 6), (6, 9), (9, 10)]
    for start, end in by_bytes:  # each batch's JSON list stays under the limit
        assert len(json.dumps(values[start:end], sort_keys=True)) <= 350
    with pytest.raises(hg.ConfigError, match="Raise max_bytes"):
        list(batches([{"v": "x" * 5000}], None, 4096 - 300, 4096))


def people(n: int, bad: set[int]) -> pd.DataFrame:
    return pd.DataFrame({
        "email": [f"p{i}@x.io" if i not in bad else "no-address" for i in range(n)],
        "name": [f"Person {i}" for i in range(n)],
        "score": pd.array([i if i % 3 else None for i in range(n)], dtype="Int64"),
    }, index=pd.Index([f"r{i}" for i in range(n)], name="rid"))  # fmt: skip


def connected(rig: Rig, rejecting: bool) -> tuple[str, str, str]:
    world = rig.state.world
    flow = world.v2_flow_ids[0]
    for tenant in world.tenants:
        linked = world.connectors(tenant, flow)
        if linked and bool(linked[0]["reject_every"]) == rejecting:
            return flow, tenant, linked[0]["connector_id"]
    raise AssertionError("no such tenant")


def write(rig: Rig, records: pd.DataFrame, **kw: Any) -> pd.DataFrame:
    return hg.write_records(records, object="Contact", client=rig.client, progress=False,
                            clock=rig.clock, sleep=rig.sleep, reconcile_delay=0, **kw)  # fmt: skip


def test_a_frame_of_records_is_written_in_batches_and_the_refused_ones_come_back() -> None:
    rig = Rig()
    flow, tenant, connector = connected(rig, rejecting=False)
    records = people(10, bad={2, 7})
    out = write(rig, records, flow_id=flow, tenant=tenant, connector_id=connector, batch_size=4,
                wait=True)  # fmt: skip
    assert list(out.batch) == [0, 1, 2] and list(out.record_count) == [4, 4, 2]
    assert list(out.first_row) == [0, 4, 8] and (out.outcome == "created").all()
    assert (out.job_type == "write").all() and out.job_root.str.contains("/jobs/write/").all()
    assert len(set(out.job_name)) == 3 and out.finished.all()
    assert list(out.fail) == [1, 1, 0] and int(out.success.sum()) == 8
    sent = [json.loads(r)["state"]["Contact"] for r in out.request]
    assert sent[0][0] == {"email": "p0@x.io", "name": "Person 0", "score": None}
    assert sent[0][1]["score"] == 1 and type(sent[0][1]["score"]) is int
    refused = hg.failed_records(out, records)
    assert list(refused.index) == ["r2", "r7"] and list(refused.batch) == [0, 1]
    assert refused.drop(columns=["batch", "fate", "reason"]).equals(records.loc[["r2", "r7"]])
    rebuilt = hg.failed_records(out)
    assert list(rebuilt.email) == ["no-address", "no-address"] and list(rebuilt.batch) == [0, 1]
    fixed = refused.drop(columns=["batch", "fate", "reason"]).assign(email=["p2@x.io", "p7@x.io"])
    again = write(rig, fixed, flow_id=flow, tenant=tenant, connector_id=connector, wait=True)
    assert list(again.success) == [2] and list(again.fail) == [0]
    assert hg.failed_records(again, fixed).empty


def test_many_tenants_from_the_records_own_columns() -> None:
    rig = Rig()
    flow, ok, ok_connector = connected(rig, rejecting=False)
    _, strict, strict_connector = connected(rig, rejecting=True)  # refuses every 4th record
    records = people(12, bad={0})
    records["tenant"] = [ok, strict] * 6
    records["connector_id"] = [ok_connector, strict_connector] * 6
    out = write(rig, records, flow_id=flow, batch_size=4, wait=True)
    assert sorted(out.tenant.value_counts().tolist()) == [2, 2] and out.finished.all()
    refused = hg.failed_records(out, records)
    # ok tenant: r0 (no address); strict tenant: its 4th record (r7), none else bad
    assert list(refused.index) == ["r0", "r7"]
    assert set(refused.tenant) == {ok, strict}


def test_each_batch_is_one_job_even_when_answers_are_lost() -> None:
    world = sandbox.demo_world(0)
    flow = world.v2_flow_ids[0]
    tenant = next(t for t in world.tenants if world.connectors(t, flow))
    connector = world.connectors(tenant, flow)[0]["connector_id"]  # type: ignore[index]
    with sandbox.serve(world, faults={"*": {}, tenant: {"lose_answer": 1.0}}) as sb:
        out = hg.write_records(people(6, set()), object="Contact", flow_id=flow, tenant=tenant,
                               connector_id=connector, batch_size=2, progress=False,
                               reconcile_delay=0.05, ignore_parallel_jobs=True,
                               **sb.credentials)  # fmt: skip
        assert (out.outcome == "created").all() and len(out) == 3
        assert len(sb.state.store.list(flow, tenant)) == 3  # never twice per batch


@pytest.mark.parametrize(
    ("kw", "fix"),
    [
        ({"tenant": None}, "tenant='...'"),
        ({"connector_id": None}, "connector_id='...'"),
        ({"object": ""}, "object= names"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"max_bytes": 10}, "max_bytes must be"),
        ({"batch_size": True}, "batch_size must be"),
    ],
)
def test_mistakes_are_named_before_anything_is_sent(kw: dict[str, Any], fix: str) -> None:
    args: dict[str, Any] = {"tenant": "t", "connector_id": "c", "object": "Contact"} | kw
    with pytest.raises(hg.ConfigError, match=fix.replace("(", r"\(")):
        hg.write_records(people(2, set()), flow_id="f", env_id="e", dry_run=True,
                         progress=False, **args)  # fmt: skip
    with pytest.raises(hg.ConfigError, match="must be a DataFrame"):
        hg.write_records([{"a": 1}], object="Contact", tenant="t", connector_id="c",  # type: ignore[arg-type]
                         flow_id="f", env_id="e", dry_run=True, progress=False)  # fmt: skip


def test_a_write_is_resumable_and_no_batch_is_sent_twice(tmp_path: Any) -> None:
    world = sandbox.demo_world(0)
    flow = world.v2_flow_ids[0]
    tenant = next(t for t in world.tenants if world.connectors(t, flow))
    connector = world.connectors(tenant, flow)[0]["connector_id"]  # type: ignore[index]
    journal = tmp_path / "write.jsonl"
    records = people(6, set())
    args: dict[str, Any] = {"object": "Contact", "tenant": tenant, "connector_id": connector,
                            "batch_size": 2, "progress": False}  # fmt: skip
    args["reconcile_delay"] = 0.05
    faults = {"*": {}, tenant: {"lose_answer": 1.0, "odd_list": 1.0}}
    with sandbox.serve(world, faults=faults) as sb:
        first = hg.write_records(records, flow_id=flow, journal=journal, max_attempts=1, **args,
                                 **sb.credentials)  # fmt: skip
        assert set(first.outcome) == {"unknown"}  # sent, but nothing proves what happened
        sb.state.faults = sandbox.FaultPlan.build({})
        again = hg.write_records(records, resume=journal, api_key=sb.api_key,
                                 base_url=sb.base_url, **args)  # fmt: skip
        assert list(again.outcome) == ["created"] * 3 and list(again.batch) == [0, 1, 2]
        assert len(sb.state.store.list(flow, tenant)) == 3  # found by name, not sent again


def test_nested_and_unusual_values_are_converted_or_refused_by_name() -> None:
    from decimal import Decimal

    frame = pd.DataFrame({
        "tags": [np.array(["vip"]), ["a", np.int64(2), float("nan")]],
        "meta": [{"at": pd.Timestamp("2024-01-02", tz="UTC"), "n": np.int64(3)}, None],
        "price": [Decimal("12.30"), Decimal("0.1")],
        "wait": [pd.Timedelta(minutes=1), None],
    })  # fmt: skip
    values = record_values(frame)
    assert values[0]["tags"] == ["vip"] and values[1]["tags"] == ["a", 2, None]
    assert values[0]["meta"] == {"at": "2024-01-02T00:00:00+00:00", "n": 3}
    assert values[0]["price"] == "12.30" and values[0]["wait"] == "P0DT0H1M0S"
    with pytest.raises(hg.ConfigError, match="Record 1, column 'x': infinity"):
        record_values(pd.DataFrame({"x": [1.0, float("inf")]}))
    with pytest.raises(hg.ConfigError, match="column 'b': a bytes cannot go as JSON"):
        record_values(pd.DataFrame({"b": [b"raw"]}))
    with pytest.raises(hg.ConfigError, match="named alike"):
        record_values(pd.DataFrame([[1, 2]], columns=[1, "1"]))


def test_a_batch_stays_under_max_bytes_whatever_its_characters() -> None:
    names = ["日本語の名前" * 20, "emoji \U0001f600" * 30, "ascii" * 40]
    records = pd.DataFrame({"name": [names[i % 3] for i in range(300)], "email": "a@x.io"})
    out = hg.write_records(records, object="Contact", tenant="t", connector_id="c",
                           flow_id="f", env_id="e", max_bytes=20_000, dry_run=True,
                           progress=False)  # fmt: skip
    assert len(out) > 3 and int(out.record_count.sum()) == 300
    assert max(len(r.encode()) for r in out.request) <= 20_000


def test_the_tenant_column_and_tenant_argument_together_are_refused() -> None:
    records = people(2, set()).assign(tenant="t")
    with pytest.raises(hg.ConfigError, match="drop tenant= to use the column"):
        hg.write_records(records, object="Contact", tenant="t", connector_id="c", flow_id="f",
                         env_id="e", dry_run=True, progress=False)  # fmt: skip


def test_ids_are_checked_as_in_any_launch() -> None:
    records = people(2, set()).assign(tenant=[101.0, True], connector_id="c")
    out = hg.write_records(records, object="Contact", flow_id="f", env_id="e", dry_run=True,
                           on_invalid="skip", progress=False)  # fmt: skip
    assert out.error.str.contains("invalid row: column 'tenant'").all()  # nothing sent


def test_failed_records_from_a_filtered_frame_unwritten_batches_and_a_separate_wait() -> None:
    rig = Rig()
    flow, ok, ok_connector = connected(rig, rejecting=False)
    records = people(12, bad={0, 2})
    records["tenant"] = ok
    records["connector_id"] = [ok_connector] * 10 + ["not-linked"] * 2
    out = write(rig, records, flow_id=flow, batch_size=2)
    assert list(out.outcome) == ["created"] * 5 + ["rejected"]
    with pytest.warns(hg.HotglueWarning, match="not known yet"):
        early = hg.failed_records(out, records)  # not waited: only the refused batch is known
    assert (
        list(early.index) == ["r10", "r11"] and early.reason.str.startswith("batch rejected").all()
    )
    done = hg.wait_for_jobs(out, client=rig.client, clock=rig.clock, sleep=rig.sleep,
                            progress=False)  # fmt: skip
    assert {"object", "batch", "first_row", "record_count"} <= set(done.columns)  # kept by the wait
    assert list(done.fail) == [1, 1, 0, 0, 0, pd.NA] and out.fail.isna().all()  # refreshed
    refused = hg.failed_records(done, records)
    assert list(refused.index) == ["r0", "r2", "r10", "r11"]
    assert refused.reason[:2].str.startswith("refused by the target: ").all()
    assert "INVALID_EMAIL" in refused.reason.iloc[0]  # the target's own word for it
    only_failing = hg.failed_records(done[done.batch.isin([1, 5])], records)
    assert list(only_failing.index) == ["r2", "r10", "r11"]


def test_the_same_records_to_a_frame_of_tenants() -> None:
    rig = Rig()
    flow, ok, ok_connector = connected(rig, rejecting=False)
    _, strict, strict_connector = connected(rig, rejecting=True)
    tenants = pd.DataFrame(
        {"tenant": [ok, strict], "connector_id": [ok_connector, strict_connector]}
    )
    records = people(5, bad={1})
    out = write(rig, records, flow_id=flow, tenant=tenants, batch_size=5, wait=True)
    assert list(out.tenant) == [ok, strict] and list(out.record_count) == [5, 5]
    assert list(out.fail) == [1, 2]  # the strict connector also refuses its 4th record
    refused = hg.failed_records(out, records)
    assert list(refused.index) == ["r1", "r1", "r3"] and list(refused.batch) == [0, 1, 1]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_write_results_survive_an_export_and_still_find_the_refused(
    tmp_path: Any, suffix: str
) -> None:
    rig = Rig()
    flow, tenant, connector = connected(rig, rejecting=False)
    records = people(6, bad={4})
    out = write(rig, records, flow_id=flow, tenant=tenant, connector_id=connector, batch_size=3,
                wait=True)  # fmt: skip
    path = tmp_path / f"written{suffix}"
    hg.export_results(out, path)
    back = hg.read_results(path)
    for name in ("batch", "first_row", "record_count", "success", "fail"):
        assert back[name].dtype == "Int64", name
    assert back.connector_id.tolist() == out.connector_id.tolist()
    assert list(hg.failed_records(back, records).index) == ["r4"]

"""write_records' promises the hostile way (issue #22: findings 1, 2, 8, 11, 12, 14 and the
smaller value points): a batch is its records, every record has a known fate, nothing is
written twice because an answer was lost, a run was interrupted or a resume was reordered."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb._jobs._records import record_values

from .test_write import people


def target(sb: sandbox.Sandbox) -> tuple[str, str, str]:
    """A tenant whose connector writes every record (no refusals)."""
    flow = str(sb.v2_flow_id)
    for tenant, connector in sb.connected_tenants().items():
        if not sb.world.connectors(tenant, flow)[0]["reject_every"]:
            return flow, tenant, connector
    raise AssertionError("no such tenant")


def written_on_server(sb: sandbox.Sandbox, flow: str, tenant: str) -> Counter[str]:
    """Each record's email, as many times as a write job on the server carried it."""
    jobs = sb.state.jobs_for(tenant, flow)
    return Counter(r["email"] for j in jobs for r in (j.get("state") or {}).get("Contact", []))


# 1: a batch whose answer was lost is "unknown", never "not written" -----------------------


def test_records_of_batches_whose_fate_is_unknown_are_never_handed_back_as_not_written() -> None:
    world = sandbox.demo_world(0)
    with sandbox.serve(world) as sb:
        flow, tenant, connector = target(sb)
    faults = {tenant: {"lose_answer": 1.0, "odd_list": 1.0}}
    with sandbox.serve(world, faults=faults) as sb:
        records = people(6, bad=set())
        out = hg.write_records(records, object="Contact", flow_id=flow, tenant=tenant,
                               connector_id=connector, batch_size=3, progress=False,
                               reconcile_delay=0, **sb.credentials)  # fmt: skip
        assert out.outcome.tolist() == ["unknown", "unknown"]
        assert sum(written_on_server(sb, flow, tenant).values()) == 6  # the server has them
    fates = hg.record_fates(out, records)
    assert fates.fate.tolist() == ["unknown"] * 6 and list(fates.index) == list(records.index)
    with pytest.warns(hg.HotglueWarning, match=r"batches \[0, 1\] are left out"):
        again = hg.failed_records(out, records)
    assert again.empty  # writing "the failed records" again writes nothing twice


# 2 and 8: an interrupted write, then a resume ---------------------------------------------


def _interrupted_write(sb: sandbox.Sandbox, records: pd.DataFrame, path: Path, **kw: Any) -> Any:
    async def go() -> Any:
        task = asyncio.ensure_future(hg.aio.write_records(
            records, object="Contact", journal=path, concurrency=1, progress=False,
            **sb.credentials, **kw,
        ))  # fmt: skip
        while sum(1 for m, *_ in sb.state.requests if m == "POST") < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(hg.LaunchInterrupted) as caught:
            await task
        return caught.value

    return asyncio.run(go())


def test_an_interrupted_write_keeps_its_batches_and_a_resume_must_bring_the_same_records(
    tmp_path: Path,
) -> None:
    path = tmp_path / "write.jsonl"
    world = sandbox.demo_world(0)
    with sandbox.serve(world, faults={"latency": 0.05}) as sb:
        flow, tenant, connector = target(sb)
        records = people(12, bad=set())
        where = {"flow_id": flow, "tenant": tenant, "connector_id": connector, "batch_size": 2}
        exc = _interrupted_write(sb, records, path, **where)
        partial = exc.results
        # 8: the partial frame says which records went where
        assert {"batch", "first_row", "record_count", "object"} <= set(partial.columns)
        assert hg.last_run() is partial
        fates = hg.record_fates(partial, records)
        assert len(fates) == 12 and set(fates.fate) <= {"unknown", "not_written"}
        sent = fates[fates.fate == "unknown"]
        assert len(sent) >= 2 and (fates.fate == "not_written").sum() >= 2
        with pytest.warns(hg.HotglueWarning):
            assert set(hg.failed_records(partial, records).fate) == {"not_written"}
        # 2: the same records in another order are refused before anything is sent
        posts = sum(1 for m, *_ in sb.state.requests if m == "POST")
        shuffled = records.sample(frac=1.0, random_state=3)
        with pytest.raises(hg.ConfigError, match="same records in the\\s+same order"):
            hg.write_records(shuffled, object="Contact", resume=path, progress=False,
                             api_key=sb.api_key, **where)  # fmt: skip
        changed = records.assign(name=records.name.str.upper())
        with pytest.raises(hg.ConfigError, match="do not make the batches"):
            hg.write_records(changed, object="Contact", resume=path, progress=False,
                             api_key=sb.api_key, **where)  # fmt: skip
        assert sum(1 for m, *_ in sb.state.requests if m == "POST") == posts
        done = hg.write_records(records, object="Contact", resume=path, progress=False,
                                api_key=sb.api_key, reconcile_delay=0, **where)  # fmt: skip
        assert (done.outcome == "created").all()
        counts = written_on_server(sb, flow, tenant)
    assert sorted(counts) == sorted(records.email) and set(counts.values()) == {1}


# 14: a tenant named twice -----------------------------------------------------------------


def test_a_tenant_named_twice_is_refused_before_anything_is_sent() -> None:
    tenants = pd.DataFrame({"tenant": ["a", "b", "a"], "connector_id": ["c", "c", "c"]})
    with pytest.raises(hg.ConfigError, match=r"names \['a'\] more than once"):
        hg.write_records(people(3, bad=set()), object="Contact", flow_id="F", tenant=tenants,
                         api_key="k", env_id="e", dry_run=True)  # fmt: skip
    with pytest.raises(hg.ConfigError, match="more than once"):
        hg.write_records(people(3, bad=set()), object="Contact", flow_id="F", tenant=["a", "a"],
                         connector_id="c", api_key="k", env_id="e", dry_run=True)  # fmt: skip


# 12: the real request size ---------------------------------------------------------------


def test_every_write_request_stays_within_max_bytes_whatever_else_it_carries() -> None:
    records = people(120, bad=set()).assign(note="ü" * 40)
    env = {f"VAR_{i}": "v" * 120 for i in range(20)}  # about 2.6 KB
    assert len(json.dumps(env)) > 2_600
    out = hg.write_records(records, object="Contact", flow_id="F", tenant="t",
                           connector_id="c", max_bytes=8192, environment_variables=env,
                           job_name="a-rather-long-nightly-write-name", api_key="k",
                           env_id="e", dry_run=True)  # fmt: skip
    sizes = [len(str(text).encode()) for text in out.request]
    assert len(sizes) > 5 and max(sizes) <= 8192, sizes
    assert max(sizes) > 8192 * 0.8  # and the batches are not needlessly small
    with pytest.raises(hg.ConfigError, match="send less\\s+with every batch"):
        hg.write_records(records, object="Contact", flow_id="F", tenant="t", connector_id="c",
                         max_bytes=4096, environment_variables={"X": "v" * 4000},
                         api_key="k", env_id="e", dry_run=True)  # fmt: skip


# 11 and the smaller value points ----------------------------------------------------------


def test_parquet_lists_of_timestamps_go_as_iso_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamps = [[pd.Timestamp("2026-01-02T03:04:05.123456"), None], []]
    table = pa.table({
        "ns": pa.array(stamps, type=pa.list_(pa.timestamp("ns"))),
        "us": pa.array(stamps, type=pa.list_(pa.timestamp("us"))),
        "utc": pa.array(stamps, type=pa.list_(pa.timestamp("us", tz="UTC"))),
    })  # fmt: skip
    pq.write_table(table, tmp_path / "r.parquet")
    for frame in (pd.read_parquet(tmp_path / "r.parquet"),
                  pd.read_parquet(tmp_path / "r.parquet", dtype_backend="pyarrow")):  # fmt: skip
        values = record_values(frame)
        for column in ("ns", "us", "utc"):
            first = values[0][column][0]
            assert isinstance(first, str) and first.startswith("2026-01-02T03:04:05.123456")
            assert values[0][column][1] is None and values[1][column] == []


def test_float32_keys_and_lists_of_mixed_values() -> None:
    frame = pd.DataFrame({
        "price": np.array([19.99, np.nan], dtype="float32"),
        "ext": pd.array([0.1, None], dtype="Float32"),
        "tags": [[np.float32(1.1), np.datetime64("2026-01-01", "D")], None],
    })  # fmt: skip
    values = record_values(frame)
    assert values[0] == {"price": 19.99, "ext": 0.1, "tags": [1.1, "2026-01-01T00:00:00"]}
    assert values[1] == {"price": None, "ext": None, "tags": None}
    with pytest.raises(hg.ConfigError, match="keys 1 and '1' are\\s+one key"):
        record_values(pd.DataFrame({"d": [{1: "a", "1": "b"}]}))


def test_a_failed_export_that_does_not_account_for_every_record_leaves_them_unknown() -> None:
    records = people(6, bad=set())
    out = hg.write_records(records, object="Contact", flow_id="F", tenant="t", connector_id="c",
                           api_key="k", env_id="e", dry_run=True, progress=False)  # fmt: skip

    def ended(status: str, summary: Any) -> pd.DataFrame:
        details = json.dumps({"Contact": []}) if summary else None
        return out.assign(outcome="created", finished=True, status=status,
                          export_summary=json.dumps(summary) if summary else None,
                          export_failures=details)  # fmt: skip

    for status, summary in (("EXPORT_FAILED", {"Contact": {"success": 3, "fail": 0}}),
                            ("EXPORT_FAILED", {"Other": {"success": 1}}),
                            ("EXPORT_FAILED", None)):  # fmt: skip
        assert set(hg.record_fates(ended(status, summary), records).fate) == {"unknown"}
    before = hg.record_fates(ended("SYNC_FAILED", None), records)  # failed before writing
    assert set(before.fate) == {"not_written"}
    whole = hg.record_fates(ended("EXPORT_FAILED", {"Contact": {"success": 6, "fail": 0}}), records)
    assert set(whole.fate) == {"written"}

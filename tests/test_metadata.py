"""Readable tenants (issue #25): metadata read, joined onto frames, and edited by read, merge,
write — on the sandbox over real sockets, both answers to the PUT's open question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

pytestmark = pytest.mark.usefixtures("both_transports")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # default journals go to ./hotglue-runs


async def _no_sleep(_: float) -> None:
    return None


def opts(sb: sandbox.Sandbox, **kw: Any) -> dict[str, Any]:
    return {"progress": False, "sleep": _no_sleep, **sb.credentials, **kw}


def puts(sb: sandbox.Sandbox) -> list[str | None]:
    return [t for m, _, t, _ in sb.state.requests if m == "PUT"]


def test_metadata_is_one_row_per_tenant_with_a_column_per_key() -> None:
    with sandbox.serve() as sb:
        sb.state.metadata[sb.tenants[1]] = {"company": "Acme", "tenant": "clash", "error": 1}
        meta = hg.tenant_metadata(**opts(sb))
        assert list(meta["tenant"]) == sb.tenants
        row = meta.set_index("tenant").loc[sb.tenants[1]]
        assert row["company"] == "Acme" and row["metadata.tenant"] == "clash"
        assert row["metadata.error"] == 1 and pd.isna(row["error"])
        assert row["metadata"] == {"company": "Acme", "tenant": "clash", "error": 1}
        none = [t for t, m in sb.state.metadata.items() if m is None]
        assert none and meta.set_index("tenant").loc[none, "metadata"].isna().all()


def test_label_keeps_the_frames_index_order_and_rows() -> None:
    meta = pd.DataFrame({"tenant": ["a", "b", "c"], "company": ["A Inc", "B Ltd", None],
                         "plan": ["pro", "starter", "pro"], "metadata": [{}, {}, {}]})  # fmt: skip
    frame = pd.DataFrame({"tenant": ["c", "x", "a", "a"], "status": ["ok"] * 4},
                         index=["r9", "r2", "r5", "r1"])  # fmt: skip
    frame.attrs["errors"] = []
    out = hg.label(frame, meta)
    assert list(out.index) == ["r9", "r2", "r5", "r1"] and len(out) == 4
    assert list(out.columns) == ["tenant", "status", "company", "plan"]
    assert out["company"].tolist()[2:] == ["A Inc", "A Inc"] and pd.isna(out.loc["r2", "plan"])
    assert out.attrs == frame.attrs and "company" not in frame
    numbers = hg.label(pd.DataFrame({"tenant": [42]}), meta.assign(tenant=["42", "b", "c"]))
    assert numbers["plan"].tolist() == ["pro"]  # ids compared as text
    with pytest.raises(hg.ConfigError, match="prefix="):
        hg.label(frame.assign(plan=1), meta)
    assert "meta_plan" in hg.label(frame.assign(plan=1), meta, prefix="meta_")
    with pytest.raises(hg.ConfigError, match="no column seats in metadata"):
        hg.label(frame, meta, ["seats"])
    with pytest.raises(hg.ConfigError, match="names tenants twice: a"):
        hg.label(frame, pd.concat([meta, meta.head(1)]))
    with pytest.raises(hg.ConfigError, match="'tenant' column"):
        hg.label(frame.drop(columns="tenant"), meta)


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_update_merges_keeps_unnamed_keys_and_deletes_only_on_the_marker(mode: str) -> None:
    with sandbox.serve(wire={"metadata_put": mode}) as sb:
        a, b, c = [t for t, m in sb.state.metadata.items() if m][:3]
        before = {t: dict(sb.state.metadata[t] or {}) for t in (a, b, c)}
        sheet = pd.DataFrame({"tenant": [a, b, c], "plan": ["enterprise", None, None],
                              "seats": [hg.DELETE, 12.0, None]})  # fmt: skip
        plan = hg.update_tenant_metadata(sheet, dry_run=True, **opts(sb))
        assert puts(sb) == [] and list(plan["outcome"]) == ["planned", "planned", "unchanged"]
        done = hg.update_tenant_metadata(sheet, **opts(sb))
        expected_a = {k: v for k, v in before[a].items() if k != "seats"} | {"plan": "enterprise"}
        if mode == "replace":
            assert list(done["outcome"]) == ["changed", "changed", "unchanged"]
            assert sb.state.metadata[a] == expected_a
        else:  # a merging PUT cannot remove a key: said, never reported as done
            assert list(done["outcome"]) == ["failed", "changed", "unchanged"]
            assert "cannot be removed" in done["error"].iloc[0]
            assert sb.state.metadata[a] == expected_a | {"seats": before[a]["seats"]}
        assert sb.state.metadata[b] == before[b] | {"seats": 12}  # an int, as given
        assert sb.state.metadata[c] == before[c] and puts(sb) == [a, b]


def test_bad_sheets_are_refused_before_any_request() -> None:
    with sandbox.serve() as sb:
        sheet = pd.DataFrame({"tenant": ["a", "b", "a", None], "plan": ["p", {"x": 1}, "q", "r"]})
        with pytest.raises(hg.ConfigError) as caught:
            hg.update_tenant_metadata(sheet, **opts(sb))
        text = str(caught.value)
        assert "3 row(s) cannot be used, nothing was sent" in text
        assert "metadata is flat; plan" in text and "again" in text and "no tenant" in text
        with pytest.raises(hg.ConfigError, match="no key columns"):
            hg.update_tenant_metadata(pd.DataFrame({"tenant": ["a"]}), **opts(sb))
        assert sb.state.requests == []


def test_a_lost_answer_is_read_back_never_sent_twice_and_the_key_stays_out() -> None:
    with sandbox.serve() as sb:
        tenants = [t for t, m in sb.state.metadata.items() if m][:3]
        sb.state.faults.per_tenant.update({t: sandbox.Faults(lose_answer=1.0) for t in tenants})
        done = hg.update_tenant_metadata(pd.DataFrame({"tenant": tenants, "plan": "x"}),
                                         journal="meta.jsonl", **opts(sb))  # fmt: skip
        assert list(done["outcome"]) == ["changed"] * 3 and sorted(puts(sb)) == sorted(tenants)
        assert sb.api_key not in Path("meta.jsonl").read_text() + repr(done)


def test_a_read_only_key_reads_metadata_and_its_writes_name_the_permission() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"hotglue_metadata": {"metadata": {"plan": "pro"}}})
        return httpx.Response(403, json={"Code": "ForbiddenError", "Message": "Forbidden"})

    client = hg.AsyncHotglue("secret-key-456", "env", transport=httpx.MockTransport(handler))
    options = {"client": client, "progress": False}
    assert hg.tenant_metadata(["a"], **options)["plan"].tolist() == ["pro"]
    with pytest.raises(hg.AuthenticationError) as caught:
        hg.update_tenant_metadata(pd.DataFrame({"tenant": ["a"], "plan": ["x"]}), **options)
    frame = caught.value.results  # type: ignore[attr-defined]
    assert "write permission" in frame["error"].iloc[0]
    assert "secret-key-456" not in repr(frame) + str(caught.value)


def test_values_that_are_not_flat_json_and_bad_ids_are_refused_before_any_request() -> None:
    import datetime
    import decimal

    with sandbox.serve() as sb:
        ok = [t for t, m in sb.state.metadata.items() if m][:2]
        sheet = pd.DataFrame({"tenant": [*ok, "..", " x"],
                              "since": [datetime.date(2024, 1, 2), pd.Timestamp("2024-01-02"),
                                        "a", "b"],
                              "price": [decimal.Decimal("1.5"), float("inf"), 1, 2]})  # fmt: skip
        with pytest.raises(hg.ConfigError) as caught:
            hg.update_tenant_metadata(sheet, concurrency=1, **opts(sb))
        text = str(caught.value)
        assert "4 row(s) cannot be used" in text and "Decimal" in text and "float" in text
        assert puts(sb) == []
        dates = hg.update_tenant_metadata(sheet.head(2).drop(columns="price"), **opts(sb))
        assert set(dates["outcome"]) == {"changed"}
        assert sb.state.metadata[ok[0]]["since"] == "2024-01-02"
        meta = hg.tenant_metadata(ok, **opts(sb))  # a read's own frame can be written back
        assert set(hg.update_tenant_metadata(meta, **opts(sb))["outcome"]) == {"unchanged"}


def test_a_journal_of_another_operation_is_refused() -> None:
    import json

    Path("j.jsonl").write_text(json.dumps({"kind": "run", "run_id": "r",
                                           "operation": "pause_schedules"}) + "\n")  # fmt: skip
    with pytest.raises(hg.ConfigError, match="journal of a pause_schedules run"):
        hg.update_tenant_metadata(pd.DataFrame({"tenant": ["a"], "plan": ["x"]}),
                                  journal="j.jsonl", api_key="k", env_id="e")  # fmt: skip

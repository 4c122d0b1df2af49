"""OverridesForm, headless: set values, click buttons, set_state as the browser would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb.widgets import FieldMapError, OverridesForm

from .test_fieldmap import CATALOG

SAVED = {"Account": {"name": "Account", "selected": ["Name"]}}


def form(**kw: Any) -> OverridesForm:
    options = {"field_map": SAVED, "unified_tables": {"Vendors": True, "Bills": False}, **kw}
    return OverridesForm.from_catalog(CATALOG, **options)


def test_prefilled_from_the_saved_map() -> None:
    f = form()
    assert f.value == {
        "override_field_map": {
            "Account": {"name": "Account", "selected": ["Id", "Name", "Updated"]}
        },
        "override_selected_tables": {"Vendors": True},
    }
    assert f.saved == f.value and f.counts() == (1, 3)
    assert f.catalog["unified"] == ["Vendors", "Bills"]
    assert f.catalog["tables"][0] == ["Account", ["Id", "Name", "Industry", "Updated"],
                                      ["Id", "Updated"]]  # fmt: skip


def test_the_browser_sends_a_whole_value_and_observers_fire() -> None:
    f = form()
    seen: list[dict[str, Any]] = []
    f.observe(lambda change: seen.append(change["new"]), "value")
    sent = {
        "override_field_map": {
            "Account": {"name": "Account", "selected": ["Id", "Name", "Updated"]},
            "Invoice": {"name": "Invoice", "selected": ["*"]},
        },
        "override_selected_tables": {"Vendors": True, "Bills": True},
    }
    f.set_state({"value": sent})  # one message from the front end
    assert f.value == sent and seen == [sent]


def test_setting_value_round_trips_and_refuses_unknowns() -> None:
    f = form()
    f.value = {"override_field_map": {"Contact": {"name": "Contact", "selected": ["Email"]}}}
    assert f.value["override_field_map"] == {
        "Contact": {"name": "Contact", "selected": ["Id", "Email"]}
    }
    assert f.value["override_selected_tables"] == {}
    with pytest.raises(FieldMapError, match="'Ghost'") as info:
        f.value = {"override_field_map": {"Ghost": {"name": "Ghost", "selected": ["*"]}}}
    assert isinstance(info.value, hg.HotglueError)
    assert list(f.value["override_field_map"]) == ["Contact"]  # unchanged


def test_reset_and_file_round_trip(tmp_path: Path) -> None:
    f = form()
    f.value = {"override_field_map": {"Contact": {"name": "Contact", "selected": ["*"]}}}
    saved = json.loads(f.save(tmp_path / "o.json").read_text())
    assert saved == f.value
    f.reset()
    assert list(f.value["override_field_map"]) == ["Account"]
    f.load(tmp_path / "o.json")
    assert f.value == saved
    (tmp_path / "o.json").write_text('{"override_field_map": {"Ghost": {}}}')
    with pytest.raises(FieldMapError, match="Ghost"):
        f.load(tmp_path / "o.json")
    with pytest.raises(FieldMapError, match="Cannot load"):
        f.load(tmp_path / "missing.json")
    assert f.value == saved


def test_a_static_copy_of_the_value_for_saved_notebooks() -> None:
    f = form()
    html = f._static_html().data
    assert "OverridesForm value: 1 tables, 3 fields" in html and "&quot;Account&quot;" in html


def test_the_front_end_is_shipped_with_the_package() -> None:
    from hotglue_nb import widgets

    assert widgets._STATIC.joinpath("overrides_form.js").read_text().count("export default") == 1
    assert widgets._STATIC.joinpath("overrides_form.css").exists()


def test_value_launches_as_is() -> None:
    f = form()
    out = hg.launch_jobs(["t1"], flow_id="f", env_id="e", dry_run=True, progress=False, **f.value)
    body = json.loads(out.request.iloc[0])
    assert body["override_field_map"] == f.value["override_field_map"]
    assert body["override_selected_tables"] == {"Vendors": True}


def test_from_frame() -> None:
    import pandas as pd

    frame = pd.DataFrame({"table": ["A", "A"], "field": ["Id", "x"], "automatic": [True, False]})
    f = OverridesForm.from_frame(frame, unified_tables=["Vendors"])
    f.value = {"override_field_map": {"A": {"name": "A", "selected": ["*"]}}}
    assert f.value["override_field_map"] == {"A": {"name": "A", "selected": ["*"]}}
    assert f.catalog == {"tables": [["A", ["Id", "x"], ["Id"]]], "unified": ["Vendors"]}


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.serve() as running:
        yield running


def test_from_api_uses_the_tenants_catalog_and_saved_map(sb: sandbox.Sandbox) -> None:
    tenant = sb.tenants[0]
    source = sb.world.linked(tenant, sb.flow_id)[0]
    with hg.Hotglue(**sb.credentials) as client:
        f = OverridesForm.from_api(client, sb.flow_id, tenant)
    assert len(f.catalog["tables"]) == len(sb.world.catalogs[source["tap"]]["streams"])
    assert list(f.value["override_field_map"]) == list(source["fieldMap"])
    wanted = {k for k, v in source["config"]["selected_tables"].items() if v}
    assert set(f.value["override_selected_tables"]) == wanted
    first = f.catalog["tables"][0][0]
    f.value = {"override_field_map": {first: {"name": first, "selected": ["*"]}}}
    results = hg.launch_jobs([tenant], flow_id=sb.flow_id, progress=False, **sb.credentials,
                             **f.value)  # fmt: skip
    job = sb.state.jobs_for(tenant)[-1]
    assert job["override_field_map"] == f.value["override_field_map"]
    assert results.outcome.iloc[0] == "created"


def test_from_api_on_a_two_way_flow_reads_the_connector(sb: sandbox.Sandbox) -> None:
    flow = str(sb.v2_flow_id)
    tenant, connector = next(iter(sb.connected_tenants().items()))
    linked = sb.world.connectors(tenant, flow)[0]  # type: ignore[index]
    with hg.Hotglue(**sb.credentials) as client:
        f = OverridesForm.from_api(client, flow, tenant, connector_id=connector)
        with pytest.raises(hg.ConfigError, match="no linked connector 'zendesk'"):
            OverridesForm.from_api(client, flow, tenant, connector_id="zendesk")
        with pytest.raises(hg.ConfigError, match="pass connector_id= only"):
            OverridesForm.from_api(client, flow, tenant, connector_id=connector, tap="x")
    assert len(f.catalog["tables"]) == len(sb.world.catalogs[connector]["streams"])
    assert list(f.value["override_field_map"]) == list(linked["fieldMap"])
    results = hg.launch_jobs([tenant], flow_id=flow, connector_id=connector, job_type="read",
                             progress=False, **sb.credentials, **f.value)  # fmt: skip
    assert results.outcome.iloc[0] == "created"
    job = sb.state.store.list(flow, tenant)[-1].fields
    assert job["override_field_map"] == f.value["override_field_map"]


def test_from_api_errors(sb: sandbox.Sandbox) -> None:
    with hg.Hotglue(**sb.credentials) as client:
        with pytest.raises(hg.ConfigError, match="no linked source 'zendesk'"):
            OverridesForm.from_api(client, sb.flow_id, sb.tenants[0], tap="zendesk")
        several = next(t for t in sb.tenants if len(sb.world.linked(t, sb.flows[2]) or []) > 1)
        with pytest.raises(hg.ConfigError, match="several linked sources"):
            OverridesForm.from_api(client, sb.flows[2], several)
    with pytest.raises(hg.ConfigError, match="afrom_api"):
        OverridesForm.from_api(hg.AsyncHotglue(**sb.credentials), sb.flow_id, sb.tenants[0])

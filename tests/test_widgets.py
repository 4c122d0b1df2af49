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
    assert f._tables.value == ("Account",)
    assert f._unified["Vendors"].value is True and f._unified["Bills"].value is False
    assert "1</b> tables, <b>3</b> fields" in f._counts.value


def test_browser_selection_updates_value_and_fires_observers() -> None:
    f = form()
    seen: list[dict[str, Any]] = []
    f.observe(lambda change: seen.append(change["new"]), "value")
    f._tables.set_state({"index": [0, 2]})  # what the front end sends
    assert list(f.value["override_field_map"]) == ["Account", "Invoice"]
    assert f.value["override_field_map"]["Invoice"]["selected"] == ["*"]
    f._unified["Bills"].set_state({"value": True})
    assert f.value["override_selected_tables"] == {"Vendors": True, "Bills": True}
    assert len(seen) == 2


def test_field_picker_with_locked_automatic_fields() -> None:
    f = form()
    f.open_table("Contact")
    all_box, picker, note = f._fields_box.children
    assert all_box.value is True and picker.disabled
    assert picker.options == ("Email", "Phone")  # Id is automatic: not offered, always on
    assert "Id" in note.value
    all_box.value = False
    all_box, picker, note = f._fields_box.children
    picker.set_state({"index": [1]})
    assert f.value["override_field_map"]["Contact"]["selected"] == ["Id", "Phone"]


def test_search_and_select_all_none() -> None:
    f = form()
    f._search.value = "o"  # Account, Contact, Invoice all contain "o"
    f._search.value = "inv"
    assert f._tables.options == ("Invoice",)
    f._all_button.click()
    assert set(f.value["override_field_map"]) == {"Account", "Invoice"}  # hidden rows kept
    f._none_button.click()
    assert set(f.value["override_field_map"]) == {"Account"}
    f._search.value = ""
    f._none_button.click()
    assert f.value["override_field_map"] == {}


def test_setting_value_round_trips_and_refuses_unknowns() -> None:
    f = form()
    f.value = {"override_field_map": {"Contact": {"name": "Contact", "selected": ["Email"]}}}
    assert f.value["override_field_map"] == {
        "Contact": {"name": "Contact", "selected": ["Id", "Email"]}
    }
    assert f.value["override_selected_tables"] == {}
    assert f._tables.value == ("Contact",)
    with pytest.raises(FieldMapError, match="'Ghost'") as info:
        f.value = {"override_field_map": {"Ghost": {"name": "Ghost", "selected": ["*"]}}}
    assert isinstance(info.value, hg.HotglueError)
    assert list(f.value["override_field_map"]) == ["Contact"]  # unchanged


def test_reset_and_file_round_trip(tmp_path: Path) -> None:
    f = form()
    f._tables.set_state({"index": [1, 2]})
    f._path.value = str(tmp_path / "o.json")
    f._save_button.click()
    saved = json.loads((tmp_path / "o.json").read_text())
    assert saved == f.value
    f._reset_button.click()
    assert list(f.value["override_field_map"]) == ["Account"]
    f._load_button.click()
    assert f.value == saved and "Loaded" in f._status.value
    (tmp_path / "o.json").write_text('{"override_field_map": {"Ghost": {}}}')
    f._load_button.click()
    assert "Cannot load" in f._status.value and f.value == saved


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
    f.open_table("A")
    assert f.value["override_field_map"] == {"A": {"name": "A", "selected": ["*"]}}
    assert list(f._unified) == ["Vendors"]


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.serve() as running:
        yield running


def test_from_api_uses_the_tenants_catalog_and_saved_map(sb: sandbox.Sandbox) -> None:
    tenant = sb.tenants[0]
    source = sb.world.linked(tenant, sb.flow_id)[0]
    with hg.Hotglue(**sb.credentials) as client:
        f = OverridesForm.from_api(client, sb.flow_id, tenant)
    assert len(f._tables.options) == len(sb.world.catalogs[source["tap"]]["streams"])
    assert list(f.value["override_field_map"]) == list(source["fieldMap"])
    wanted = {k for k, v in source["config"]["selected_tables"].items() if v}
    assert set(f.value["override_selected_tables"]) == wanted
    f._tables.set_state({"index": [0]})
    results = hg.launch_jobs([tenant], flow_id=sb.flow_id, progress=False, **sb.credentials,
                             **f.value)  # fmt: skip
    job = sb.state.jobs_for(tenant)[-1]
    assert job["override_field_map"] == f.value["override_field_map"]
    assert results.outcome.iloc[0] == "created"


def test_from_api_errors(sb: sandbox.Sandbox) -> None:
    with hg.Hotglue(**sb.credentials) as client:
        with pytest.raises(hg.ConfigError, match="no linked source 'zendesk'"):
            OverridesForm.from_api(client, sb.flow_id, sb.tenants[0], tap="zendesk")
        several = next(t for t in sb.tenants if len(sb.world.linked(t, sb.flows[2]) or []) > 1)
        with pytest.raises(hg.ConfigError, match="several linked sources"):
            OverridesForm.from_api(client, sb.flows[2], several)
    with pytest.raises(hg.ConfigError, match="afrom_api"):
        OverridesForm.from_api(hg.AsyncHotglue(**sb.credentials), sb.flow_id, sb.tenants[0])

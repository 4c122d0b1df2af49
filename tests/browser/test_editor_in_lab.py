"""OverridesForm driven by clicks in Chromium; ``form.value`` read back from the kernel after
each step. Also the in-browser timings at 500 tables x 100 fields (printed, not asserted)."""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import TIMINGS, Page
from .test_guides_in_lab import console_errors

SETUP = """\
import json
import hotglue_nb as hg
from hotglue_nb import sandbox

catalog = sandbox.demo_world(0).catalogs["salesforce"]  # 320 streams
fields = {s["stream"]: list(s["schema"]["properties"]) for s in catalog["streams"]}
optional = [f for f in fields["Account"] if f not in ("Id", "LastModifiedDate")]
saved = {"Account": {"name": "Account", "selected": optional[:2]}}
form = hg.widgets.OverridesForm.from_catalog(
    catalog, field_map=saved, unified_tables={"Vendors": True, "Bills": False}
)
form"""

BIG = """\
big = {"streams": [{"stream": f"T{t:03d}", "key_properties": ["f000"], "schema": {
    "properties": {f"f{i:03d}": {"type": "string"} for i in range(100)}}} for t in range(500)]}
big_form = hg.widgets.OverridesForm.from_catalog(big)
big_form"""


def value(jl: Page) -> dict[str, Any]:
    return json.loads(jl.kernel("print(json.dumps(form.value))"))


def field_map(jl: Page) -> dict[str, list[str]]:
    return {k: v["selected"] for k, v in value(jl)["override_field_map"].items()}


def row(jl: Page, name: str, scope: str = "") -> Any:
    return jl.page.locator(f"{scope} [data-testid=hg-table-row][data-name='{name}']").first


def test_the_editor_by_clicks(jl: Page) -> None:
    jl.open(jl.lab.notebook([SETUP]))
    jl.run_all()
    jl.page.wait_for_selector("[data-testid=hg-table-row]")
    fields = json.loads(jl.kernel("print(json.dumps(fields))"))
    optional = [f for f in fields["Account"] if f not in ("Id", "LastModifiedDate")]
    account = [f for f in fields["Account"] if f in ("Id", "LastModifiedDate", *optional[:2])]
    assert field_map(jl) == {"Account": account}
    jl.shot("form.png", jl.page.locator(".hg-form").first)

    # a plain click adds a table and keeps the others (the native multi-select dropped them)
    row(jl, "Contact").locator("input").click()
    assert field_map(jl) == {"Account": account, "Contact": ["*"]}

    # unticking and re-ticking a table brings back its own field choice, not ["*"]
    row(jl, "Account").locator("input").click()
    assert list(field_map(jl)) == ["Contact"]
    row(jl, "Account").locator("input").click()
    assert field_map(jl)["Account"] == account

    # "Fields of" follows the table clicked; automatic fields are ticked, locked and say so
    row(jl, "Contact").locator(".hg-name").click()
    head = jl.page.locator("[data-testid=hg-fields-head]")
    assert head.inner_text().startswith("Fields of Contact")
    auto = jl.page.locator("[data-testid=hg-field-check][data-field='Id']")
    assert auto.is_checked() and auto.is_disabled()
    assert "automatic" in jl.page.locator(".hg-auto").first.inner_text()

    # "All fields" off keeps every field ticked: dropping one field is one click
    all_fields = jl.page.locator("[data-testid=hg-all-fields]")
    all_fields.click()
    assert field_map(jl)["Contact"] == fields["Contact"]
    jl.page.locator("[data-testid=hg-field-check][data-field='CreatedDate']").click()
    without = [f for f in fields["Contact"] if f != "CreatedDate"]
    assert field_map(jl)["Contact"] == without
    all_fields.click()
    assert field_map(jl)["Contact"] == ["*"]
    all_fields.click()  # and back: the explicit list was remembered
    assert field_map(jl)["Contact"] == without

    # the search only filters; undo takes back the last change; unified objects toggle
    before = value(jl)
    jl.page.locator("[data-testid=hg-search]").fill("Opportunity")
    assert jl.page.locator("[data-testid=hg-table-row]").count() == 1
    assert value(jl) == before
    jl.page.locator("[data-testid=hg-search]").fill("")
    jl.page.locator("[data-testid=hg-unified-check][data-name='Bills']").click()
    assert value(jl)["override_selected_tables"] == {"Vendors": True, "Bills": True}
    jl.page.locator("[data-testid=hg-undo]").click()
    assert value(jl) == before

    # selected tables come first, visible without scrolling
    jl.page.locator("[data-testid=hg-selected-only]").click()
    shown = jl.page.locator("[data-testid=hg-table-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )
    assert shown == ["Account", "Contact"]

    # a value set in Python shows in the browser; reset goes back to the saved map
    jl.kernel("form.value = {'override_field_map': {'Lead': {'name': 'Lead', 'selected': ['*']}}}")
    jl.page.wait_for_function(
        "() => document.querySelector('[data-testid=hg-counts]').innerText.startsWith('1 tables')"
    )
    jl.page.locator("[data-testid=hg-reset]").click()
    assert field_map(jl) == {"Account": account}
    assert console_errors(jl) == []


def test_the_editor_is_fast_at_500_tables_by_100_fields(jl: Page) -> None:
    jl.open(jl.lab.notebook([SETUP, BIG]))
    jl.run_cell(0)
    jl.wait_idle(upto=0)
    started = time.perf_counter()
    jl.run_cell(1)
    jl.page.wait_for_selector("[data-testid=hg-table-row][data-name='T000']")
    TIMINGS.setdefault("first render, 500 x 100 (cell run to rows shown)", []).append(
        (time.perf_counter() - started) * 1000
    )
    jl.wait_idle()
    for name in ("T003", "T007", "T011", "T003", "T001"):
        TIMINGS.setdefault("click to next paint (table checkbox)", []).append(click(jl, name))
    big = "[data-testid=hg-list] [data-testid=hg-table-row]"
    jl.page.locator(big).first.locator(".hg-name").click()
    elapsed = jl.page.evaluate(
        """() => { const box = document.querySelectorAll('[data-testid=hg-all-fields]')[1];
          const t0 = performance.now(); box.click();
          return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(
            () => r(performance.now() - t0)))); }"""
    )
    TIMINGS.setdefault("click to next paint ('All fields', 100 fields)", []).append(elapsed)
    assert jl.kernel("print(len(big_form.value['override_field_map']))").strip() == "4"


def click(jl: Page, name: str) -> float:
    return float(jl.page.evaluate(
        """(name) => { const box = document.querySelector(
            `[data-testid=hg-table-row][data-name="${name}"] input`);
          const t0 = performance.now(); box.click();
          return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(
            () => r(performance.now() - t0)))); }""",
        name,
    ))  # fmt: skip

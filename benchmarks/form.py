"""OverridesForm on a big catalog (500 tables x 100 fields), the kernel's side.

The browser's side (first render, click to paint) is measured in Chromium by
``pytest tests/browser -k fast`` and printed at the end of that run. Here: building the form
(catalog message + validation of the saved map), a value round trip as one click causes, and
the eager ipywidgets alternative (a picker per table built up front) for comparison.
Run: ``python benchmarks/form.py``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import ipywidgets as w

from hotglue_nb.widgets import OverridesForm

TABLES, FIELDS, REPS = 500, 100, 5


def catalog() -> dict[str, Any]:
    streams = []
    for t in range(TABLES):
        names = [f"field_{f:03d}" for f in range(FIELDS)]
        streams.append(
            {
                "stream": f"Table{t:03d}",
                "key_properties": ["field_000"],
                "schema": {"properties": {n: {"type": ["null", "string"]} for n in names}},
                "metadata": [
                    {
                        "breadcrumb": ["properties", "field_000"],
                        "metadata": {"inclusion": "automatic"},
                    }
                ],  # fmt: skip
            }
        )
    return {"streams": streams}


def timed(fn: Any) -> float:
    runs = []
    for _ in range(REPS):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def eager(cat: dict[str, Any]) -> None:
    """What rendering every table's fields up front costs."""
    pickers = [
        w.VBox(
            [
                w.Checkbox(description="all fields (*)"),
                w.SelectMultiple(options=list(s["schema"]["properties"])),
            ]
        )  # fmt: skip
        for s in cat["streams"]
    ]
    w.Accordion(children=pickers)


def main() -> None:
    cat = catalog()
    field_map = {f"Table{t:03d}": {"name": f"Table{t:03d}", "selected": ["*"]} for t in range(50)}
    build = timed(lambda: OverridesForm.from_catalog(cat, field_map=field_map))
    form = OverridesForm.from_catalog(cat, field_map=field_map)
    clicked = {**form.value["override_field_map"], "Table250": {"name": "Table250",
                                                                 "selected": ["*"]}}  # fmt: skip
    click = timed(lambda: form.set_state({"value": {"override_field_map": clicked,
                                                     "override_selected_tables": {}}}))  # fmt: skip
    eager_build = timed(lambda: eager(cat))
    print(f"catalog: {TABLES} tables x {FIELDS} fields, 50 tables prefilled; median of {REPS}")
    print(f"  OverridesForm build (kernel side): {build * 1000:7.1f} ms   (target well under 1 s)")
    print(f"  a click's value, validated:        {click * 1000:7.1f} ms")
    print(f"  eager ipywidgets alternative:      {eager_build * 1000:7.1f} ms   "
          f"({eager_build / build:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()

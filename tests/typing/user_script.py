"""A user's typed script: ``mypy --strict`` must see hotglue_nb after the README's install,
checked from outside the clone (tests/test_typing.py, .ci/run)."""

from __future__ import annotations

import pandas as pd

import hotglue_nb as hg
from hotglue_nb import sandbox
from hotglue_nb.widgets import OverridesForm


def rerun_failed(results: pd.DataFrame) -> pd.DataFrame:
    again: pd.DataFrame = hg.retry_frame(results)
    return again


def main() -> int:
    with sandbox.serve() as sb:
        results = hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, concurrency=2,
                                 **sb.credentials)  # fmt: skip
        summary: hg.Summary = hg.summarize(results)
        with hg.Hotglue(**sb.credentials) as client:
            tenants: list[str] = client.list_tenants()
    form: type[OverridesForm] = OverridesForm
    print(summary, len(tenants), len(rerun_failed(results)), form)
    return 0

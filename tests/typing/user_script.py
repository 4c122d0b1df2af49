"""A user's typed script: mypy --strict must see hotglue_nb after the README's install
(checked from outside the clone by tests/test_typing.py and .ci/run)."""

from __future__ import annotations

import pandas as pd

import hotglue_nb as hg
from hotglue_nb import sandbox


def rerun_failed(results: pd.DataFrame) -> pd.DataFrame:
    again: pd.DataFrame = hg.retry_frame(results)
    return again


def main() -> int:
    with sandbox.serve() as sb:
        results = hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, concurrency=2, **sb.credentials)
        summary: hg.Summary = hg.summarize(results)
        client: hg.Hotglue = hg.Hotglue(**sb.credentials)
        tenants: list[str] = client.list_tenants()
        client.close()
    print(summary, len(tenants), len(rerun_failed(results)))
    return 0

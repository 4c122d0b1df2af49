"""The one-command demo (``hotglue-nb demo``) and its sample workbook.

The workbook ``data/demo_tenants.xlsx`` is generated from the sandbox's demo world (seed 0)
by ``python -m hotglue_nb._demo``; it is shipped so the demo starts from a real spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from importlib import resources
from pathlib import Path
from typing import TextIO

import pandas as pd

from ._api import launch_jobs
from ._files import export_results
from ._report import failures, summarize
from ._tenants import read_tenants

__all__ = ["demo_workbook", "run_demo", "write_demo_workbook"]

DEMO_ROWS = 200
RETIRED = "retired-tenant-001"  # not in the sandbox: shows a rejected row


def demo_workbook() -> Path:
    """Path of the shipped sample tenants workbook."""
    return Path(str(resources.files("hotglue_nb") / "data" / "demo_tenants.xlsx"))


def write_demo_workbook(path: Path) -> None:
    """(Re)generate the sample workbook from the sandbox's demo world."""
    import openpyxl

    from .sandbox import demo_world

    tenants = [*list(demo_world(0).tenants)[: DEMO_ROWS - 1], RETIRED]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "tenants"
    sheet.append(["Tenant ID", "override_start_date", "reset_source_state", "streaming_job",
                  "job_name", "Notes"])  # fmt: skip
    for i, tenant in enumerate(tenants):
        start = dt.datetime(2024, 1 + i % 12, 1) if i % 3 == 0 else None
        reset = True if i % 17 == 0 else None
        streaming = True if i % 23 == 0 else None
        note = "asked by support" if i % 11 == 0 else None
        sheet.append([tenant, start, reset, streaming, "demo-rerun", note])
    sheet.column_dimensions["A"].width = 22
    book.save(path)


def run_demo(out: Path, *, concurrency: int = 16, stream: TextIO = sys.stdout) -> int:
    """Rehearse a bulk rerun on the embedded sandbox; return the CLI exit code."""
    from . import sandbox

    started = time.monotonic()
    tenants = read_tenants(demo_workbook())

    def say(text: str = "") -> None:
        print(text, file=stream)

    say(f"Read {len(tenants)} tenants from the sample workbook {demo_workbook().name}.")
    faults = {"server_error": 0.02, "lose_answer": 0.02}
    with sandbox.serve(faults=faults) as sb:
        say(f"Sandbox (local hotglue emulator) on {sb.base_url}, flow {sb.flow_id}, with a "
            "few injected 5xx and lost answers.\n")  # fmt: skip
        results = launch_jobs(
            tenants, flow_id=sb.flow_id, concurrency=concurrency, wait=True,
            poll_interval=0.5, max_poll_interval=2.0, api_key=sb.api_key, env_id=sb.env_id,
            base_url=sb.base_url,
        )  # fmt: skip
    export_results(results, out)
    say(str(summarize(results)))
    say("\nWhat went wrong, grouped by message:")
    say(failures(results).to_string(index=False, max_colwidth=70))
    say(f"\nResults for every row: {out}   ({time.monotonic() - started:.0f} s)")
    say(
        "\nSame run against the real API (your key stays in the environment):\n"
        "  export HOTGLUE_API_KEY=...  HOTGLUE_ENV_ID=your.env.id\n"
        "  hotglue-nb launch tenants.xlsx --flow <flow_id> --concurrency 8 --wait "
        "--journal run.jsonl --out results.xlsx\n"
        "Start with --dry-run to see exactly what would be sent."
    )
    return 0


if __name__ == "__main__":
    write_demo_workbook(Path(__file__).parent / "data" / "demo_tenants.xlsx")
    print(pd.read_excel(demo_workbook()).head())

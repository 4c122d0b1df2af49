"""The one-command demo (``hotglue-nb demo``) and its sample workbook.

The workbook ``data/demo_tenants.xlsx`` is generated from the sandbox's demo world (seed 0)
by ``python -m hotglue_nb._demo``; it is shipped so the demo starts from a real spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from ._analysis import compare, failure_signatures, failures, fleet_health, summarize
from ._api import job_history, launch_jobs
from ._client import Hotglue
from ._exceptions import HotglueWarning
from ._files import export_results
from ._ops import label, tenant_metadata
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
    """Rehearse the daily loop on the embedded sandbox: see the fleet, find the unhealthy
    tenants, rerun them from the sample workbook, and compare; return the CLI exit code."""
    from . import sandbox

    started = time.monotonic()
    tenants = read_tenants(demo_workbook())

    def say(text: str = "") -> None:
        print(text, file=stream)

    say(f"Read {len(tenants)} tenants from the sample workbook {demo_workbook().name}.")
    faults = {"server_error": 0.02, "lose_answer": 0.02}
    with sandbox.serve(faults=faults, history_days=30) as sb:
        client = Hotglue(**sb.credentials)
        say(f"Sandbox (local hotglue emulator) on {sb.base_url}, flow {sb.flow_id}: 30 days "
            "of scheduled jobs, a few injected 5xx and lost answers.\n")  # fmt: skip
        with warnings.catch_warnings():  # said below, in the demo's words
            warnings.simplefilter("ignore", HotglueWarning)
            history = job_history(sb.flow_id, progress=False, client=client)
        meta = tenant_metadata(client=client, progress=False)  # company names for the ids
        health = label(fleet_health(history), meta, ["company", "plan"])
        _fleet(say, history, health)
        unhealthy = health[health["problem"].isin(RERUN)]
        rows = tenants[tenants["tenant"].isin(unhealthy["tenant"])]
        say(f"\n2. Rerun: the {len(rows)} workbook rows of those tenants, with a pre-launch "
            "check (a broken link or a dormant tenant is skipped, not launched).")  # fmt: skip
        results = launch_jobs(
            rows, flow_id=sb.flow_id, concurrency=concurrency, wait=True, preflight=True,
            poll_interval=0.5, max_poll_interval=2.0, client=client,
        )  # fmt: skip
        client.close()
    export_results(results, out)
    _after(say, history, results, out, time.monotonic() - started)
    return 0


RERUN = ("failing", "flaky", "records_drop")


def _fleet(say: Any, history: pd.DataFrame, health: pd.DataFrame) -> None:
    say(f"1. The fleet: {len(history)} jobs of {history['tenant'].nunique()} tenants read "
        "(one GET per tenant, concurrently). Health per tenant:")  # fmt: skip
    say(health["problem"].value_counts().to_string())
    worst = health[health["problem"] != "ok"]
    say(f"\nThe worst {min(len(worst), 8)}, labelled from tenant metadata (hg.label):")
    shown = ["tenant", "company", "plan", "problem", "failure_streak"]
    say(worst[shown].head(8).to_string(index=False))
    cut = int((~health["history_complete"].fillna(True).astype(bool)).sum())
    if cut:
        say(f"({cut} tenants' lists came back {history.attrs['list_limit']} jobs long, as "
            "hotglue's list looks capped: history_complete=False, and their failure streaks "
            "are lower bounds.)")  # fmt: skip
    say("\nWhy they fail (failure signatures):")
    table = failure_signatures(history)[["stage", "tap", "signature", "count"]].head(6)
    say(table.to_string(index=False, max_colwidth=70))


def _after(say: Any, history: pd.DataFrame, results: pd.DataFrame, out: Path, took: float) -> None:
    say(str(summarize(results)))
    diff = compare(history, results)
    say("\n3. What the rerun changed (hg.compare with the history):")
    say("   " + ", ".join(f"{k}: {v}" for k, v in diff.attrs["summary"].items() if v))
    say("\nStill wrong, grouped by message:")
    say(failures(results, include_skipped=True).to_string(index=False, max_colwidth=70))
    say(f"\nResults for every rerun row: {out}   ({took:.0f} s)")
    say(
        "\nThe same loop against the real API (your key stays in the environment):\n"
        "  export HOTGLUE_API_KEY=...  HOTGLUE_ENV_ID=your.env.id\n"
        "  hotglue-nb health --flow <flow_id> --problem failing --out rerun.xlsx\n"
        "  hotglue-nb launch rerun.xlsx --flow <flow_id> --check --wait --journal run.jsonl "
        "--out results.xlsx\n"
        "Start with --dry-run to see exactly what would be sent."
    )


if __name__ == "__main__":
    write_demo_workbook(Path(__file__).parent / "data" / "demo_tenants.xlsx")
    print(pd.read_excel(demo_workbook()).head())

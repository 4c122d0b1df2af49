"""The CLI speaks in its own terms and composes in pipes: ``-`` for stdin tenants and stdout
results, messages and warnings naming its flags (never Python keywords)."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hotglue_nb import sandbox
from hotglue_nb.cli import build_parser
from hotglue_nb.cli._terms import FLAGS, in_cli_terms

from .test_cli import cli, creds


@pytest.fixture(scope="module")
def sb() -> sandbox.Sandbox:
    with sandbox.serve(history_days=20) as running:
        yield running  # type: ignore[misc]


def _all_flags(parser: argparse.ArgumentParser) -> set[str]:
    flags = {s for action in parser._actions for s in action.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                flags |= _all_flags(sub)
    return flags


def test_every_flag_a_message_may_name_exists() -> None:
    assert set(FLAGS.values()) - _all_flags(build_parser()) == set()


def test_keywords_become_flags_and_body_fields_stay() -> None:
    text = ("no tenant column; name it 'tenant' or pass tenant_column=, or flow_id='x'; "
            "--set override_start_date=2024-01-01; rows' flow_id column; timeout==3")  # fmt: skip
    assert in_cli_terms(text) == (
        "no tenant column; name it 'tenant' or pass --tenant-column, or --flow 'x'; "
        "--set override_start_date=2024-01-01; rows' flow_id column; timeout==3"
    )


def test_a_missing_tenant_column_names_the_flag_and_the_flag_works(
    sb: sandbox.Sandbox, tmp_path: Path
) -> None:
    sheet = tmp_path / "t.csv"
    pd.DataFrame({"Customer": sb.tenants[:3]}).to_csv(sheet, index=False)
    refused = cli("launch", str(sheet), "--flow", sb.flow_id, "--dry-run", env=creds(sb))
    assert refused.returncode == 2
    assert "--tenant-column" in refused.stderr and "tenant_column=" not in refused.stderr
    done = cli("launch", str(sheet), "--flow", sb.flow_id, "--dry-run", "--tenant-column",
               "Customer", env=creds(sb))  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_warnings_are_one_line_in_the_clis_terms(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    sheet = tmp_path / "t.csv"
    frame = pd.DataFrame({"tenant": [sb.tenants[0], "", sb.tenants[1]], "flow_id": ["", "x", ""]})
    frame.to_csv(sheet, index=False)
    done = cli("launch", str(sheet), "--flow", sb.flow_id, "--skip-invalid", "--dry-run",
               env=creds(sb))  # fmt: skip
    warned = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warned and all(line.startswith("hotglue-nb launch: warning: ") for line in warned)
    assert ".py:" not in done.stderr and "warnings.warn" not in done.stderr


def test_health_piped_into_launch(sb: sandbox.Sandbox) -> None:
    env = {**os.environ, **creds(sb)}
    line = (f"{sys.executable} -m hotglue_nb health --flow {sb.flow_id} --problem failing "
            f"--out - --quiet | {sys.executable} -m hotglue_nb launch - --flow {sb.flow_id} "
            "--out - --quiet")  # fmt: skip
    done = subprocess.run(line, shell=True, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(io.StringIO(done.stdout))
    assert len(results) >= 1 and set(results.outcome) == {"created"}
    assert "Results:" not in done.stdout and "created" in done.stderr  # the summary: stderr
    health = cli("health", "--flow", sb.flow_id, "--problem", "failing", "--json", "--quiet",
                 env=creds(sb))  # fmt: skip
    assert len(health.stdout.splitlines()) == len(results)

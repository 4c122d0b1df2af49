"""``hotglue-nb schedules`` / ``metadata`` and ``--label`` (issue #25), as a user runs them:
a subprocess against the sandbox on loopback, errors in the CLI's terms, the key never out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from hotglue_nb import sandbox


def cli(sb: sandbox.Sandbox, cwd: Path, *args: str) -> Any:
    env = {**os.environ, "HOTGLUE_API_KEY": sb.api_key, "HOTGLUE_ENV_ID": sb.env_id,
           "HOTGLUE_BASE_URL": sb.base_url}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "hotglue_nb", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=cwd)  # fmt: skip


def test_pause_then_restore_from_the_journal_and_from_the_out_file(tmp_path: Path) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=40)) as sb:
        before = dict(sb.state.schedules)
        pd.DataFrame({"tenant": sb.tenants[:20]}).to_csv(tmp_path / "t.csv", index=False)
        plan = cli(sb, tmp_path, "schedules", "pause", "--flow", sb.flow_id, "--tenants",
                   "t.csv", "--dry-run")  # fmt: skip
        assert plan.returncode == 0 and "planned" in plan.stdout, plan.stderr
        assert sb.state.schedules == before
        paused = cli(sb, tmp_path, "schedules", "pause", "--flow", sb.flow_id, "--tenants",
                     "t.csv", "--out", "paused.csv", "--journal", "p.jsonl")  # fmt: skip
        assert paused.returncode == 0, paused.stderr
        assert "Journal: p.jsonl" in paused.stdout and sb.state.schedules != before
        restored = cli(sb, tmp_path, "schedules", "restore", "paused.csv")
        assert restored.returncode == 0, restored.stderr
        assert sb.state.schedules == before
        cli(sb, tmp_path, "schedules", "pause", "--flow", sb.flow_id, "--tenants", "t.csv",
            "--journal", "q.jsonl")  # fmt: skip
        again = cli(sb, tmp_path, "schedules", "restore", "q.jsonl", "--json")
        assert again.returncode == 0 and sb.state.schedules == before
        rows = [json.loads(line) for line in again.stdout.splitlines()]
        assert rows and {r["outcome"] for r in rows} == {"changed"}
        for run in (plan, paused, restored, again):
            assert sb.api_key not in run.stdout + run.stderr


def test_set_from_a_sheet_refuses_bad_rows_in_file_terms(tmp_path: Path) -> None:
    with sandbox.serve() as sb:
        sheet = tmp_path / "s.csv"
        sheet.write_text("tenant,flow_id,schedule_expression,delete\n"
                         f"{sb.tenants[1]},{sb.flow_id},0 3 * * *,\n"
                         f"{sb.tenants[2]},{sb.flow_id},,maybe\n")  # fmt: skip
        bad = cli(sb, tmp_path, "schedules", "set", "s.csv")
        assert bad.returncode == 2 and "line 3: delete is true or false" in bad.stderr
        sheet.write_text("tenant,flow_id,schedule_expression\n"
                         f"{sb.tenants[1]},{sb.flow_id},0 3 * * *\n")  # fmt: skip
        bad = cli(sb, tmp_path, "schedules", "set", "s.csv")
        assert (
            bad.returncode == 2 and "add the year" in bad.stderr and "Traceback" not in bad.stderr
        )
        assert not [r for r in sb.state.requests if r[0] == "PUT"]


def test_metadata_list_set_and_labels_on_health(tmp_path: Path) -> None:
    with sandbox.serve(history_days=10) as sb:
        listed = cli(sb, tmp_path, "metadata", "list", "--out", "meta.csv")
        assert listed.returncode == 0 and "company" in listed.stdout, listed.stderr
        tenant = next(t for t, m in sb.state.metadata.items() if m)
        pd.DataFrame({"tenant": [tenant], "plan": ["gold"]}).to_csv(tmp_path / "m.csv",
                                                                    index=False)  # fmt: skip
        done = cli(sb, tmp_path, "metadata", "set", "m.csv")
        assert done.returncode == 0 and sb.state.metadata[tenant]["plan"] == "gold"
        health = cli(sb, tmp_path, "health", "--flow", sb.flow_id, "--label", "company,plan",
                     "--out", "h.csv")  # fmt: skip
        assert health.returncode == 0, health.stderr
        frame = pd.read_csv(tmp_path / "h.csv")
        assert {"company", "plan"} <= set(frame.columns) and frame["company"].notna().any()
        typo = cli(sb, tmp_path, "health", "--flow", sb.flow_id, "--label", "compny")
        assert typo.returncode == 2 and "--label compny" in typo.stderr


def test_state_backup_and_a_v1_restore_said_in_flag_terms(tmp_path: Path) -> None:
    with sandbox.serve() as sb:
        pd.DataFrame({"tenant": sb.tenants[:3]}).to_csv(tmp_path / "t.csv", index=False)
        saved = cli(sb, tmp_path, "state", "backup", "--flow", sb.flow_id, "--tenants", "t.csv",
                    "--folder", "kept")  # fmt: skip
        assert saved.returncode == 0 and "3 of 3 states saved in kept" in saved.stdout
        assert len(list((tmp_path / "kept").rglob("*.json"))) == 3
        refused = cli(sb, tmp_path, "state", "restore", "kept")
        assert refused.returncode == 2 and "no way to write a V1" in refused.stderr
        assert "third_party" not in refused.stderr


def test_metadata_list_then_set_unchanged_changes_nothing(tmp_path: Path) -> None:
    with sandbox.serve() as sb:
        before = {t: dict(m) if m else m for t, m in sb.state.metadata.items()}
        listed = cli(sb, tmp_path, "metadata", "list", "--out", "m.csv")
        assert listed.returncode == 0, listed.stderr
        again = cli(sb, tmp_path, "metadata", "set", "m.csv")
        assert again.returncode == 0, again.stderr
        assert "changed" not in again.stdout.split("Journal")[0].replace("unchanged", "")
        assert sb.state.metadata == before
        (tmp_path / "empty.csv").write_text("")
        empty = cli(sb, tmp_path, "metadata", "set", "empty.csv")
        assert empty.returncode == 2 and "Traceback" not in empty.stderr


def test_store_sync_info_runs_and_health_from_the_store(tmp_path: Path) -> None:
    with sandbox.serve(sandbox.demo_world(0, tenants=20), history_days=10) as sb:
        synced = cli(sb, tmp_path, "store", "sync", "--flow", sb.flow_id, "--store", "h.sqlite")
        assert synced.returncode == 0 and "100 new and 0 changed" in synced.stdout, synced.stderr
        again = cli(sb, tmp_path, "store", "sync", "--flow", sb.flow_id, "--store", "h.sqlite")
        assert "0 new and 0 changed" in again.stdout
        info = cli(sb, tmp_path, "store", "info", "--store", "h.sqlite")
        assert "jobs: 100" in info.stdout and "tenants: 20" in info.stdout
        runs = cli(sb, tmp_path, "store", "runs", "--store", "h.sqlite")
        assert runs.returncode == 0 and "No run kept" in runs.stdout
        health = cli(sb, tmp_path, "health", "--flow", sb.flow_id, "--store", "h.sqlite",
                     "--out", "h.csv")  # fmt: skip
        assert health.returncode == 0 and len(pd.read_csv(tmp_path / "h.csv")) == 20
        (tmp_path / "bad.sqlite").write_text("not a store" * 100)
        bad = cli(sb, tmp_path, "store", "info", "--store", "bad.sqlite")
        assert bad.returncode == 2 and "not a hotglue_nb store" in bad.stderr

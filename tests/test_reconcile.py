"""Finding a job by the unique name its launch gave it (pure)."""

from __future__ import annotations

import hotglue_nb as hg
from hotglue_nb._jobs._reconcile import find_job, verdict

NAME = "rerun~20240101T000000-abc123-000007"


def job(name: str | None, status: str = "JOB_CREATED") -> hg.Job:
    return hg.Job(job_name=name, status=status, s3_root=f"root-{name}")


def test_find_by_exact_name_or_server_suffix() -> None:
    assert find_job([job("other"), job(NAME)], NAME) == job(NAME)
    assert find_job([job(NAME + ":KWjsnRTyp")], NAME) == job(NAME + ":KWjsnRTyp")
    assert find_job([job(NAME + "0:abc"), job(None), job(NAME[:-1])], NAME) is None


def test_verdicts() -> None:
    assert verdict([job(NAME + ":x")], NAME, queue_flag=False)[0] == "found"
    assert verdict([], NAME, queue_flag=False) == ("absent", None, "")
    finished = [job("older", "JOB_COMPLETED")]
    assert verdict(finished, NAME, queue_flag=True)[0] == "absent"
    state, found, why = verdict([job("running", "SYNC_STARTED")], NAME, queue_flag=True)
    assert state == "unknown" and found is None and "queued" in why

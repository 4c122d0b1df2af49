"""_eta: predicting a job's end from the run's own jobs (pure; times in epoch seconds)."""

from __future__ import annotations

from typing import Any

import pytest

from hotglue_nb._jobs._eta import Eta, stages
from hotglue_nb._models import Job

T0 = 1_700_000_000.0
#: a job at speed 1: CREATED 20 s, SYNC 60 s, ETL 40 s, EXPORT 50 s (ends at +170 s)
LIFE = [("JOB_CREATED", 0), ("SYNC_STARTED", 20), ("ETL_STARTED", 80), ("EXPORT_STARTED", 120),
        ("JOB_COMPLETED", 170)]  # fmt: skip


def job(reached: list[tuple[str, float]], start: float = T0, **raw: Any) -> Job:
    stamps = {name: int((start + t) * 1000) for name, t in reached}
    body = {"status": reached[-1][0], "status_timestamp": stamps, **raw}
    return Job(status=reached[-1][0], raw=body)


def at(speed: float, upto: int) -> list[tuple[str, float]]:
    return [(name, t * speed) for name, t in LIFE[: upto + 1]]


def taught(*speeds: float) -> Eta:
    eta = Eta(shift=0.0)
    for number, speed in enumerate(speeds):
        eta.observe(f"done{number}", f"t{number}", job(at(speed, 4)), T0 + 500)
    return eta


def test_stages_are_read_in_time_order_with_the_start_as_created() -> None:
    j = Job(status="SYNC_STARTED", start_time="2023-11-14T22:13:20+00:00",
            raw={"status_timestamp": {"SYNC_STARTED": 1_700_000_020_000, "x": "bad"}})  # fmt: skip
    assert stages(j) == [("JOB_CREATED", 1_700_000_000.0), ("SYNC_STARTED", 1_700_000_020.0)]
    assert stages(Job(status="JOB_CREATED")) == []


def test_a_job_is_expected_when_jobs_like_it_ended() -> None:
    eta = taught(1.0, 1.0, 1.0)
    now = T0 + 125  # five seconds into EXPORT
    delay, seen = eta.delay("new", job(at(1.0, 3)), now, cap=1000)  # type: ignore[misc]
    assert seen and delay == pytest.approx(45, abs=0.5)


def test_a_slow_job_is_expected_late_from_its_own_finished_stages() -> None:
    eta = taught(1.0, 1.0, 1.0)
    slow = job(at(1.5, 3))  # CREATED, SYNC, ETL took 1.5x: EXPORT will too
    delay, _ = eta.delay("new", slow, T0 + 180, cap=1000)  # type: ignore[misc]
    assert delay == pytest.approx(1.5 * 170 - 180, abs=1)


def test_fast_jobs_ending_first_do_not_make_slow_ones_look_fast() -> None:
    eta = taught(0.6, 0.6)  # only fast jobs have ended so far; slow ones are in EXPORT
    for number in range(3):
        eta.observe(f"slow{number}", f"s{number}", job(at(1.5, 3)), T0 + 181)
    delay, _ = eta.delay("s0", job(at(1.5, 3)), T0 + 181, cap=1000)  # type: ignore[misc]
    assert delay == pytest.approx(1.5 * 170 - 181, rel=0.1)  # (raw lengths: 30 s)


def test_a_tenants_earlier_jobs_give_its_speed_before_its_job_has_finished_a_stage() -> None:
    eta = taught(1.0, 1.0)
    eta.learn_history("big", [job(at(2.0, 4), start=T0 - 10_000)])
    fresh = job(at(2.0, 0))
    delay, _ = eta.delay("big", fresh, T0 + 1, cap=1000)  # type: ignore[misc]
    assert delay == pytest.approx(2.0 * 170 - 1, abs=2)
    delay, _ = eta.delay("other", fresh, T0 + 1, cap=1000)  # type: ignore[misc]
    assert delay == pytest.approx(170 - 1, abs=2)


def test_hops_are_capped_and_a_late_job_is_polled_more_and_more_rarely() -> None:
    eta = taught(1.0)
    running = job(at(1.0, 3))
    assert eta.delay("t", running, T0 + 121, cap=30) == (30, True)
    gaps = [eta.delay("t", running, T0 + 170 + late, cap=30)[0] for late in (0, 10, 40, 200)]  # type: ignore[index]
    assert gaps == sorted(gaps) and gaps[0] >= 1 and gaps[-1] == 30


def test_a_server_clock_ahead_is_learnt_from_its_timestamps() -> None:
    eta = taught(1.0)
    ahead = 3600.0  # the server is an hour ahead of this clock
    running = job(at(1.0, 3))
    eta.observe("r", "t", running, T0 + 120 - ahead)
    delay, _ = eta.delay("t", running, T0 + 125 - ahead, cap=1000)  # type: ignore[misc]
    assert delay == pytest.approx(45, abs=0.5)


def test_before_any_stage_ends_the_guess_is_flagged_and_streaming_jobs_skip_etl() -> None:
    eta = Eta(shift=0.0)
    guess = eta.delay("t", job(at(1.0, 0)), T0 + 1, cap=1000)
    assert guess is not None and guess[1] is False  # the documented example, unscaled
    eta = taught(1.0)
    plain = eta.delay("t", job(at(1.0, 1)), T0 + 21, cap=1000)
    streaming = eta.delay("t", job(at(1.0, 1), streaming_job=True), T0 + 21, cap=1000)
    assert plain and streaming and plain[0] - streaming[0] == pytest.approx(40, abs=0.5)


def test_a_job_without_timestamps_or_in_an_unknown_stage_is_not_predicted() -> None:
    eta = taught(1.0)
    assert eta.delay("t", Job(status="SYNC_STARTED"), T0, cap=30) is None
    assert eta.delay("t", job([("JOB_CREATED", 0), ("WEIRD", 5)]), T0 + 6, cap=30) is None

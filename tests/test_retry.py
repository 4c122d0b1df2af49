"""What a failed request proves, how long to wait, and who waits (pure, fake time)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

import hotglue_nb as hg
from hotglue_nb._client._pacing import Pacer
from hotglue_nb._client._retry import back_off, backoff_delay, decide
from hotglue_nb._exceptions import parse_retry_after

from .fake_time import FakeTime


@pytest.mark.parametrize(
    "attempt,retry_after,expected",
    [
        pytest.param(1, None, (0.375, 0.5), id="first"),
        pytest.param(3, None, (1.5, 2.0), id="third"),
        pytest.param(10, None, (6.0, 8.0), id="capped"),
        pytest.param(1, 2.5, (2.5, 2.5), id="retry-after"),
        pytest.param(1, 600.0, (60.0, 60.0), id="retry-after-capped"),
        pytest.param(1, -1.0, (0.0, 0.0), id="negative"),
    ],
)
def test_backoff_delay(
    attempt: int, retry_after: float | None, expected: tuple[float, float]
) -> None:
    for seed in range(20):
        delay = backoff_delay(attempt, retry_after, random.Random(seed))
        assert expected[0] <= delay <= expected[1]


def test_decisions() -> None:
    def status(code: int) -> hg.APIStatusError:
        return hg._exceptions.make_status_error(
            httpx.Response(code, request=httpx.Request("POST", "http://x")),
            method="POST", path="/p", tenant="t",
        )  # fmt: skip

    assert [decide(status(c)) for c in (401, 403, 400, 404, 409, 423, 429, 503, 500, 502)] == [
        "abort", "abort", "reject", "reject", "reject", "retry", "retry", "retry",
        "reconcile", "reconcile",
    ]  # fmt: skip
    common = {"method": "POST", "path": "/p", "tenant": "t"}
    assert decide(hg.APIConnectionError("x", cause=httpx.ConnectError("x"), **common)) == "retry"
    assert decide(hg.APITimeoutError("x", cause=httpx.ReadTimeout("x"), **common)) == "reconcile"
    assert decide(hg.APIResponseError("x", status_code=200, **common)) == "reconcile"


def status_error(code: int, retry_after: str | None = None) -> hg.APIStatusError:
    headers = {"retry-after": retry_after} if retry_after else {}
    response = httpx.Response(code, headers=headers, request=httpx.Request("GET", "http://x"))
    return hg._exceptions.make_status_error(response, method="GET", path="/p", tenant="t")


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(90.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True),
                             now=now.timestamp()) == 0.0  # fmt: skip
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_a_throttle_pauses_the_run_anything_else_waits_alone() -> None:
    ft = FakeTime(0.0)
    pacer = Pacer(None, clock=ft, sleep=ft.sleep)
    rng = random.Random(1)
    asyncio.run(back_off(status_error(429, "3"), 1, rng=rng, sleep=ft.sleep, pacer=pacer))
    assert pacer.pause_until == 0.0 and ft.sleeps == [3.0]  # a lone 429: its caller waits
    ft, rng = FakeTime(0.0), random.Random(1)
    pacer = Pacer(None, clock=ft, sleep=ft.sleep)

    async def three_at_once() -> None:
        throttle = status_error(429, "3")
        calls = [back_off(throttle, 1, rng=rng, sleep=ft.sleep, pacer=pacer) for _ in range(3)]
        await asyncio.gather(*calls)

    asyncio.run(three_at_once())
    assert pacer.pause_until == 3.0 and ft.sleeps == [3.0, 3.0]  # the third: everyone waits
    asyncio.run(back_off(status_error(423, "2"), 1, rng=rng, sleep=ft.sleep, pacer=pacer))
    assert ft.sleeps[-1] == 2.0 and pacer.pause_until == 3.0  # only this caller waited
    asyncio.run(back_off(status_error(503), 1, rng=rng, sleep=ft.sleep, pacer=None))
    assert 0.375 <= ft.sleeps[-1] <= 0.5  # no pacer: the caller sleeps the back-off

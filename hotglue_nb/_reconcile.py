"""Find out whether a POST whose answer was lost created a job, by its unique job_name."""

from __future__ import annotations

import asyncio
import random
from typing import Literal

from ._client import AsyncHotglue
from ._exceptions import APIStatusError, HotglueError
from ._models import Job
from ._pacing import Pacer
from ._plan import RowPlan
from ._retry import backoff_delay, get_is_retryable

__all__ = ["Reconciler"]

State = Literal["found", "absent", "unknown"]
GET_ATTEMPTS = 6  # GETs are safe to repeat


class Reconciler:
    """``check`` -> ("found", job, ""), ("absent", None, ""), or ("unknown", None, why).

    ``delay`` gives a request still being processed by the server time to land before the
    job list is read [I: hotglue does not say how long creation can take].
    """

    def __init__(self, *, delay: float, rng: random.Random | None = None) -> None:
        self.delay = delay
        self.rng = rng or random.Random()

    async def check(
        self, client: AsyncHotglue, plan: RowPlan, pacer: Pacer, *, delay: float | None = None
    ) -> tuple[State, Job | None, str]:
        wait = self.delay if delay is None else delay
        if wait > 0:
            await asyncio.sleep(wait)
        jobs, why = await self._list(client, plan, pacer)
        if jobs is None:
            return "unknown", None, why
        name = plan.job_name
        found = [j for j in jobs if j.job_name == name or (j.job_name or "").startswith(name + ":")]
        if found:
            return "found", found[0], ""
        if plan.body.get("queue_if_active_job") and any(not j.is_terminal for j in jobs):
            return (
                "unknown",
                None,
                ("the job may be queued behind a running one (queued jobs are not listed)"),
            )
        return "absent", None, ""

    async def _list(
        self, client: AsyncHotglue, plan: RowPlan, pacer: Pacer
    ) -> tuple[list[Job] | None, str]:
        for attempt in range(1, GET_ATTEMPTS + 1):
            await pacer.wait()
            try:
                return await client.list_jobs(plan.flow_id, plan.tenant), ""
            except HotglueError as exc:
                if not get_is_retryable(exc) or attempt == GET_ATTEMPTS:
                    return None, f"could not list the tenant's jobs to check: {exc}"
                retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
                delay = backoff_delay(attempt, retry_after, self.rng)
                if isinstance(exc, APIStatusError) and exc.status_code in (429, 503):
                    pacer.slow_down(delay)
                else:
                    await asyncio.sleep(delay)
        return None, "unreachable"

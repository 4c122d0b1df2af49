"""The client against the sandbox on loopback: the two independent sides agree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.serve() as running:
        yield running


def test_round_trip(sb: sandbox.Sandbox) -> None:
    with hg.Hotglue(**sb.credentials) as client:
        assert client.list_tenants() == sb.tenants
        tenant = sb.tenants[1]
        job = client.run_job(sb.flow_id, tenant, job_name="it", override_start_date="2024-01-01")
        assert isinstance(job, hg.Job) and job.job_name.startswith("it:")
        assert job.raw["override_start_date"] == "2024-01-01T00:00:00.000Z"
        again = client.get_job_status(sb.flow_id, tenant, job.job_root)
        assert again.job_id == job.job_id
        assert [j.job_id for j in client.list_jobs(sb.flow_id, tenant)] == [job.job_id]
        queued = client.run_job(sb.flow_id, tenant, queue_if_active_job=True)
        assert isinstance(queued, hg.QueuedJob) and queued.reason
        with pytest.raises(hg.BadRequestError, match="currently running"):
            client.run_job(sb.flow_id, tenant)
        sources = client.linked_sources(sb.flow_id, tenant, catalog=True)
        assert sources[0]["catalog"]["streams"]


def test_errors_from_the_sandbox(sb: sandbox.Sandbox) -> None:
    with hg.Hotglue(**{**sb.credentials, "api_key": "wrong"}) as bad:
        with pytest.raises(hg.AuthenticationError, match="Invalid x-api-key"):
            bad.list_tenants()
    with hg.Hotglue(**sb.credentials) as client:
        with pytest.raises(hg.NotFoundError, match="'nobody' not found"):
            client.run_job(sb.flow_id, "nobody")

"""The sandbox: a local, offline emulator of the hotglue jobs API.

Usage:
    >>> import hotglue_nb as hg
    >>> with hg.sandbox.serve() as sb:          # 127.0.0.1, a free port
    ...     client = hg.Hotglue(**sb.credentials)
    ...     job = client.run_job(sb.flow_id, sb.tenants[0])

or in-process, without a server:
``httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://sandbox")``.

It is an independent implementation of the wire contract: it imports nothing from the rest
of hotglue_nb, so a bug in the client cannot hide behind the same bug here.

What follows hotglue's documentation [C] and what is inferred [I]:

* [C] ``x-api-key`` on every request; 401 ``{"Code": "UnauthorizedError", "Message":
  "Invalid x-api-key"}``; 404 ``NotFoundError`` bodies; the V1 body fields and their types;
  200 job objects; 202 ``{message, reason}`` for ``queue_if_active_job``; the lifecycle
  JOB_CREATED -> (DISCOVER_STARTED) -> SYNC_STARTED -> SYNC_SUCCESS -> ETL_STARTED ->
  ETL_SUCCESS -> EXPORT_STARTED -> JOB_COMPLETED and ``*_FAILED`` exits; ``streaming_job``
  skips ETL; the fieldMap and catalog shapes; ``job_name`` nested under ``job`` (widget).
* [C] real job files: ``status_timestamp`` holds only the ``*_STARTED`` stages reached; a
  failure's cause is an ``error`` object ``{"message": ...}`` under a generic ``message``
  ("... failed because at least one export record failed."); no ``processed_rows``; V2 jobs
  carry ``tap`` and ``target`` and a lower-case ``job_type``; a write with a refused record
  ends EXPORT_FAILED. [C-code] hotglue's target SDK: export details ``{success, hash, id?,
  externalId?, error?}``, no entry for a repeated record.
* [I] the refusal of a parallel job is a 400 ``BadRequestError`` saying a job is running;
  a queued job starts when the active one ends; ``ignore_parallel_jobs`` jobs still block
  later ordinary requests; suffix ``:<9 chars>`` on every given ``job_name``; the ``s3_root``
  week-of-month rule; unknown body fields are refused (the real API may ignore them); an
  unknown tap is a 400; ``jobs/latest`` with no jobs is a 404; rate limits, 423 and 5xx
  behaviour (hotglue publishes none).
* [I], switchable (``Wire``; strict defaults): job lists capped at 5, newest first, ``count``
  ignored (the widget's "Showing last 5 jobs"); V2 job reads only on the un-prefixed paths
  (the widget's [C-code]); API Gateway's 403 ``{"message": "Missing Authentication Token"}``
  for a route hotglue does not have, before the key is read; ``bare_429`` / ``empty_status``
  faults for API Gateway's throttle answer without ``Retry-After`` and an empty status body.
* [I] a seeded past (``history_days=30``): about one scheduled job a day per tenant and
  linked flow, with per-tenant profiles (a failure streak since a known day, flaky, dormant,
  a records drop, slow jobs, a disconnected source) read off the world data; ``jobs/latest``
  with no job is a 404 "No jobs found"; linked sources carry ``disconnected``, ``error`` and
  ``isReconnecting`` ([C-code] field names, the widget reads them).
* V2 (two-way) flows: ``POST /v2/{env}/{flow}/{tenant}/jobs`` with ``connector_id`` and
  ``job_type`` [C]; status, list and latest on the un-prefixed paths, list and latest
  filtered by ``entity_id`` / ``entity_type`` [C-code widget]; ``linkedConnectors`` keyed
  ``id``, with its catalog and, with ``config=true``, its saved config [C-code]; the job's
  ``s3_root`` has ``/jobs/read/`` or ``/jobs/write/`` [C example]. [I]: the 400 texts for a missing
  connector or job type, an unlinked connector is a 400, a V1 flow under ``/v2`` (or the
  reverse) is a 404, and a write's ``exportSummary`` / ``exportDetails`` rules (a record
  whose ``email`` is not an address fails; some tenants' connectors refuse every 4th record;
  see ``_write.write_summary``).
* ``GET /{env}/flows/supported`` [C-code]: every flow of the env, the two-way ones with
  ``version`` 2 unless ``Wire(supported_flows="one_way")`` [I: whether hotglue lists them].
* Not emulated: schedules, linked targets, discover endpoints.

Time: a job's timeline is fixed when it starts and read off an injectable ``clock``
(seconds since the epoch); ``time_scale`` shrinks the ~3-minute real lifecycle (default:
a few seconds). Faults (see ``Faults``) are off unless asked for.
"""

from __future__ import annotations

from ._app import create_app
from ._faults import FaultPlan, Faults, parse_faults
from ._jobs import DEFAULT_TIME_SCALE
from ._serve import Sandbox, serve, start
from ._state import AnswerLost, SandboxState
from ._wire import DEFAULT_LIST_CAP, Wire
from ._world import UNIFIED_OBJECTS, World, demo_world

__all__ = [
    "DEFAULT_LIST_CAP",
    "DEFAULT_TIME_SCALE",
    "UNIFIED_OBJECTS",
    "AnswerLost",
    "FakeClock",
    "FaultPlan",
    "Faults",
    "Sandbox",
    "SandboxState",
    "Wire",
    "World",
    "create_app",
    "demo_world",
    "parse_faults",
    "serve",
    "start",
]


class FakeClock:
    """A clock for tests and rehearsals: time moves only when you call ``advance``."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

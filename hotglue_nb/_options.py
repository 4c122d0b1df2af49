"""The keyword arguments shared by the sync and async fan-out functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from ._client import AsyncHotglue, Hotglue

__all__ = ["RUN_KEYS", "LaunchOptions", "Parts", "split_options"]


class LaunchOptions(TypedDict, total=False):
    """Options of ``launch_jobs``; any request-body field is also accepted as a default."""

    flow_id: str
    env_id: str
    api_key: str
    base_url: str
    client: AsyncHotglue | Hotglue
    concurrency: int
    rate_limit: float | None
    max_attempts: int
    timeout: float
    journal: str | Path | bool | None
    resume: str | Path | None
    dry_run: bool
    on_invalid: str
    reconcile_delay: float
    progress: Any
    nest_asyncio: bool
    wait: bool
    poll_interval: float
    max_poll_interval: float
    wait_timeout: float | None
    # request-body defaults (see hg.BODY_FIELDS)
    tap: str
    state: Any
    job_name: str
    override_start_date: Any
    override_end_date: Any
    reset_source_state: bool
    streaming_job: bool
    override_selected_tables: Any
    override_field_map: Any
    override_source_config: Any
    override_target_config: Any
    ignore_parallel_jobs: bool
    queue_if_active_job: bool
    environment_variables: Any


RUN_KEYS = frozenset(
    {
        "flow_id", "env_id", "api_key", "base_url", "client", "concurrency", "rate_limit",
        "max_attempts", "timeout", "journal", "resume", "dry_run", "on_invalid",
        "reconcile_delay",
    }
)  # fmt: skip
DISPLAY_KEYS = frozenset({"progress", "nest_asyncio", "wait"})
WAIT_KEYS = frozenset({"poll_interval", "max_poll_interval", "wait_timeout", "clock", "sleep"})
CONNECTION_KEYS = ("api_key", "env_id", "base_url", "client")


class Parts(NamedTuple):
    run: dict[str, Any]  # arguments of prepare_launch
    display: dict[str, Any]  # progress, nest_asyncio, wait
    wait: dict[str, Any]  # arguments of wait_for_jobs, for wait=True
    body: dict[str, Any]  # request-body defaults


def split_options(options: dict[str, Any]) -> Parts:
    """Sort launch_jobs' keyword arguments by who uses them."""
    run = {k: v for k, v in options.items() if k in RUN_KEYS}
    display = {k: v for k, v in options.items() if k in DISPLAY_KEYS}
    wait = {k: run[k] for k in CONNECTION_KEYS if k in run}
    wait.update({k: v for k, v in options.items() if k in WAIT_KEYS - {"wait_timeout"}})
    if "wait_timeout" in options:
        wait["timeout"] = options["wait_timeout"]
    taken = RUN_KEYS | DISPLAY_KEYS | WAIT_KEYS
    body = {k: v for k, v in options.items() if k not in taken}
    return Parts(run, display, wait, body)

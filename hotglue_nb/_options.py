"""The keyword arguments shared by the sync and async fan-out functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from ._client import AsyncHotglue, Hotglue

__all__ = ["LaunchOptions", "RUN_KEYS", "split_options"]


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


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """-> (arguments of prepare_launch, display/mode options, request-body defaults)."""
    run = {k: v for k, v in options.items() if k in RUN_KEYS}
    display = {k: v for k, v in options.items() if k in DISPLAY_KEYS}
    body = {k: v for k, v in options.items() if k not in RUN_KEYS and k not in DISPLAY_KEYS}
    return run, display, body

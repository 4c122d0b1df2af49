"""hotglue_nb: launch, follow and analyse hotglue jobs across many tenants from Jupyter.

Usage:
    >>> import hotglue_nb as hg
    >>> client = hg.Hotglue()                       # HOTGLUE_API_KEY, HOTGLUE_ENV_ID
    >>> job = client.run_job("l8odS2mce", "acme")

``hg.sandbox`` (a local emulator of the API) and ``hg.widgets`` load on first use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from . import aio as aio
from ._analysis import (
    Summary,
    compare,
    failure_signatures,
    failures,
    fleet_health,
    plot_history,
    plot_outcomes,
    retry_frame,
    summarize,
)
from ._api import (
    check_tenants,
    job_history,
    latest_jobs,
    launch_jobs,
    wait_for_jobs,
    write_records,
)
from ._client import AsyncHotglue, Hotglue
from ._config import DEFAULT_BASE_URL, Credentials
from ._endpoints import BODY_FIELDS
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConflictError,
    HotglueError,
    HotglueWarning,
    JournalError,
    LaunchInterrupted,
    LockedError,
    NotFoundError,
    RateLimitError,
    RouteError,
    ServerError,
    TenantsFileError,
)
from ._files import export_results, load_run, read_results
from ._frames import read_errors
from ._jobs import failed_records, record_fates
from ._last_run import last_run
from ._models import (
    FAILED_STATUSES,
    JOB_COMPLETED,
    JOB_CREATED,
    LIFECYCLE,
    Job,
    QueuedJob,
    is_failed,
    is_terminal,
)
from ._ops import (
    DELETE,
    backup_state,
    label,
    pause_schedules,
    restore_schedules,
    restore_state,
    schedules,
    set_schedules,
    tenant_metadata,
    update_tenant_metadata,
)
from ._store import Store
from ._tenants import read_tenants
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncHotglue",
    "AuthenticationError",
    "BODY_FIELDS",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "Credentials",
    "DEFAULT_BASE_URL",
    "DELETE",
    "FAILED_STATUSES",
    "Hotglue",
    "HotglueError",
    "HotglueWarning",
    "JOB_COMPLETED",
    "JOB_CREATED",
    "Job",
    "JournalError",
    "LIFECYCLE",
    "LaunchInterrupted",
    "LockedError",
    "NotFoundError",
    "QueuedJob",
    "RateLimitError",
    "RouteError",
    "ServerError",
    "Store",
    "Summary",
    "TenantsFileError",
    "__version__",
    "aio",
    "backup_state",
    "check_tenants",
    "compare",
    "export_results",
    "failed_records",
    "failure_signatures",
    "failures",
    "fleet_health",
    "is_failed",
    "is_terminal",
    "job_history",
    "label",
    "last_run",
    "latest_jobs",
    "launch_jobs",
    "load_run",
    "pause_schedules",
    "plot_history",
    "plot_outcomes",
    "read_errors",
    "read_results",
    "read_tenants",
    "record_fates",
    "restore_schedules",
    "restore_state",
    "retry_frame",
    "schedules",
    "set_schedules",
    "summarize",
    "tenant_metadata",
    "update_tenant_metadata",
    "wait_for_jobs",
    "write_records",
]

_LAZY_MODULES = ("sandbox", "widgets")


def __getattr__(name: str) -> ModuleType:
    # PEP 562: heavy optional modules (starlette, ipywidgets) load only when asked for.
    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

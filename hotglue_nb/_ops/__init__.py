"""Tenant operations in bulk: schedules read, set, paused and put back exactly
(``_schedules``: the journaled change engine; ``_rows``: the rows from a frame, a result or
a journal; ``_run``: a run and its journal; ``_public``: the public functions), and tenant
metadata read, joined onto frames and edited (``_metadata``, ``_labels``); sync state backed
up and, where the API allows, restored (``_state``); one settled write (``_settle``)."""

from ._labels import DELETE, label, tenant_metadata, update_tenant_metadata
from ._public import pause_schedules, restore_schedules, schedules, set_schedules
from ._state import backup_state, restore_state

__all__ = [
    "DELETE",
    "backup_state",
    "label",
    "pause_schedules",
    "restore_schedules",
    "restore_state",
    "schedules",
    "set_schedules",
    "tenant_metadata",
    "update_tenant_metadata",
]

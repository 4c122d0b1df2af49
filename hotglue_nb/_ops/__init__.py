"""Tenant operations in bulk: schedules read, set, paused and put back exactly
(``_schedules``: the journaled change engine; ``_rows``: the rows from a frame, a result or
a journal; ``_public``: the public functions)."""

from ._public import pause_schedules, restore_schedules, schedules, set_schedules

__all__ = ["pause_schedules", "restore_schedules", "schedules", "set_schedules"]

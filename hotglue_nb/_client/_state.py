"""A link's sync state (Singer bookmarks), as ``AsyncHotglue.get_state`` reads it (V1: as
hotglue's taps read it [C-code]; V2: as third parties describe it [I: 3P]) and
``put_state`` writes a V2 one back. No way to write a V1 state back is known: hotglue's own
clients only read and delete it [C-code]."""

from __future__ import annotations

from typing import Any

__all__ = ["SyncState"]

SyncState = dict[str, Any]  # {"current_stream": ..., "bookmarks": {stream: {...}}}

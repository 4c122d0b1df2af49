"""A tenant's metadata as its config holds it (``hotglue_metadata.metadata`` [C-code tap]);
the calls are ``AsyncHotglue.tenant_config`` and ``put_metadata`` (which replaces it [I,
strong]: callers merge before they write)."""

from __future__ import annotations

from typing import Any

__all__ = ["Metadata", "metadata_of"]

Metadata = dict[str, Any]  # flat: text, numbers, booleans [C docs]


def metadata_of(config: dict[str, Any] | None) -> Metadata | None:
    """The metadata in a tenant config; None without a config, {} when it holds none."""
    if config is None:
        return None
    holder = config.get("hotglue_metadata")
    found = holder.get("metadata") if isinstance(holder, dict) else None
    return dict(found) if isinstance(found, dict) else {}

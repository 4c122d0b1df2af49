"""A tenant's metadata: read from its config (``GET /tenant/{env}/{tenant}/config`` →
``hotglue_metadata.metadata`` [C-code tap]) and written whole (``PUT
/tenant/{env}/{tenant}/metadata`` with ``{"config": {"metadata": {...}}}`` [C-code widget]),
which replaces it [I, strong]: callers merge before they write."""

from __future__ import annotations

from typing import Any

from .._endpoints import ENDPOINTS
from .._exceptions import NotFoundError
from ._async import AsyncHotglue

__all__ = ["Metadata", "get_metadata", "put_metadata"]

Metadata = dict[str, Any]  # flat: text, numbers, booleans [C docs]


async def get_metadata(client: AsyncHotglue, tenant: str) -> Metadata | None:
    """The tenant's metadata; None when it has no config (hotglue says "no config for the
    tenant" [C-code]; that it is a 404 is [I]), {} when its config holds none."""
    try:
        answer = await client._call(ENDPOINTS["tenant_config"], None, tenant)
    except NotFoundError as exc:
        if "no config" in str(exc).lower():
            return None
        raise
    data = answer.json()
    holder = data.get("hotglue_metadata") if isinstance(data, dict) else None
    found = holder.get("metadata") if isinstance(holder, dict) else None
    return dict(found) if isinstance(found, dict) else {}


async def put_metadata(client: AsyncHotglue, tenant: str, metadata: Metadata) -> None:
    """Replace the tenant's metadata with ``metadata``."""
    body = {"config": {"metadata": metadata}}
    await client._call(ENDPOINTS["put_metadata"], None, tenant, json_body=body)

"""Raw-HTTP helpers for sandbox tests (no hotglue_nb client: the sandbox is tested alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

SPEC = Path(__file__).parent / "spec" / "run-job-v1.openapi.yaml"


def seg(value: str) -> str:
    return quote(value, safe="")


def asgi_client(app: Any, key: str | None) -> httpx.AsyncClient:
    headers = {"x-api-key": key} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=headers
    )


def response_schema(status: str) -> dict[str, Any]:
    import yaml

    spec = yaml.safe_load(SPEC.read_text())
    post = spec["paths"]["/{env_id}/{flow_id}/{tenant}/jobs"]["post"]
    schema: dict[str, Any] = post["responses"][status]["content"]["application/json"]["schema"]
    return schema

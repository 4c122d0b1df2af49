"""What came back: a success answer whose JSON is read on demand (and checked to be what the
call promises), the fast path's light answer, and transport failures as HotglueErrors."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .._exceptions import APIConnectionError, APIResponseError, APITimeoutError, mask, scrub
from .._models import Job, QueuedJob

__all__ = [
    "JSON_HEADER", "Answer", "Body", "Light", "encode", "encoded", "started", "transport_error",
]  # fmt: skip

Body = dict[str, Any] | bytes | None
JSON_HEADER = {"content-type": "application/json"}


def encode(body: Body) -> bytes | None:
    """A JSON body as bytes, as httpx's ``json=`` writes it (compact, UTF-8)."""
    if body is None or isinstance(body, bytes):
        return body
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def encoded(raw: list[tuple[bytes, bytes]]) -> bool:
    """Whether raw response headers say the body is content-encoded."""
    for name, value in raw:
        if len(name) == 16 and name.lower() == b"content-encoding":
            return value.strip().lower() not in (b"", b"identity")
    return False


def started(answer: Answer) -> Job | QueuedJob:
    if answer.status_code == 202:
        return QueuedJob.from_api(answer.json_dict())
    return Job.from_api(answer.json_dict())


class Light:
    """A success answer of the fast path: what ``_Answer`` reads, without httpx's objects."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status_code, self.content = status, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def transport_error(
    exc: httpx.RequestError, method: str, path: str, tenant: str | None, secret: str
) -> APIConnectionError:
    where = f"{method} {path}"
    if isinstance(exc, httpx.TimeoutException):
        said = f" ({exc})" if "deadline" in str(exc) else ""  # ours; httpx's texts vary
        text = f"{where} timed out (tenant={tenant!r}): {type(exc).__name__}{said}"
        return APITimeoutError(text, method=method, path=path, tenant=tenant, cause=exc)
    text = f"{where} failed (tenant={tenant!r}): {type(exc).__name__}: {exc}"
    text = mask(text, secret)
    return APIConnectionError(text, method=method, path=path, tenant=tenant, cause=exc)


class Answer:
    """A success response whose JSON is read on demand; a body that is not what the call
    promises (not JSON, empty, an object for a list...) is an APIResponseError, so that only
    a well-formed answer is ever taken as proof of anything."""

    def __init__(
        self, response: httpx.Response | Light, method: str, path: str, tenant: str | None,
        secret: str = "",
    ) -> None:  # fmt: skip
        self.status_code = response.status_code
        self._content = scrub(response.content, secret)  # a 200 may echo the key, too
        self._where = (method, path, tenant)

    def json(self) -> Any:
        try:
            return json.loads(self._content) if self._content else None
        except ValueError:
            raise self._bad("a body that is not JSON") from None

    def json_dict(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict) or not data:
            raise self._bad("no JSON object in the body", empty=data in (None, {}))
        return data

    def json_list(self) -> list[Any]:
        data = self.json()
        if not isinstance(data, list):
            raise self._bad("a body that is not a JSON array")
        return data

    def _bad(self, what: str, *, empty: bool = False) -> APIResponseError:
        method, path, tenant = self._where
        text = self._content.decode("utf-8", "replace")[:200]
        return APIResponseError(
            f"{method} {path} -> {self.status_code} with {what} (tenant={tenant!r}): {text!r}",
            method=method, path=path, tenant=tenant, status_code=self.status_code, empty=empty,
        )  # fmt: skip

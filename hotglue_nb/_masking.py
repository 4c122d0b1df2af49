"""The one masking rule: every copy of the API key in what came back (a body of any status,
a header, a transport text) becomes the mask before anything reads or keeps it."""

from __future__ import annotations

import httpx

__all__ = ["MASK", "mask", "scrub", "scrubbed"]

MASK = "********"


def scrub(content: bytes, secret: str) -> bytes:
    """The one masking rule for what came back: every copy of the key in a body (of any
    status: a proxy, WAF or captive portal may echo the request headers in a 200) becomes
    the mask, before anything reads it."""
    if secret and content:
        key = secret.encode()
        if key in content:
            return content.replace(key, MASK.encode())
    return content


def mask(text: str, secret: str) -> str:
    """The same rule for a text (a transport error, a message built from an answer)."""
    return text.replace(secret, MASK) if secret and secret in text else text


_DECODED = ("content-encoding", "content-length")  # the copy holds the decoded body


def scrubbed(response: httpx.Response, secret: str) -> httpx.Response:
    """The response tied to a bare copy of its request line: no request headers (the API
    key) travel with an exception, its repr or its pickle; a body echoing the key is masked."""
    content = scrub(response.content, secret)
    request = httpx.Request(response.request.method, response.request.url)
    headers = [(k, mask(v, secret)) for k, v in response.headers.multi_items()
               if k.lower() not in _DECODED]  # fmt: skip
    return httpx.Response(response.status_code, headers=headers, content=content, request=request)

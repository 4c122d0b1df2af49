"""Answers a proxy, a WAF or a stalled balancer may give, on real sockets, both transports:
a 200 echoing the key, a trickle, a body the server chose to compress, a long header line
(issue #22: findings 3, 4, 9 and 13)."""

from __future__ import annotations

import gzip
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import hotglue_nb as hg

from .test_transport import TRANSPORTS, Server, read_request, server  # noqa: F401

KEY = "hg_live_S3CRET-abcdef0123456789"
JOB = {"job_id": "j1", "job_name": "n", "tenant": "t", "flow_id": "f", "env_id": "e",
       "s3_root": "e/f/t/jobs/2026/j1", "status": "JOB_CREATED",
       "start_time": "2026-12-01T10:00:00+00:00"}  # fmt: skip


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return f"HTTP/1.1 {status} X\r\n{lines}\r\n".encode() + body


def echo_headers(conn: socket.socket) -> None:
    request = read_request(conn)
    page = b"<html><body><pre>" + request + b"</pre></body></html>"
    conn.sendall(answer(200, page, {"Content-Type": "text/html", "X-Seen": KEY}))
    conn.close()


def trickle(conn: socket.socket) -> None:
    read_request(conn)
    body = json.dumps([JOB] * 3).encode()
    try:
        conn.sendall(answer(200, b"", {"Content-Length": str(len(body))})[: -0 or None])
        for byte in body:
            conn.sendall(bytes([byte]))
            time.sleep(0.3)
    except OSError:
        pass  # the client gave up: that is the point


def gzipped(conn: socket.socket) -> None:
    read_request(conn)
    coded = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    conn.sendall(answer(200, gzip.compress(json.dumps(JOB).encode()), coded))
    conn.close()


def long_header(conn: socket.socket) -> None:
    read_request(conn)
    cookie = {"Content-Type": "application/json", "Set-Cookie": "a=" + "x" * 12_000}
    conn.sendall(answer(200, json.dumps(JOB).encode(), cookie))
    conn.close()


@pytest.fixture(autouse=True)
def _transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fan-outs take the transport from HOTGLUE_TRANSPORT."""
    spec = getattr(request.node, "callspec", None)
    monkeypatch.setenv("HOTGLUE_TRANSPORT", spec.params["transport"] if spec else "aiohttp")


def creds(port: int, **kw: Any) -> dict[str, Any]:
    return {"api_key": KEY, "env_id": "e", "base_url": f"http://127.0.0.1:{port}", **kw}


# 3: one masking rule for every answer ---------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_200_echoing_the_key_never_carries_it_anywhere(
    transport: str, server: Callable[..., Server], tmp_path: Any,  # noqa: F811
) -> None:  # fmt: skip
    port = server(echo_headers).port
    journal = tmp_path / "run.jsonl"
    out = hg.launch_jobs(["t"], flow_id="f", journal=journal, progress=False, max_attempts=1,
                         reconcile_delay=0, **creds(port))  # fmt: skip
    texts = [out.to_json(date_format="iso"), journal.read_text(), repr(out.attrs)]
    with hg.Hotglue(**creds(port, transport=transport, max_retries=0)) as c:
        with pytest.raises(hg.APIResponseError) as caught:
            c.list_jobs("f", "t")
    texts += [str(caught.value), repr(caught.value), caught.value.__reduce__().__repr__()]
    assert "x-api-key" in "".join(texts).lower()  # the echo is there, masked
    for text in texts:
        assert KEY not in text


def test_a_status_errors_headers_echoing_the_key_are_masked() -> None:
    import httpx

    from hotglue_nb._exceptions import make_status_error

    response = httpx.Response(502, headers={"X-Seen": KEY, "Content-Encoding": "gzip"},
                              content=gzip.compress(f"bad gateway {KEY}".encode()),
                              request=httpx.Request("GET", "http://h/x"))  # fmt: skip
    error = make_status_error(response, method="GET", path="/x", tenant="t", secret=KEY)
    assert KEY not in str(error) and KEY not in str(error.response.headers)
    assert KEY not in error.response.text and "bad gateway" in error.response.text


# 4: one deadline bounds a whole request and a whole wait --------------------------------


async def _no_sleep(seconds: float) -> None:
    """Back-off waits take no time: what is measured is each request's own deadline."""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_trickling_answer_ends_at_the_requests_deadline(
    transport: str,
    server: Callable[..., Server],  # noqa: F811
) -> None:
    trickling = server(trickle)
    began = time.monotonic()
    out = hg.launch_jobs(["t"], flow_id="f", timeout=1, progress=False, reconcile_delay=0,
                         sleep=_no_sleep, **creds(trickling.port))  # fmt: skip
    took = time.monotonic() - began
    requests = trickling.seen  # the POST, then the patient job-list lookups (1 + 5 retries)
    assert requests == 7, requests
    assert took < requests * 1.0 + 3, took  # each ends at its 1 s deadline
    assert out.outcome.tolist() == ["unknown"], out[["outcome", "error"]]
    assert "total deadline" in out.error.iloc[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_wait_on_a_trickling_server_returns_by_its_timeout(
    transport: str,
    server: Callable[..., Server],  # noqa: F811
) -> None:
    port = server(trickle).port
    results = pd.DataFrame({
        "tenant": ["t"], "flow_id": ["f"], "env_id": ["e"], "outcome": ["created"],
        "job_root": ["e/f/t/jobs/2026/j1"], "request": ["{}"],
    })  # fmt: skip
    began = time.monotonic()
    out = hg.wait_for_jobs(results, timeout=3, progress=False, **creds(port))
    took = time.monotonic() - began
    assert took < 3 + 5 + 2, took  # the timeout, and the last poll's grace
    assert out.finished.tolist() == [False] and "ended a poll" in out.error.iloc[0]


# 13: the default transport reads what httpx reads ---------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("behave", [gzipped, long_header], ids=["gzip", "12KB-header"])
def test_answers_httpx_reads_are_read_on_both_transports(
    transport: str, behave: Callable[[socket.socket], None], server: Callable[..., Server]  # noqa: F811
) -> None:  # fmt: skip
    port = server(behave).port
    with hg.Hotglue(**creds(port, transport=transport, max_retries=0)) as c:
        job = c.run_job("f", "t")
    assert isinstance(job, hg.Job) and job.job_root == JOB["s3_root"]

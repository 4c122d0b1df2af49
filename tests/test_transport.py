"""What each network failure means, on real sockets, for both transports (aiohttp, httpx):
"certainly not sent" (a POST may be re-sent) or "maybe sent" (look for the job first)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

TRANSPORTS = ["aiohttp", "httpx"]


class Server:
    """A TCP server on 127.0.0.1 that does ``behave(conn)`` with each connection."""

    def __init__(self, behave: Callable[[socket.socket], None], backlog: int = 16) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.behave = behave
        self.seen = 0
        self.open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.seen += 1
            self.open.append(conn)
            threading.Thread(target=self.behave, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def close_after_request(conn: socket.socket) -> None:
    read_request(conn)
    conn.close()


def reset_after_request(conn: socket.socket) -> None:
    read_request(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()  # RST


def never_answer(conn: socket.socket) -> None:
    read_request(conn)


def garbage_to_tls(conn: socket.socket) -> None:
    conn.recv(1024)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # not a TLS handshake
    conn.close()


def client(transport: str, base_url: str, **kw: Any) -> hg.AsyncHotglue:
    return hg.AsyncHotglue(api_key="k", env_id="e", base_url=base_url, transport=transport,
                           max_retries=0, **kw)  # fmt: skip


def post(c: hg.AsyncHotglue) -> hg.APIError:
    async def go() -> hg.APIError:
        try:
            await c.run_job("f", "t")
        except hg.APIError as exc:
            return exc
        finally:
            await c.aclose()
        raise AssertionError("no error")

    return asyncio.run(go())


@pytest.fixture
def server() -> Iterator[Callable[..., Server]]:
    made: list[Server] = []

    def make(behave: Callable[[socket.socket], None], **kw: Any) -> Server:
        made.append(Server(behave, **kw))
        return made[-1]

    yield make
    for s in made:
        s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_not_sent_refused_dns_tls(transport: str, server: Callable[..., Server]) -> None:
    refused = post(client(transport, f"http://127.0.0.1:{free_port()}"))
    assert type(refused) is hg.APIConnectionError and refused.maybe_sent is False
    dns = post(client(transport, "https://nonexistent.invalid"))
    assert isinstance(dns, hg.APIConnectionError) and dns.maybe_sent is False
    tls = server(garbage_to_tls)
    broken = post(client(transport, f"https://localhost:{tls.port}"))
    assert isinstance(broken, hg.APIConnectionError) and broken.maybe_sent is False


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_connect_timeout_is_not_sent(transport: str) -> None:
    listener = socket.socket()  # listens, never accepts: once its queue is full, a connect
    listener.bind(("127.0.0.1", 0))  # waits for a SYN-ACK that does not come
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname())
    port = listener.getsockname()[1]
    timeout = httpx.Timeout(5.0, connect=0.3)
    exc = post(client(transport, f"http://127.0.0.1:{port}", timeout=timeout))
    filler.close()
    listener.close()
    assert type(exc) is hg.APITimeoutError and exc.maybe_sent is False


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("behave", [close_after_request, reset_after_request])
def test_closed_or_reset_after_the_request_may_have_been_sent(
    transport: str, behave: Callable[[socket.socket], None], server: Callable[..., Server]
) -> None:
    s = server(behave)
    exc = post(client(transport, f"http://127.0.0.1:{s.port}"))
    assert isinstance(exc, hg.APIConnectionError) and exc.maybe_sent is True
    assert s.seen == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_server_that_never_answers_is_a_read_timeout(
    transport: str, server: Callable[..., Server]
) -> None:
    s = server(never_answer)
    timeout = httpx.Timeout(5.0, read=0.3)
    exc = post(client(transport, f"http://127.0.0.1:{s.port}", timeout=timeout))
    assert type(exc) is hg.APITimeoutError and exc.maybe_sent is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pool_exhaustion_is_a_pool_timeout_not_sent(
    transport: str, server: Callable[..., Server]
) -> None:
    s = server(never_answer)
    c = client(transport, f"http://127.0.0.1:{s.port}", max_connections=1,
               timeout=httpx.Timeout(2.0, pool=0.2, read=1.0))  # fmt: skip

    async def go() -> list[Any]:
        first = asyncio.ensure_future(c.run_job("f", "t1"))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(c.run_job("f", "t2"))
        out = await asyncio.gather(first, second, return_exceptions=True)
        await c.aclose()
        return out

    first, second = asyncio.run(go())
    assert isinstance(first, hg.APITimeoutError) and first.maybe_sent is True  # read timeout
    assert isinstance(second, hg.APITimeoutError) and second.maybe_sent is False  # pool
    assert s.seen == 1  # the second request never left


class Proxy(Server):
    """A forward proxy for plain http: counts requests, relays each to its origin."""

    def __init__(self) -> None:
        super().__init__(self._relay)
        self.relayed = 0

    def _relay(self, conn: socket.socket) -> None:
        while request := read_request(conn):
            self.relayed += 1
            line, rest = request.split(b"\r\n", 1)
            method, url, version = line.split(b" ")
            host = url.split(b"/")[2].decode()
            path = b"/" + b"/".join(url.split(b"/")[3:])
            host_name, port = host.split(":")
            with socket.create_connection((host_name, int(port))) as up:
                up.sendall(b" ".join([method, path, version]) + b"\r\n" + rest)
                conn.sendall(_read_answer(up))


def _read_answer(up: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += up.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))  # fmt: skip
    while len(body) < length:
        body += up.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_proxies_from_the_environment(transport: str, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = Proxy()
    with sandbox.serve() as sb:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")
        with hg.Hotglue(**sb.credentials, transport=transport) as c:
            assert len(c.list_tenants()) == len(sb.tenants)
        assert proxy.relayed == 1
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with hg.Hotglue(**sb.credentials, transport=transport) as c:
            c.list_tenants()
        assert proxy.relayed == 1  # NO_PROXY: straight to the server
    proxy.close()


def test_bad_transport_choices() -> None:
    with pytest.raises(hg.ConfigError, match="transport="):
        hg.AsyncHotglue(api_key="k", env_id="e", transport="curl")
    with pytest.raises(hg.ConfigError, match="http_client="):
        hg.AsyncHotglue(api_key="k", env_id="e", http_client="no")  # type: ignore[arg-type]


def test_a_users_own_httpx_client_is_used_as_given() -> None:
    with sandbox.serve() as sb:

        async def go() -> list[str]:
            async with httpx.AsyncClient() as http:
                c = hg.AsyncHotglue(**sb.credentials, http_client=http)
                tenants = await c.list_tenants()
                await c.aclose()  # the user's client stays open: it is theirs
                assert not http.is_closed
                return tenants

        assert asyncio.run(go()) == sb.tenants


LEFT_OPEN = """
import asyncio, gc, sys
import hotglue_nb as hg
from hotglue_nb import sandbox
with sandbox.serve() as sb:
    c = hg.AsyncHotglue(**sb.credentials)  # never closed, as in a notebook
    hg.launch_jobs(sb.tenants[:3], flow_id=sb.flow_id, client=c, progress=False)
    del c
    gc.collect()
    hg.check_tenants(sb.tenants[:2], flow_id=sb.flow_id, **sb.credentials)
    d = hg.AsyncHotglue(**sb.credentials)
    asyncio.run(d.list_tenants())  # its loop is gone when it is collected
    del d
    gc.collect()
print("done")
"""


def test_a_client_left_open_is_closed_quietly_when_collected() -> None:
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-W", "error::ResourceWarning", "-c", LEFT_OPEN],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr[-3000:]
    assert "Unclosed" not in run.stderr, run.stderr[-3000:]

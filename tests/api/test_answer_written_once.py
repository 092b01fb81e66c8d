"""Each answer of the API's server goes out in one write (`metareg.web.serving`): uvicorn's
HTTP protocol wrote the status line and headers, then the body, as two system calls
and (Nagle off) two TCP segments, which the client then read in two wake-ups.

The protocol is the one `metareg serve` runs (`http_protocol()`, through
`uvicorn_config`), fed bytes as the event loop would and writing into a transport
that records each write; then the real server, on loopback, answers pipelined requests
in order.
"""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine
from uvicorn.server import ServerState

from metareg.web.serving import http_protocol
from metareg.web.settings import ApiSettings
from tests.api.test_forwarded_rate_limit import served


class Recording:
    """A transport that keeps what it is given, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    """As the API's routes answer: the start, then the whole body; `/stream` sends its
    body in two parts with a wait between."""
    headers = [(b"content-type", b"application/json")]
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"[1,", "more_body": True})
        await asyncio.sleep(0.001)
        await send({"type": "http.response.body", "body": b"2]"})
        return
    body = b'{"path":"' + scope["path"].encode() + b'"}'
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _writes(*requests: bytes) -> tuple[list[bytes], bool]:
    """Feed `requests` to a fresh connection of the served protocol, one at a time,
    each once the answer before it is written; the transport's writes."""
    config = uvicorn.Config(_answer, lifespan="off", log_level="warning", access_log=False)
    config.load()
    protocol = http_protocol()(config, ServerState(), {}, asyncio.get_running_loop())
    transport = Recording()
    protocol.connection_made(transport)
    for request in requests:
        before = len(transport.writes)
        protocol.data_received(request)
        for _ in range(2000):  # until its answer is out (its last write ends it)
            if transport.writes[before:] and transport.writes[-1].endswith((b"}", b"0\r\n\r\n")):
                break
            await asyncio.sleep(0.001)
    return transport.writes, transport.closed


def _get(path: str, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: metareg\r\n" + connection + b"\r\n"


def test_an_answer_is_one_write_headers_and_body_together() -> None:
    writes, _ = asyncio.run(_writes(_get("/v1/itmos/A"), _get("/v1/itmos/B")))
    assert len(writes) == 2  # one per answer
    for write, path in zip(writes, (b"/v1/itmos/A", b"/v1/itmos/B"), strict=True):
        head, body = write.split(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"content-length: " + str(len(body)).encode() in head
        assert body == b'{"path":"' + path + b'"}'


def test_a_streamed_answer_is_written_part_by_part_in_order_and_then_closed() -> None:
    writes, closed = asyncio.run(_writes(_get("/stream", close=True)))
    # The start and the first part in one turn, the last part in a later one.
    assert len(writes) == 2
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"transfer-encoding: chunked" in writes[0]
    assert writes[0].endswith(b"\r\n\r\n3\r\n[1,\r\n")
    assert writes[1] == b"2\r\n2]\r\n0\r\n\r\n"
    assert closed  # written before the close


def test_the_served_api_answers_pipelined_requests_in_order(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = ApiSettings(config=tmp_path)
    with served(sqlite_engine, settings) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(_get("/healthz") + _get("/v1/nothing-here") + _get("/healthz", True))
            received = b""
            while chunk := client.recv(65536):
                received += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", received) == [b"200", b"404", b"200"]
    assert received.endswith(b'{"status":"ok"}')

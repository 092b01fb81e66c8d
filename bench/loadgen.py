"""A lean HTTP/1.1 load generator for the API figure: keep-alive connections over
asyncio streams, each request's bytes built before timing, each answer read by its
`Content-Length`.

Why not httpx: measured on this 2-core machine, httpx's client spent ~2 ms of CPU per
request, more than the API server itself, so with the server and the generator
sharing two cores the "capacity" was the generator's. This client spends a few tens
of microseconds per request; what the figure measures is then the server. It speaks
only what the API answers here (a status line, headers with `Content-Length`, a body);
anything else is an error, never a silent guess.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import orjson

Request = tuple[str, str, Any]


class ProtocolError(Exception):
    """An answer this client cannot read (no Content-Length, a broken status line)."""


def encode(method: str, path: str, body: Any, host: str, token: str) -> bytes:
    """The request's bytes, sent as they are."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {token}\r\n"
    if body is None:
        return f"{head}\r\n".encode()
    payload = orjson.dumps(body)
    return (
        f"{head}Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )


class Connection:
    """One keep-alive connection; `call` sends a request and returns its status."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        parts = urlsplit(base)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def call(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError) as error:
            raise ProtocolError(f"bad status line {lines[0]!r}") from error
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        if length is None:
            raise ProtocolError("an answer without Content-Length")
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def host_of(base: str) -> str:
    return urlsplit(base).netloc


def drive(coroutine: Any) -> Any:
    """`asyncio.run`, on uvloop when it is installed (the generator's own loop costs
    less CPU there, leaving more of the machine to the server)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)

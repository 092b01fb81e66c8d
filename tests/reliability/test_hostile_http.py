"""Hostile HTTP bodies from a registry (over the cap, deeply nested JSON, the wrong content
type, invalid UTF-8) and to the API: each gets a clear error, nothing stored changes.

The registry is mocked with respx and read by the exchange connector through a real sync
into an index that already holds the registry's records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import respx
from sqlalchemy import Engine

from metareg.connectors.errors import ConnectorError, ErrorClass, MalformedResponse
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from tests.api.conftest import Api, make_api
from tests.sync.feeds import issuance
from tests.sync.index_state import current, history

BASE = "https://registry.example.org"
CHANGES = f"{BASE}/exchange/v1/changes"
CAP = 64 * 1024


def registry() -> RegistryConfig:
    connector = {
        "type": "exchange",
        "url": BASE,
        "holdings": False,
        "max_response_bytes": CAP,
        "max_attempts": 1,
    }
    return RegistryConfig("IDN01", "Indonesia", "IDN", {"connector": connector})


def page(items: list[Any]) -> dict[str, Any]:
    return {"items": items, "next_cursor": "c1", "has_more": False}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def streamed(chunks: int) -> Iterator[bytes]:
    for _ in range(chunks):
        yield b" " * 8192


HOSTILE: dict[str, Callable[[], httpx.Response]] = {
    "declared-over-cap": lambda: httpx.Response(
        200, content=b"{}", headers={"Content-Length": str(CAP * 1000)}
    ),
    "streamed-over-cap": lambda: httpx.Response(200, content=streamed(CAP // 8192 + 4)),
    "nested-json-20k-deep": lambda: httpx.Response(
        200, content=nested(20_000), headers={"Content-Type": "application/json"}
    ),
    "nested-json-in-page": lambda: httpx.Response(
        200,
        content=b'{"items": ' + nested(5_000) + b', "has_more": false}',
        headers={"Content-Type": "application/json"},
    ),
    "html-login-page": lambda: httpx.Response(
        200, content=b"<html><body>Sign in</body></html>", headers={"Content-Type": "text/html"}
    ),
    "json-labelled-html": lambda: httpx.Response(
        200, content=orjson.dumps(page([])), headers={"Content-Type": "text/html; charset=utf-8"}
    ),
    "xml-fault": lambda: httpx.Response(
        200, content=b"<fault>no</fault>", headers={"Content-Type": "application/xml"}
    ),
    "invalid-utf8": lambda: httpx.Response(
        200,
        content=b'{"items": [], "next_cursor": "\xff\xfe", "has_more": false}',
        headers={"Content-Type": "application/json"},
    ),
}
KINDS = {
    "declared-over-cap": ErrorClass.TOO_LARGE,
    "streamed-over-cap": ErrorClass.TOO_LARGE,
}


@pytest.fixture
def stored(sqlite_engine: Engine, public_dns: None) -> Iterator[Engine]:
    """An index holding two of IDN01's records, synced from the mocked registry."""
    with respx.mock:
        respx.get(CHANGES).mock(
            return_value=httpx.Response(
                200,
                json=page([{"op": "upsert", "record": issuance("IDN01", n)} for n in (1, 2)]),
            )
        )
        first = sync_registry(sqlite_engine, registry())
    assert first.ok and first.counts.accepted == 2, first.error
    yield sqlite_engine


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    real = socket.getaddrinfo

    def fake(host: str, *args: Any, **kwargs: Any) -> Any:
        if host.endswith(".example.org"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_registry_body_is_refused_and_nothing_changes(stored: Engine, kind: str) -> None:
    before = current(stored), history(stored)
    connector_error: ConnectorError | None = None
    with respx.mock:
        respx.get(CHANGES).mock(side_effect=lambda request: HOSTILE[kind]())
        from metareg.connectors import build_connector

        connector = build_connector(registry(), sleep=lambda s: None)
        try:
            list(connector.pages('{"c": "c1"}'))
        except ConnectorError as error:
            connector_error = error
        result = sync_registry(stored, registry())
    assert connector_error is not None, f"{kind} was accepted"
    assert connector_error.kind is KINDS.get(kind, ErrorClass.MALFORMED), connector_error
    assert isinstance(connector_error, MalformedResponse) or kind in KINDS
    assert len(str(connector_error)) < 2000  # a sentence, not the hostile body echoed
    assert not result.ok and result.error, kind
    assert (current(stored), history(stored)) == before, kind


# --- hostile bodies sent to the API ------------------------------------------------------


@pytest.fixture
def api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(sqlite_engine, tmp_path)


def test_hostile_request_bodies_get_4xx_problems(api: Api) -> None:
    before = current(api.engine), history(api.engine)
    url = "/v1/checks/authorization"
    bodies: list[tuple[bytes, str]] = [
        (nested(100_000), "application/json"),
        (b'{"identifier": "' + b"\xff\xfe" * 10 + b'"}', "application/json"),
        (b"identifier=CA0001-IDN01-IDN-1-2023", "application/x-www-form-urlencoded"),
        (b"<check/>", "application/xml"),
        (b'{"identifier": "' + b"A" * (8 * 1024 * 1024) + b'"}', "application/json"),
        (b"", "application/json"),
    ]
    for body, content_type in bodies:
        response = api.client.post(
            url, content=body, headers={**api.oversight, "Content-Type": content_type}
        )
        where = f"{content_type} {body[:40]!r}: {response.status_code}"
        assert 400 <= response.status_code < 500, where
        assert response.headers["content-type"] == "application/problem+json", where
        assert len(response.content) < 64 * 1024, where  # the body is not echoed back whole
    assert (current(api.engine), history(api.engine)) == before

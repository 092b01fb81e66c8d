"""The shared HTTP client: error table, retries, Retry-After, size cap, auth, URL checks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from metareg.connectors.auth import AuthSettings
from metareg.connectors.errors import ConfigurationError, ConnectorError, ErrorClass
from metareg.connectors.http import HttpClient, HttpSettings, retry_after_seconds
from metareg.connectors.urls import UrlNotAllowed, check_url
from metareg.log import _mask
from tests.connectors.conftest import BASE, Sleeps


def client(sleeps: Sleeps, **settings: object) -> HttpClient:
    return HttpClient(HttpSettings(**settings), sleep=sleeps)  # type: ignore[arg-type]


@respx.mock
def test_transient_errors_retry_with_bounded_jittered_backoff(sleeps: Sleeps) -> None:
    route = respx.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ConnectTimeout("slow"),
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    fetched = client(sleeps, backoff_base_seconds=1, backoff_max_seconds=3).get(f"{BASE}/x")
    assert fetched.json() == {"ok": True} and route.call_count == 4
    assert len(sleeps) == 3 and all(0 <= s <= 3 for s in sleeps)


@respx.mock
def test_gives_up_after_max_attempts(sleeps: Sleeps) -> None:
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(502))
    with pytest.raises(ConnectorError) as raised:
        client(sleeps, max_attempts=3).get(f"{BASE}/x")
    assert raised.value.kind is ErrorClass.TRANSIENT and raised.value.status == 502
    assert len(sleeps) == 2


@respx.mock
def test_429_honours_retry_after(sleeps: Sleeps) -> None:
    respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    client(sleeps).get(f"{BASE}/x")
    assert sleeps == [7.0]


def test_retry_after_as_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30


@respx.mock
@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_configuration_errors_and_not_retried(
    sleeps: Sleeps, status: int
) -> None:
    route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(status))
    with pytest.raises(ConnectorError) as raised:
        client(sleeps).get(f"{BASE}/x")
    assert raised.value.kind is ErrorClass.CONFIG and route.call_count == 1 and not sleeps


@respx.mock
def test_oversized_responses_are_refused(sleeps: Sleeps) -> None:
    respx.get(f"{BASE}/big").mock(return_value=httpx.Response(200, content=b"x" * 5000))
    with pytest.raises(ConnectorError) as raised:
        client(sleeps, max_response_bytes=1000).get(f"{BASE}/big")
    assert raised.value.kind is ErrorClass.TOO_LARGE


@respx.mock
def test_bearer_token_from_environment_never_logged(
    sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDN01_TOKEN", "s3cret-token-value")
    route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200))
    auth = AuthSettings.parse({"type": "bearer", "token_env": "IDN01_TOKEN"})
    client(sleeps, auth=auth).get(f"{BASE}/x")
    assert route.calls[0].request.headers["Authorization"] == "Bearer s3cret-token-value"
    assert _mask("error with s3cret-token-value") == "error with ***"


@respx.mock
def test_api_key_from_secret_file(sleeps: Sleeps, tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("file-key-123\n")
    route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200))
    auth = AuthSettings.parse(
        {"type": "api-key", "header": "X-Registry-Key", "key_file": str(secret)}
    )
    client(sleeps, auth=auth).get(f"{BASE}/x")
    assert route.calls[0].request.headers["X-Registry-Key"] == "file-key-123"


def test_secrets_in_the_config_file_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="never read from the configuration"):
        AuthSettings.parse({"type": "bearer", "token": "literal"})


def test_private_addresses_refused_unless_allowed() -> None:
    for url in (
        "http://127.0.0.1/x",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "https://internal.example.com/feed",
        "file:///etc/passwd",
    ):
        with pytest.raises(UrlNotAllowed):
            check_url(url)
    assert check_url("http://127.0.0.1:8080/x", allow_private_network=True)
    assert check_url(f"{BASE}/feed")


@respx.mock
def test_redirect_to_a_private_address_is_not_followed(sleeps: Sleeps) -> None:
    respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(302, headers={"Location": "http://169.254.169.254/meta"})
    )
    inner = respx.get("http://169.254.169.254/meta").mock(return_value=httpx.Response(200))
    with pytest.raises(UrlNotAllowed):
        client(sleeps).get(f"{BASE}/x")
    assert inner.call_count == 0


def test_a_trickling_body_fails_within_the_total_deadline(sleeps: Sleeps) -> None:
    """issue 16, item 7: httpx's timeout applies per read, so a body sent a byte at a
    time never timed out; every response now has a total deadline."""
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            for _ in range(100):  # 100 bytes, one every 0.1 s: 10 s in all
                if stop.wait(0.1):
                    return
                try:
                    connection.sendall(b" ")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    http = client(sleeps, timeout_seconds=0.6, max_attempts=1, allow_private_network=True)
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        http.get(f"http://127.0.0.1:{port}/slow")
    elapsed = time.monotonic() - started
    stop.set()
    thread.join(5)
    listener.close()
    assert caught.value.kind is ErrorClass.TRANSIENT
    assert "in total" in str(caught.value)
    assert elapsed < 3.0  # the body alone would take 10 s; each read took only 0.1 s

"""Secrets never reach logs, error bodies or what the index stores.

The test configures a registry bearer token and an API key, then does what leaks
secrets in practice: a sync that fails with 401 from a registry that echoes the token
back in its problem document, and requests with wrong, truncated and almost-right keys.
Every log line, every error body and the stored sync state are scanned for the secrets.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from sqlalchemy import Engine, text

from metareg import log
from metareg.oversight import keys
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from metareg.web.app import create_app
from metareg.web.settings import ApiSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "registry-bearer-Zq8w1x9y"
BASE = "https://registry.example.org"


@pytest.fixture(autouse=True)
def _logs_to_captured_stderr() -> Iterator[None]:
    log.configure(json_logs=True)
    yield
    log.configure()


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    real = socket.getaddrinfo

    def fake(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".example.org"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@respx.mock
def test_registry_token_and_api_key_never_logged_nor_returned(
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    public_dns: None,
) -> None:
    monkeypatch.setenv("IDN01_TOKEN", TOKEN)
    # A registry that refuses the token and quotes it back, in the body and a header.
    echo = {"title": "Unauthorized", "detail": f"token {TOKEN} is not valid here"}
    respx.get(url__startswith=BASE).mock(
        return_value=httpx.Response(401, json=echo, headers={"X-Echo": TOKEN})
    )
    registry = RegistryConfig(
        "IDN01",
        "Indonesia",
        "IDN",
        {
            "connector": {
                "type": "exchange",
                "url": BASE,
                "auth": {"type": "bearer", "token_env": "IDN01_TOKEN"},
            }
        },
    )
    result = sync_registry(sqlite_engine, registry)
    assert not result.ok
    assert respx.calls and respx.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"

    with sqlite_engine.begin() as connection:
        _, api_key = keys.create_key(connection, "secret test", "admin")
    config = tmp_path / "config"
    config.mkdir()
    (config / "registries.toml").write_text(
        '[[registries]]\nid = "IDN01"\nname = "Indonesia"\nconnector = "exchange"\n'
    )
    app = create_app(sqlite_engine, settings=ApiSettings(config=config))
    bodies: list[str] = [str(result.error)]
    with TestClient(app, raise_server_exceptions=False) as client:
        for wrong in (
            api_key[:-1],  # truncated
            api_key + "x",  # one character more
            api_key[:-1] + ("A" if api_key[-1] != "A" else "B"),  # one character different
            api_key.upper(),
            " " + api_key,
        ):
            response = client.get("/v1/blocks", headers={"X-API-Key": wrong})
            assert response.status_code in (401, 422), response.text
            bodies.append(response.text + str(dict(response.headers)))
        for path in ("/v1/registries", "/v1/registries/IDN01", "/v1/stats", "/readyz"):
            response = client.get(path, headers={"X-API-Key": api_key})
            assert response.status_code < 500, path
            bodies.append(response.text + str(dict(response.headers)))
    with sqlite_engine.connect() as connection:
        stored = [str(row) for row in connection.execute(text("SELECT * FROM sync_state"))]
    captured = capsys.readouterr()
    logs = captured.err + captured.out
    assert "sync" in logs  # the failure was logged, so the scan below means something
    for secret in (TOKEN, api_key):
        assert secret not in logs
        assert not [body for body in bodies if secret in body]
        assert not [row for row in stored if secret in row], "secret stored in sync_state"


def test_api_keys_are_stored_only_as_hashes(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as connection:
        _, token = keys.create_key(connection, "hashed", "oversight")
    with sqlite_engine.connect() as connection:
        rows = [
            " ".join(map(str, row)) for row in connection.execute(text("SELECT * FROM api_key"))
        ]
    assert rows and not [row for row in rows if token in row]
    assert any(keys.hash_key(token) in row for row in rows)

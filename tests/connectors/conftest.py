"""Connector unit tests: respx mocks the registry; sleeps are recorded, never slept."""

from __future__ import annotations

from typing import Any

import pytest

from metareg import log
from metareg.connectors import build_connector
from metareg.connectors.base import Connector
from metareg.registries import RegistryConfig

BASE = "https://registry.example.org"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def _fresh_logging() -> None:
    """Log to this test's stderr, whatever an earlier CLI test left structlog bound to."""
    log.configure()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make(connector: dict[str, Any], sleeps: Sleeps | None = None, **entry: Any) -> Connector:
    registry = RegistryConfig("IDN01", "test", "IDN", {"connector": connector, **entry})
    return build_connector(registry, sleep=sleeps if sleeps is not None else (lambda s: None))


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """registry.example.org resolves to a public address (no DNS in tests)."""
    import socket

    real = socket.getaddrinfo

    def fake(host: str, *args: Any, **kwargs: Any) -> Any:
        if host.endswith(".example.org"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]
        if host == "internal.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)

"""Connectors: one small class per registry wire format, sharing HTTP, auth, errors and
one paginator (`paging.py`).

`build_connector(registry)` reads the registry's `[registries.connector]` table
(docs/connectors.md) and returns the connector of its `type`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from metareg.connectors.base import Connector, ConnectorConfig
from metareg.connectors.errors import ConfigurationError
from metareg.connectors.http import HttpClient, HttpSettings
from metareg.registries import RegistryConfig


def connector_types() -> dict[str, type[Connector]]:
    from metareg.connectors.aef.connector import AefConnector
    from metareg.connectors.cadt import CadtConnector
    from metareg.connectors.exchange import ExchangeConnector
    from metareg.connectors.tabular import TabularConnector

    return {
        cls.kind: cls for cls in (ExchangeConnector, AefConnector, CadtConnector, TabularConnector)
    }


def connector_config(registry: RegistryConfig) -> ConnectorConfig:
    raw = registry.settings.get("connector")
    if not isinstance(raw, dict) or "type" not in raw:
        raise ConfigurationError(
            f"{registry.id}: no [registries.connector] table with a 'type' (see docs/connectors.md)"
        )
    kind = str(raw["type"])
    if kind not in connector_types():
        raise ConfigurationError(
            f"{registry.id}: unknown connector type {kind!r}; one of "
            + ", ".join(sorted(connector_types()))
        )
    allow_private = bool(
        registry.settings.get("allow_private_network", raw.get("allow_private_network", False))
    )
    options = {k: v for k, v in raw.items() if k != "type"}
    return ConnectorConfig(
        registry_id=registry.id,
        party_id=registry.party_id,
        kind=kind,
        options=options,
        http=HttpSettings.parse(raw, allow_private_network=allow_private),
        allow_private_network=allow_private,
    )


def build_connector(
    registry: RegistryConfig,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Connector:
    config = connector_config(registry)
    kwargs: dict[str, Any] = {"transport": transport, "heartbeat": heartbeat}
    if sleep is not None:
        kwargs["sleep"] = sleep
    http = HttpClient(config.http, **kwargs)
    return connector_types()[config.kind](config, http)


__all__ = ["Connector", "ConnectorConfig", "build_connector", "connector_config"]

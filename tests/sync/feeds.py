"""Registries for the sync tests: an InMemoryFeedSource with a realistic history."""

from __future__ import annotations

import random
from typing import Any

from metareg.exchange import InMemoryFeedSource
from metareg.registries import RegistryConfig


def block(registry_id: str, first: int, last: int) -> dict[str, Any]:
    return {
        "cooperative_approach_id": "CA0001",
        "party_registry_id": registry_id,
        "first_transferring_party_id": registry_id[:3],
        "first_id": first,
        "last_id": last,
        "vintage": 2023,
    }


def issuance(registry_id: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "record_type": "action",
        "action_id": f"ISS-{n}",
        "action_date": "2024-02-01",
        "action_type": "Issuance",
        **block(registry_id, n * 100 + 1, n * 100 + 100),
        **extra,
    }


def holding_row(registry_id: str, n: int, as_of: str = "2024-12-31") -> dict[str, Any]:
    return {
        "record_type": "holding",
        "as_of": as_of,
        "account_id": f"{registry_id}-ACC-{n % 3}",
        "account_type": "holding",
        **block(registry_id, n * 100 + 1, n * 100 + 50),
    }


def populated(registry_id: str, records: int = 40, seed: int = 1) -> InMemoryFeedSource:
    """`records` issuances, with some corrections and withdrawals, and a holdings snapshot."""
    rng = random.Random(seed)
    source = InMemoryFeedSource(registry_id, f"{registry_id} test registry")
    source.upsert(
        {
            "record_type": "authorization",
            "authorization_id": f"{registry_id}-AUTH-1",
            "authorization_date": "2023-03-01",
            "authorizing_party_id": registry_id[:3],
            "cooperative_approach_id": "CA0001",
            "purposes": ["NDC"],
        }
    )
    for n in range(1, records + 1):
        source.upsert(issuance(registry_id, n))
        if rng.random() < 0.15:  # a correction: same identity, new content
            source.upsert(issuance(registry_id, n, action_date="2024-02-02"))
        if rng.random() < 0.05:
            source.withdraw(issuance(registry_id, n))
    source.set_holdings("2024-12-31", [holding_row(registry_id, n) for n in range(1, records // 2)])
    return source


def exchange_registry(registry_id: str, url: str, **extra: Any) -> RegistryConfig:
    connector = {"type": "exchange", "url": url, "page_size": extra.pop("page_size", 7)}
    connector.update(extra.pop("connector", {}))
    return RegistryConfig(
        registry_id,
        f"{registry_id} test",
        registry_id[:3],
        {"connector": connector, "allow_private_network": True, **extra},
    )

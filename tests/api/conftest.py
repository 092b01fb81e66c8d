"""The oversight API over a small two-registry world, on SQLite and PostgreSQL.

IDN01 (Indonesia) issues 1-122000 (vintage 2023) under CA0001, first transfers 1-50000
to Japan under authorization IDN-2024-0001 and holds the rest; JPN01 (Japan) acquires
1-50000, uses 40001-50000 towards its NDC and holds 1-40000.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from metareg.checks.runner import run_checks
from metareg.oversight import keys
from metareg.sync.ingest import ingest_files
from metareg.web.app import create_app
from metareg.web.settings import ApiSettings
from tests.helpers import action, authorization, holding, write_jsonl

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

AUTH_ID = "IDN-2024-0001"
REGISTRIES_TOML = """
[[registries]]
id = "IDN01"
name = "Indonesia national registry"
connector = "csv"
url = "https://user:hunter2@registry.example/idn"
token = "sekret-token-value"

[registries.auth]
kind = "bearer"
value = "another-secret"

[[registries]]
id = "JPN01"
name = "Japan JCM registry"
connector = "json"
poll_minutes = 15
"""


def idn_records() -> list[dict[str, Any]]:
    return [
        authorization(
            AUTH_ID,
            authorization_date="2024-01-10",
            authorized_quantity=200000,
            purposes=["NDC"],
            authorized_party_ids=["JPN"],
            timeframe_start=2021,
            timeframe_end=2030,
        ),
        action("ISS-1", 1, 122000, action_date="2024-02-01"),
        action(
            "FT-1",
            1,
            50000,
            "First transfer",
            action_date="2024-03-15",
            authorization_id=AUTH_ID,
            acquiring_party_id="JPN",
        ),
        holding("IDN-GOV-1", 50001, 122000, account_type="government-holding", as_of="2024-12-31"),
    ]


def jpn_records() -> list[dict[str, Any]]:
    return [
        action(
            "ACQ-1",
            1,
            50000,
            "Acquisition",
            action_date="2024-03-20",
            authorization_id=AUTH_ID,
            transferring_party_id="IDN",
        ),
        action(
            "USE-1",
            40001,
            50000,
            "Use",
            action_date="2024-06-01",
            authorization_id=AUTH_ID,
            purpose="NDC",
            using_party_id="JPN",
            ndc_use_year=2024,
        ),
        holding("JPN-ACC-1", 1, 40000, as_of="2024-12-31"),
    ]


def ingest(engine: Engine, tmp_path: Path, registry: str, records: list[Any]) -> None:
    path = write_jsonl(tmp_path / f"{registry}-{len(list(tmp_path.iterdir()))}.jsonl", records)
    report = ingest_files(engine, [path], registry)
    assert report.counts.quarantined == 0, report.problems


@dataclass
class Api:
    client: TestClient
    engine: Engine
    admin: dict[str, str]
    oversight: dict[str, str]
    tmp_path: Path

    def ingest(self, registry: str, records: list[Any]) -> None:
        ingest(self.engine, self.tmp_path, registry, records)


def make_api(engine: Engine, tmp_path: Path, **settings: Any) -> Iterator[Api]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "registries.toml").write_text(REGISTRIES_TOML)
    with engine.begin() as connection:
        _, admin = keys.create_key(connection, "test admin", "admin")
        _, oversight = keys.create_key(connection, "test oversight", "oversight")
    options = {"public_requests_per_minute": 0, **settings}
    app = create_app(engine, settings=ApiSettings(config=config, **options))
    with TestClient(app) as client:
        yield Api(client, engine, {"X-API-Key": admin}, {"X-API-Key": oversight}, tmp_path)


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """An API over an empty index, on each backend."""
    yield from make_api(engine, tmp_path)


@pytest.fixture
def world(api: Api) -> Api:
    """The API over the two-registry world."""
    api.ingest("IDN01", idn_records())
    api.ingest("JPN01", jpn_records())
    return api


@pytest.fixture
def sqlite_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """SQLite only: for tests about access and the document, not the database."""
    yield from make_api(sqlite_engine, tmp_path)


def correct_a_use(api: Api) -> None:
    """JPN01 corrects its use of 40001-50000 (the world's use): one record with two
    versions."""
    use = action(
        "USE-1",
        40001,
        50000,
        "Use",
        action_date="2024-06-02",
        authorization_id=AUTH_ID,
        purpose="NDC",
        using_party_id="JPN",
        ndc_use_year=2024,
    )
    api.ingest("JPN01", [use])


def plant_double_use(api: Api) -> None:
    """A second use of IDN's 45000-45010 (DC05 against the world's use), then a full
    check as of 2025-01-01."""
    api.ingest(
        "IDN01",
        [
            action(
                "USE-X",
                45000,
                45010,
                "Use",
                action_date="2024-07-01",
                authorization_id=AUTH_ID,
                purpose="NDC",
                using_party_id="JPN",
            )
        ],
    )
    run_checks(api.engine, full=True, as_of=date(2025, 1, 1))

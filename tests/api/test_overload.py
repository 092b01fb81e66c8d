"""Overload: a request that cannot get a database connection soon is refused at once
with a 503 problem and Retry-After, instead of queueing for 30 s and failing with 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import Engine

from metareg.db.engine import make_engine
from tests.api.conftest import Api, make_api

UNIT = "/v1/itmos/CA0001-IDN01-IDN-1001-2023"


@pytest.fixture
def small_pool(db_url: str) -> Iterator[Engine]:
    """One pooled connection plus one overflow, and a short pool wait."""
    engine = make_engine(db_url, pool_size=1, max_overflow=1, pool_timeout=0.3)
    yield engine
    engine.dispose()


@pytest.fixture
def busy_api(small_pool: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(small_pool, tmp_path, overload_wait_seconds=0.2)


def assert_overloaded(response: Response, elapsed: float) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    body = response.json()
    assert body["status"] == 503
    assert body["type"] == "urn:metareg:problem:overloaded"
    assert body["instance"] == UNIT
    assert elapsed < 5  # fails fast: nowhere near SQLAlchemy's default 30 s


def test_reads_beyond_capacity_get_a_fast_503(busy_api: Api) -> None:
    gate = busy_api.client.app.state.connection_gate  # type: ignore[attr-defined]
    assert gate.capacity == 1
    with gate.slot():  # every read slot is taken by a request in flight
        started = time.monotonic()
        response = busy_api.client.get(UNIT, headers=busy_api.oversight)
        assert_overloaded(response, time.monotonic() - started)
    # Once the slot frees, the same request is answered normally (404: empty index).
    assert busy_api.client.get(UNIT, headers=busy_api.oversight).status_code == 404


def test_an_exhausted_pool_is_a_503_not_a_500(busy_api: Api, small_pool: Engine) -> None:
    held = [small_pool.connect(), small_pool.connect()]  # the pool and its overflow
    try:
        started = time.monotonic()
        response = busy_api.client.get(UNIT, headers=busy_api.oversight)
        assert_overloaded(response, time.monotonic() - started)
    finally:
        for connection in held:
            connection.close()
    assert busy_api.client.get(UNIT, headers=busy_api.oversight).status_code == 404

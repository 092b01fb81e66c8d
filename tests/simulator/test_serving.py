"""Simulated registries over real HTTP on loopback: time moves, faults bite as told."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import orjson
import pytest

from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.scenario import FaultSpec, load_scenario
from metareg.simulator.world import World, generate_world

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"
CHANGES = "/exchange/v1/changes"


def _world(*faults: FaultSpec) -> World:
    scenario = load_scenario(SCENARIOS / "all-rules.toml")
    return generate_world(replace(scenario, faults=tuple(faults)))


def _all_items(client: httpx.Client, base: str) -> tuple[list[dict], str | None]:  # type: ignore[type-arg]
    items: list[dict] = []  # type: ignore[type-arg]
    cursor = None
    while True:
        params = {"limit": 50} if cursor is None else {"limit": 50, "cursor": cursor}
        page = client.get(f"{base}{CHANGES}", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def test_each_poll_sees_what_happened_since_the_last() -> None:
    world = _world()
    now = [0.0]
    clock = SimClock(
        date(2024, 1, 1), world.scenario.end, days_per_second=10, monotonic=lambda: now[0]
    )
    with SimulatorServer(world, clock) as server, httpx.Client() as client:
        base = server.url("JPN01")
        first, cursor = _all_items(client, base)
        assert all(i["record"].get("action_date", "0") <= "2024-01-01" for i in first)
        again = client.get(f"{base}{CHANGES}", params={"cursor": cursor}).json()
        assert again["items"] == [] and again["next_cursor"] == cursor
        now[0] = 30.0  # 300 simulated days later
        later = client.get(f"{base}{CHANGES}", params={"cursor": cursor, "limit": 1000}).json()
        assert later["items"], "new actions after time moved"
        dates = [i["record"]["action_date"] for i in later["items"] if "action_date" in i["record"]]
        assert min(dates) > "2024-01-01" and max(dates) <= "2024-10-27"
        holdings = client.get(f"{base}/exchange/v1/holdings").json()
        assert holdings["as_of"] == "2023-12-31"
        info = client.get(f"{base}/exchange/v1/info").json()
        assert info["registry_id"] == "JPN01" and info["simulated_date"] == "2024-10-27"


def test_a_frozen_world_serves_every_record_of_the_registry() -> None:
    world = _world()
    clock = SimClock.frozen_at(world.scenario.end)
    with SimulatorServer(world, clock) as server, httpx.Client() as client:
        for registry in world.registry_ids:
            items, _ = _all_items(client, server.url(registry))
            assert [i["record"] for i in items] == [p.record for p in world.records[registry]]


def _get(server: SimulatorServer, path: str = CHANGES, **params: str) -> httpx.Response:
    return httpx.get(f"{server.url('IDN01')}{path}", params=params, timeout=10)


def _serve(*faults: FaultSpec) -> SimulatorServer:
    world = _world(*faults)
    return SimulatorServer(world, SimClock.frozen_at(world.scenario.end)).start()


def test_rate_limited_registry_answers_429_with_retry_after() -> None:
    server = _serve(FaultSpec("IDN01", "rate-limit", retry_after=7))
    try:
        answer = _get(server)
        assert answer.status_code == 429 and answer.headers["retry-after"] == "7"
        assert answer.headers["content-type"] == "application/problem+json"
        assert httpx.get(f"{server.url('JPN01')}{CHANGES}").status_code == 200  # only IDN01
    finally:
        server.stop()


@pytest.mark.parametrize(("kind", "status"), [("error", 502), ("down", 503)])
def test_erroring_and_down_registries(kind: str, status: int) -> None:
    server = _serve(FaultSpec("IDN01", kind, status=status))
    try:
        assert _get(server).status_code == status
    finally:
        server.stop()


def test_truncated_bodies_are_broken_json() -> None:
    server = _serve(FaultSpec("IDN01", "truncate"))
    try:
        answer = _get(server)
        assert answer.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(answer.content)
    finally:
        server.stop()


def test_reordered_pages_hold_the_same_items_in_another_order() -> None:
    clean, spoiled = _serve(), _serve(FaultSpec("IDN01", "reorder"))
    try:
        straight = _get(clean, limit="100").json()["items"]
        shuffled = _get(spoiled, limit="100").json()["items"]
        assert shuffled != straight
        key = lambda i: orjson.dumps(i, option=orjson.OPT_SORT_KEYS)  # noqa: E731
        assert sorted(shuffled, key=key) == sorted(straight, key=key)
    finally:
        clean.stop()
        spoiled.stop()


def test_repeated_pages_answer_the_previous_query_again() -> None:
    server = _serve(FaultSpec("IDN01", "repeat-pages", after_requests=1))
    try:
        first = _get(server, limit="5").json()
        second = _get(server, limit="5", cursor=first["next_cursor"]).json()
        assert second["items"] == first["items"]  # the client sees items twice
    finally:
        server.stop()


def test_reset_cursor_refuses_cursors_with_410() -> None:
    server = _serve(FaultSpec("IDN01", "reset-cursor"))
    try:
        assert _get(server, limit="5").status_code == 200  # no cursor: from the start
        gone = _get(server, limit="5", cursor="0.5")
        assert gone.status_code == 410
        assert gone.json()["type"].endswith("/cursor-expired")
    finally:
        server.stop()


def test_schema_change_renames_fields_after_some_requests() -> None:
    server = _serve(
        FaultSpec("IDN01", "schema-change", after_requests=2, rename={"action_date": "date"})
    )
    try:
        before = [_get(server, limit="50").json() for _ in range(2)]
        after = _get(server, limit="50").json()
        assert all(
            "action_date" in i["record"]
            for p in before
            for i in p["items"]
            if i["record"]["record_type"] == "action"
        )
        actions = [i["record"] for i in after["items"] if i["record"]["record_type"] == "action"]
        assert actions and all("date" in r and "action_date" not in r for r in actions)
    finally:
        server.stop()


def test_slow_registry_waits_before_answering() -> None:
    server = _serve(FaultSpec("IDN01", "slow", delay_seconds=0.4))
    try:
        started = time.monotonic()
        assert _get(server).status_code == 200
        assert time.monotonic() - started >= 0.4
    finally:
        server.stop()


def test_faults_hit_the_same_requests_for_the_same_seed() -> None:
    fault = FaultSpec("IDN01", "error", probability=0.5, status=500)
    runs = []
    for _ in range(2):
        server = _serve(fault)
        try:
            runs.append([_get(server, path="/exchange/v1/info").status_code for _ in range(12)])
        finally:
            server.stop()
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


def test_a_registry_answers_a_client_that_connected_before_the_servers_started() -> None:
    # `metareg simulate` prints each registry's URL before its servers run: a client
    # that connects then is answered once they do, never refused.
    world = _world()
    server = SimulatorServer(world, SimClock.frozen_at(world.scenario.end))
    early = socket.create_connection(server.sockets["IDN01"].getsockname(), timeout=10)
    try:
        server.start()
        early.sendall(b"GET /exchange/v1/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := early.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        assert b'"registry_id":"IDN01"' in answer
    finally:
        early.close()
        server.stop()


def test_the_registries_config_points_the_sync_at_each_registry() -> None:
    world = _world()
    server = SimulatorServer(world, SimClock.frozen_at(world.scenario.end))
    try:
        import tomllib

        document = tomllib.loads(server.registries_toml(interval_seconds=2))
        listed = [*document["registries"], *document.get("programmes", [])]
        entries = {e["id"]: e for e in listed}
        assert set(entries) == set(world.registry_ids)
        # A crediting programme is listed beside the registries, as a programme.
        assert {e["id"] for e in document.get("programmes", [])} == {
            p.id for p in world.scenario.programmes
        }
        assert entries["JPN01"]["connector"] == {"type": "exchange", "url": server.url("JPN01")}
        assert entries["JPN01"]["schedule"] == {"interval_seconds": 2}
    finally:
        server.stop()

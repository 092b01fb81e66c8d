"""A registry changing its schema without notice: new fields are accepted and kept in
the raw payload; renamed or retyped fields send the records to quarantine with reasons,
and SY03 is raised. Real HTTP on loopback, the real sync engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, select

from metareg.alerts.store import alerts_table
from metareg.checks.runner import run_checks
from metareg.db.tables.index import Quarantine, RecordVersion
from metareg.simulator.clock import SimClock
from metareg.simulator.faults import ASGIApp, Message, Receive, Scope, Send
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.scenario import FaultSpec
from metareg.simulator.world import World
from tests.reliability.faultkit import (
    IndexImage,
    assert_same,
    image,
    serving,
    sync_until_ok,
    with_faults,
)

REGISTRY = "VNM01"
_quarantine = Quarantine
_history = RecordVersion


class RecordRewriter:
    """ASGI middleware rewriting every record of the changes feed (the simulator's
    `schema-change` fault only renames; this one adds or retypes fields)."""

    def __init__(self, app: ASGIApp, rewrite: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.app = app
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).endswith("/changes"):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        page = orjson.loads(b"".join(chunks))
        for item in page.get("items", []):
            if isinstance(item.get("record"), dict):
                item["record"] = self.rewrite(item["record"])
        body = orjson.dumps(page)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _rewritten(
    server: SimulatorServer, rewrite: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """Put the rewriter in front of REGISTRY before the server starts serving."""
    server.apps[REGISTRY] = RecordRewriter(server.apps[REGISTRY], rewrite)


def _feed(url: str) -> list[dict[str, Any]]:
    """Every record the registry's feed lists (as a client sees them)."""
    records, cursor = [], None
    with httpx.Client(timeout=10) as client:
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{url}/exchange/v1/changes", params=params).json()
            records += [i["record"] for i in page["items"] if isinstance(i.get("record"), dict)]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return records


def _sy03(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(alerts_table).where(alerts_table.c.rule == "SY03"))
        return [dict(r) for r in rows.mappings()]


def test_unknown_new_fields_are_accepted_and_kept_raw(
    world: World, reference: IndexImage, engine: Engine
) -> None:
    server = SimulatorServer(world, SimClock.frozen_at(world.scenario.end))
    _rewritten(server, lambda record: {**record, "registry_note": "added in v2.1"})
    server.start()
    try:
        listed = _feed(server.url(REGISTRY))
        (result,) = sync_until_ok(engine, server, [REGISTRY], max_rounds=1)
    finally:
        server.stop()
    assert result.ok and result.counts.quarantined == 0
    assert result.unknown_fields == len(listed) > 0  # every record of the changes feed
    # The canonical records are exactly the clean run's: the new field changed nothing...
    assert_same(image(engine), reference.only({REGISTRY}))
    # ...and every version keeps it in its raw payload, none in the canonical one.
    with engine.connect() as connection:
        versions = connection.execute(
            select(_history.c.raw, _history.c.payload).where(_history.c.record_type != "holding")
        ).all()
    assert versions and all("registry_note" in str(raw) for raw, _ in versions)
    assert not any("registry_note" in str(payload) for _, payload in versions)


def test_renamed_field_quarantines_with_reasons_and_raises_sy03(
    world: World, engine: Engine
) -> None:
    rename = FaultSpec(REGISTRY, "schema-change", rename={"action_date": "date"})
    with serving(world) as clean:
        renamed = [r for r in _feed(clean.url(REGISTRY)) if "action_date" in r]
    with serving(with_faults(world, rename)) as server:
        (result,) = sync_until_ok(engine, server, [REGISTRY], max_rounds=1)
    assert result.ok and result.counts.quarantined == len(renamed) > 0
    with engine.connect() as connection:
        rows = connection.execute(select(_quarantine.c.raw, _quarantine.c.reasons)).all()
    assert len(rows) == len(renamed)
    for raw, reasons in rows:
        assert '"date"' in str(raw) and "action_date" not in str(raw)
        assert any("action_date" in str(reason) for reason in reasons), reasons
    run_checks(engine)
    (alert,) = _sy03(engine)
    assert alert["status"] == "open" and f"{len(renamed)} quarantined" in alert["message"]
    # What was not renamed (authorizations, holdings) still arrived as in a clean run.
    current = image(engine).counts
    assert current["action"] == 0 and current["authorization"] > 0


def test_retyped_field_quarantines_with_reasons(
    world: World, reference: IndexImage, engine: Engine
) -> None:
    def retype(record: dict[str, Any]) -> dict[str, Any]:
        if "first_id" in record:
            return {**record, "first_id": f"#{record['first_id']}"}  # a number became text
        return record

    server = SimulatorServer(world, SimClock.frozen_at(world.scenario.end))
    _rewritten(server, retype)
    server.start()
    try:
        (result,) = sync_until_ok(engine, server, [REGISTRY], max_rounds=1)
    finally:
        server.stop()
    expected = reference.only({REGISTRY}).counts
    assert result.ok and result.counts.quarantined > 0
    with engine.connect() as connection:
        reasons = connection.execute(select(_quarantine.c.reasons)).scalars().all()
    assert len(reasons) == result.counts.quarantined
    assert all(any("first_id" in str(r) for r in listed) for listed in reasons)
    assert image(engine).counts["authorization"] == expected["authorization"]
    run_checks(engine)
    (alert,) = _sy03(engine)
    assert alert["status"] == "open"

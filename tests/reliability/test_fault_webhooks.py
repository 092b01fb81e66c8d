"""A webhook receiver down for hours (connection refused), then back: every event reaches
every subscription exactly once, in event order per subscription. Time is driven through
`deliver_due(now=...)`; the receiver is a real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine

from metareg.alerts.operational import raise_operational, resolve_operational
from metareg.alerts.webhooks import subscriptions as subs
from metareg.alerts.webhooks.delivery import deliver_due, deliveries_summary
from metareg.registries import ensure_registry
from tests.reliability.faultkit import utc

SECRET = "reliability-secret-0123456789"
T0 = utc(2025, 3, 3, 8)
TICK = timedelta(minutes=5)  # how often the scheduler runs deliveries
OUTAGE = timedelta(hours=6)
REGISTRIES = ["JPN01", "IDN01", "MNG01"]


class Receiver:
    """Records every POST, per subscription (the last path segment)."""

    def __init__(self, port: int) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.setdefault(self.path.rsplit("/", 1)[1], []).append(body)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.soak  # a long fault soak: CI runs it; skip with -m "not soak"
def test_receiver_down_for_hours_gets_every_event_in_order(engine: Engine) -> None:
    port = _free_port()  # nothing listens there during the outage: connection refused
    with engine.begin() as connection:
        for registry in REGISTRIES:
            ensure_registry(connection, registry, registry, origin="config")
        for name, registries in (("all", None), ("jpn", ["JPN01"])):
            subs.save_subscription(
                connection,
                subs.Subscription(
                    id=name,
                    url=f"http://127.0.0.1:{port}/hook/{name}",
                    secret=SECRET,
                    registries=registries,
                    allow_private=True,
                ),
            )

    # During the outage registries fail and recover: SY01 opened and resolved, over hours.
    moment, events = T0, 0
    while moment < T0 + OUTAGE:
        registry = REGISTRIES[events % len(REGISTRIES)]
        with engine.begin() as connection:
            if events % 2 == 0:
                raise_operational(connection, "SY01", registry, "unreachable", now=moment)
            else:
                resolve_operational(connection, "SY01", registry, now=moment)
        events += 1
        assert deliver_due(engine, now=moment) == 0  # refused: nothing delivered
        moment += TICK
    pending = deliveries_summary(engine)
    assert set(pending) == {"pending"} and pending["pending"] > events

    receiver = Receiver(port)  # back
    try:
        deadline = moment + timedelta(hours=2)
        while deliveries_summary(engine).get("pending") and moment < deadline:
            deliver_due(engine, now=moment)
            moment += TICK
    finally:
        receiver.close()
    assert deliveries_summary(engine) == {"delivered": pending["pending"]}
    for name, bodies in receiver.received.items():
        seqs = [body["event"]["seq"] for body in bodies]
        assert len(set(seqs)) == len(seqs), f"{name}: an event delivered twice"
        assert seqs == sorted(seqs), f"{name}: out of order {seqs}"
    everything = receiver.received["all"]
    jpn = receiver.received["jpn"]
    assert len(everything) + len(jpn) == pending["pending"]
    assert {b["event"]["alert"]["registries"][0] for b in jpn} == {"JPN01"}

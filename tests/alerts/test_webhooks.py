"""Webhooks against a real HTTP receiver on loopback that fails the first deliveries:
every event arrives, signatures verify, retries keep their delivery id, nothing
pending is lost across a restart; the URL policy refuses private targets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import Engine

from metareg.alerts.events import events_page
from metareg.alerts.webhooks import subscriptions as subs
from metareg.alerts.webhooks.delivery import (
    DELIVERY_HEADER,
    GIVE_UP_AFTER,
    SIGNATURE_HEADER,
    backoff,
    deliver_due,
    deliveries_summary,
    delivery_log,
    verify_signature,
)
from metareg.alerts.webhooks.policy import UrlNotAllowed, check_url
from metareg.db.engine import make_engine
from tests.alerts.conftest import Index
from tests.helpers import action

SECRET = "test-secret-0123456789"


class Receiver:
    """A local HTTP server answering 503 to its first `failures` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=3)
    yield server
    server.close()


def _subscribe(engine: Engine, url: str, **filters: Any) -> None:
    with engine.begin() as connection:
        subs.save_subscription(
            connection,
            subs.Subscription(
                id="oversight", url=url, secret=SECRET, allow_private=True, **filters
            ),
        )


def test_every_event_arrives_signed_despite_failures(
    index: Index, receiver: Receiver, db_url: str
) -> None:
    _subscribe(index.engine, receiver.url)
    index.put("IDN01", action("ISS-1", 1, 100), action("ISS-2", 201, 300))
    index.put("JPN01", action("ISS-9", 50, 150), action("ISS-8", 250, 260))
    index.check()  # two alerts opened
    index.put("JPN01", action("ISS-8", 400, 410))
    index.check()  # one resolved
    with index.engine.connect() as connection:
        expected = [e["seq"] for e in events_page(connection, None, 100)["events"]]
    assert len(expected) == 3

    now = datetime.now(UTC)
    assert deliver_due(index.engine, now=now) == 0  # 3 failures (503)
    assert deliveries_summary(index.engine) == {"pending": 3}
    # A restart: a new engine (new process) finds the pending deliveries in the outbox.
    index.engine.dispose()
    restarted = make_engine(db_url)
    try:
        assert deliver_due(restarted, now=now + timedelta(seconds=1)) == 0  # not due yet
        assert deliver_due(restarted, now=now + backoff(1)) == 3
        assert deliveries_summary(restarted) == {"delivered": 3}
        assert deliver_due(restarted, now=now + timedelta(hours=2)) == 0
    finally:
        restarted.dispose()

    assert len(receiver.requests) == 6
    by_delivery: dict[str, list[dict[str, Any]]] = {}
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        assert verify_signature(SECRET, body, headers[SIGNATURE_HEADER])
        assert not verify_signature("another-secret-000000", body, headers[SIGNATURE_HEADER])
        payload = json.loads(body)
        assert payload["delivery_id"] == headers[DELIVERY_HEADER]
        by_delivery.setdefault(payload["delivery_id"], []).append(payload)
    # Each event was tried twice under one delivery id, and all three arrived.
    assert sorted(len(tries) for tries in by_delivery.values()) == [2, 2, 2]
    assert sorted(tries[0]["event"]["seq"] for tries in by_delivery.values()) == expected
    assert all(t[0]["event"] == t[1]["event"] for t in by_delivery.values())
    some_id = next(iter(by_delivery))
    log = delivery_log(make_engine(db_url), some_id)
    assert [entry["status_code"] for entry in log] == [503, 204]


def test_filters_select_the_events_a_subscription_gets(index: Index, receiver: Receiver) -> None:
    _subscribe(index.engine, receiver.url, rules=["DC12"], registries=["JPN01"])
    index.put("IDN01", action("ISS-1", 1, 100, quantity_tco2e=3))  # DC12 of IDN01 only
    index.put("JPN01", action("ISS-9", 50, 150))  # DC01 (JPN01 involved)
    index.put("JPN01", action("ISS-7", 500, 510, quantity_tco2e=3))  # DC12 of JPN01
    index.check()
    assert deliveries_summary(index.engine) == {"pending": 1}


def test_permanent_refusal_and_giving_up_after_a_day(index: Index) -> None:
    _subscribe(index.engine, "https://hooks.example/metareg")
    index.put("IDN01", action("ISS-1", 1, 100, quantity_tco2e=3))
    index.put("IDN01", action("ISS-2", 101, 200, quantity_tco2e=3))
    index.check()
    start = datetime.now(UTC) + timedelta(seconds=1)
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post("https://hooks.example/metareg").mock(
            side_effect=[httpx.Response(400), httpx.ConnectError("down")]
            + [httpx.Response(500)] * 60
        )
        with httpx.Client() as client:
            deliver_due(index.engine, client=client, now=start)
            assert deliveries_summary(index.engine) == {"failed": 1, "pending": 1}
            moment, tries = start, 1
            while deliveries_summary(index.engine).get("pending") and tries < 60:
                moment += backoff(tries)
                deliver_due(index.engine, client=client, now=moment)
                tries += 1
    assert deliveries_summary(index.engine) == {"failed": 2}
    assert moment - start <= GIVE_UP_AFTER + timedelta(hours=1)
    assert 20 < route.call_count < 60  # retried through the day, then gave up


def test_url_policy_refuses_private_targets_unless_allowed() -> None:
    for url in (
        "http://127.0.0.1/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
        "http://10.0.0.5/x",
        "http://192.168.1.1/x",
        "http://localhost/x",
        "ftp://93.184.215.14/x",
        "http://user:pw@93.184.215.14/x",
    ):
        with pytest.raises(UrlNotAllowed):
            check_url(url)
    assert check_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    assert check_url("http://127.0.0.1:8080/x", allow_private=True)


def test_subscription_validation(index: Index) -> None:
    with index.engine.begin() as connection:
        with pytest.raises(subs.SubscriptionError, match="secret"):
            subs.save_subscription(
                connection, subs.Subscription(id="a", url="https://93.184.215.14/", secret="short")
            )
        with pytest.raises(subs.SubscriptionError, match="private"):
            subs.save_subscription(
                connection, subs.Subscription(id="a", url="http://10.1.1.1/", secret=SECRET)
            )
        with pytest.raises(subs.SubscriptionError, match="name"):
            subs.save_subscription(
                connection,
                subs.Subscription(id="bad name!", url="https://93.184.215.14/", secret=SECRET),
            )

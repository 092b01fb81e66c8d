"""Alerts over the API: list, read, acknowledge (admin), public counts, JSON feed, webhooks."""

from __future__ import annotations

import feedparser
import pytest

from tests.api.conftest import Api, plant_double_use


@pytest.fixture
def alerted(world: Api) -> Api:
    """The world plus a second use of 45000-45010 (DC05) and a check run."""
    plant_double_use(world)
    return world


def test_list_read_and_acknowledge_an_alert(alerted: Api) -> None:
    client = alerted.client
    page = client.get("/v1/alerts", params={"rule": "DC05"}, headers=alerted.oversight).json()
    (alert,) = page["items"]
    assert alert["status"] == "open"
    assert {e["record_id"] for e in alert["evidence"]} == {"USE-1", "USE-X"}
    one = client.get(f"/v1/alerts/{alert['id']}", headers=alerted.oversight).json()
    assert one["id"] == alert["id"] and one["acknowledgement"] is None
    # Acknowledging needs the admin role.
    denied = client.post(
        f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "x"}, headers=alerted.oversight
    )
    assert denied.status_code == 403
    done = client.post(
        f"/v1/alerts/{alert['id']}/acknowledge",
        json={"note": "JPN01 asked to withdraw USE-X"},
        headers=alerted.admin,
    )
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    one = client.get(f"/v1/alerts/{alert['id']}", headers=alerted.oversight).json()
    assert one["acknowledgement"]["note"] == "JPN01 asked to withdraw USE-X"
    assert "test admin" in one["acknowledgement"]["by"]
    missing = client.post(
        "/v1/alerts/00000000deadbeef/acknowledge", json={"note": "x"}, headers=alerted.admin
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_public_sees_counts_but_no_evidence(alerted: Api) -> None:
    counts = alerted.client.get("/v1/alerts/counts")
    assert counts.status_code == 200
    assert counts.json()["by_rule"]["DC05"]["open"] == 1
    assert "evidence" not in counts.text and "USE-X" not in counts.text
    assert alerted.client.get("/v1/alerts").status_code == 401
    stats = alerted.client.get("/v1/stats").json()
    assert stats["open_alerts"]["critical"] >= 1


def test_json_feed_follows_the_cursor(alerted: Api) -> None:
    first = alerted.client.get(
        "/v1/feeds/alerts.json", params={"limit": 1}, headers=alerted.oversight
    ).json()
    assert len(first["events"]) == 1 and first["events"][0]["event"] == "opened"
    rest = alerted.client.get(
        "/v1/feeds/alerts.json", params={"since": first["next"]}, headers=alerted.oversight
    ).json()
    seqs = [e["seq"] for e in first["events"] + rest["events"]]
    assert seqs == sorted(set(seqs))


def test_itmo_shows_the_open_alerts_touching_it(alerted: Api) -> None:
    body = alerted.client.get(
        "/v1/itmos/CA0001-IDN01-IDN-45005-2023", headers=alerted.oversight
    ).json()
    assert "DC05" in {a["rule"] for a in body["alerts"]}
    clean = alerted.client.get(
        "/v1/itmos/CA0001-IDN01-IDN-100-2023", headers=alerted.oversight
    ).json()
    assert "DC05" not in {a["rule"] for a in clean["alerts"]}


def test_admin_manages_webhook_subscriptions_without_seeing_secrets(sqlite_api: Api) -> None:
    client, admin = sqlite_api.client, sqlite_api.admin
    refused = client.post(
        "/v1/webhooks",
        json={"id": "local", "url": "http://127.0.0.1:9/hook", "secret": "s" * 20},
        headers=admin,
    )
    assert refused.status_code == 422 and "private" in refused.json()["detail"]
    assert client.get("/v1/webhooks", headers=admin).json() == []
    assert client.delete("/v1/webhooks/nothing", headers=admin).status_code == 404
    assert client.get("/v1/webhooks", headers=sqlite_api.oversight).status_code == 403


def test_atom_feed_reads_in_a_feed_reader(alerted: Api) -> None:
    response = alerted.client.get("/v1/feeds/alerts.atom", headers=alerted.oversight)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.text)
    assert not feed.bozo
    assert any("DC05" in entry.title for entry in feed.entries)
    assert all("/v1/alerts/" in entry.link for entry in feed.entries)


def test_event_stream_replays_from_the_cursor(alerted: Api) -> None:
    frames: list[str] = []
    with alerted.client.stream(
        "GET", "/v1/feeds/alerts/stream", params={"since": 0}, headers=alerted.oversight
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            frames.append(line)
            if line.startswith("data:"):
                break
    assert any(f.startswith("id: ") for f in frames)
    assert '"event":"opened"' in frames[-1]

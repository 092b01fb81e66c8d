"""Who may see and change what on the dashboard, and that it reads without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from metareg.alerts.operational import raise_operational
from metareg.checks.runner import run_checks
from metareg.db.tables.index import Action, Holding
from metareg.oversight.alerts import list_alerts
from metareg.oversight.keys import create_key
from metareg.sync.ingest import ingest_files
from metareg.web.app import create_app
from metareg.web.dashboard.auth import COOKIE, csrf_token
from metareg.web.settings import ApiSettings

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "samples"


@pytest.fixture
def dashboard(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    for path in sorted(SAMPLES.glob("*.jsonl")):
        ingest_files(engine, [path], path.stem)
    run_checks(engine, full=True, as_of=date(2025, 6, 30))
    tokens = {}
    with engine.begin() as connection:
        for role in ("oversight", "admin"):
            tokens[role] = create_key(connection, f"test {role}", role)[1]
    app = create_app(engine, settings=ApiSettings(config=tmp_path))
    with TestClient(app, follow_redirects=False) as client:
        yield client, tokens


def test_pages_need_an_oversight_key(dashboard: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = dashboard
    for path in ("/dashboard", "/dashboard/alerts", "/dashboard/itmo", "/dashboard/alerts/x"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith(
            "/dashboard/login"
        )
    client.cookies.set(COOKIE, "mrk_not-a-key")
    assert "unknown" in client.get("/dashboard", follow_redirects=True).text
    assert client.get("/dashboard/events").status_code == 401


def test_login_sets_a_strict_http_only_cookie(dashboard: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = dashboard
    refused = client.post("/dashboard/login", data={"key": "wrong"})
    assert refused.status_code == 200 and "unknown or revoked" in refused.text
    answer = client.post(
        "/dashboard/login", data={"key": tokens["oversight"], "next": "https://evil.example/"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_reading_works_without_javascript(dashboard: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = dashboard
    client.cookies.set(COOKIE, tokens["oversight"])
    overview = client.get("/dashboard").text
    assert "IDN01" in overview and "<svg" in overview  # health table and charts, server-side
    alerts = client.get("/dashboard/alerts", params={"rule": "DC05"}).text
    assert 'data-rule="DC05"' in alerts and 'data-rule="DC01"' not in alerts
    assert "Acknowledge</button>" not in alerts  # oversight reads; admin acknowledges
    itmo = client.get("/dashboard/itmo", params={"id": "CA0001-IDN01-IDN-25001-35000-2023"}).text
    assert itmo.count('class="event"') >= 4 and "JP-USE-0002" in itmo
    bad = client.get("/dashboard/itmo", params={"id": "not-an-itmo"})
    assert bad.status_code == 200 and 'class="error"' in bad.text


def test_acknowledging_needs_admin_and_the_form_token(
    dashboard: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = dashboard
    client.cookies.set(COOKIE, tokens["admin"])
    page = client.get("/dashboard/alerts", params={"rule": "DC05"}).text
    alert_id = page.split('data-alert="')[1].split('"')[0]
    target = f"/dashboard/alerts/{alert_id}/acknowledge"
    forged = client.post(target, data={"note": "x", "csrf": "forged"})
    assert forged.status_code == 403
    client.cookies.set(COOKIE, tokens["oversight"])
    low = client.post(target, data={"note": "x", "csrf": csrf_token(tokens["oversight"])})
    assert low.status_code == 403
    client.cookies.set(COOKIE, tokens["admin"])
    done = client.post(
        target, data={"note": "checked with JPN01", "csrf": csrf_token(tokens["admin"])}
    )
    assert done.status_code == 303
    after = client.get("/dashboard/alerts", params={"rule": "DC05"}).text
    assert "acknowledged" in after and "checked with JPN01" in after


def test_the_public_page_shows_aggregates_and_nothing_else(
    dashboard: tuple[TestClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = dashboard
    with engine.begin() as connection:  # an operational alert whose message names an error
        raise_operational(
            connection, "SY01", "JPN01", "JPN01: last error: 401 from https://u:pw@reg.example/x"
        )
    answer = client.get("/dashboard/public")  # no key, no cookie
    assert answer.status_code == 200
    page = answer.text
    stats = client.get("/v1/stats").json()  # what the public API already tells anyone
    total = sum(stats["by_state"].values())
    assert total and f"{total:,}" in page
    for party in stats["by_party"]:
        assert party["party_id"] in page
    counts = client.get("/v1/alerts/counts", params={"status": "open"}).json()
    for rule in counts["by_rule"]:
        assert rule in page
    # Nothing a key is needed for: no alert ids, messages or evidence, no record ids,
    # no accounts, no key names, no logout form.
    with engine.connect() as connection:
        alerts = list_alerts(connection, limit=1_000)
        action_ids = connection.execute(select(Action.c.uid)).scalars().all()
        accounts = connection.execute(select(Holding.c.account_id)).scalars().all()
    assert alerts and action_ids
    for alert in alerts:
        assert alert["id"] not in page and alert["message"] not in page
        assert all(e["record_id"] not in page for e in alert["evidence"])
    assert not [uid for uid in action_ids if uid in page]
    assert not [account for account in accounts if account in page]
    assert "test oversight" not in page and "test admin" not in page
    assert "reg.example" not in page and "401 from" not in page
    assert "SY01" in page  # counted, by rule only
    assert "/dashboard/logout" not in page
    # A logged-in browser sees the same public page (the key adds nothing there).
    client.cookies.set(COOKIE, tokens["admin"])
    assert client.get("/dashboard/public").text.count("<tr") == page.count("<tr")


def test_an_alert_page_reads_without_javascript(
    dashboard: tuple[TestClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = dashboard
    client.cookies.set(COOKIE, tokens["oversight"])
    with engine.connect() as connection:
        (alert,) = list_alerts(connection, rule="DC05")
    page = client.get(f"/dashboard/alerts/{alert['id']}").text
    assert alert["message"] in page
    for evidence in alert["evidence"]:
        assert f'data-record="{evidence["record_id"]}"' in page
    assert 'data-event="opened"' in page and 'class="event evidence"' in page
    assert "Acknowledge</button>" not in page  # oversight reads; admin acknowledges
    assert client.get("/dashboard/alerts/0000000000000000").status_code == 404
    listing = client.get("/dashboard/alerts").text
    assert f'href="/dashboard/alerts/{alert["id"]}"' in listing


def test_an_operational_alert_has_its_page_too(
    dashboard: tuple[TestClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = dashboard
    with engine.begin() as connection:
        raise_operational(connection, "SY03", "IDN01", "3 quarantined record(s) await review")
        (alert,) = list_alerts(connection, rule="SY03")
    client.cookies.set(COOKIE, tokens["admin"])
    page = client.get(f"/dashboard/alerts/{alert['id']}")
    assert page.status_code == 200
    assert "await review" in page.text and "an operational alert" in page.text
    assert 'data-event="opened"' in page.text and "Acknowledge</button>" in page.text
    assert "IDN01" in client.get("/dashboard").text


def test_a_provisional_approach_is_marked(
    dashboard: tuple[TestClient, dict[str, str]], engine: Engine, tmp_path: Path
) -> None:
    """RECORDS.md: every output marks a provisional cooperative approach (CAP-...)."""
    client, tokens = dashboard
    block = '"cooperative_approach_id":"CAP-RWA-SIQ","party_registry_id":"RWA01"'
    path = tmp_path / "rwa.jsonl"
    path.write_text(
        '{"record_type":"action","action_id":"FT-9","action_date":"2024-03-01",'
        '"action_type":"First transfer","authorization_id":"RWA-1","acquiring_party_id":"SGP",'
        f'{block},"first_transferring_party_id":"RWA","first_id":1,"last_id":10,"vintage":2023}}\n'
    )
    ingest_files(engine, [path], "RWA01")
    run_checks(engine, full=True, as_of=date(2025, 6, 30))
    client.cookies.set(COOKIE, tokens["oversight"])
    page = client.get("/dashboard/itmo", params={"id": "CAP-RWA-SIQ-RWA01-RWA-1-10-2023"})
    assert page.status_code == 200 and "FT-9" in page.text
    assert "provisional approach" in page.text
    linked = client.get(
        "/dashboard/itmo", params={"ca": "CAP-RWA-SIQ", "registry": "RWA01", "first": 1, "last": 10}
    )
    assert "provisional approach" in linked.text
    alerts = client.get("/dashboard/alerts", params={"registry": "RWA01"})
    assert "CAP-RWA-SIQ" in alerts.text and "provisional approach" in alerts.text
    others = client.get("/dashboard/itmo", params={"id": "CA0001-IDN01-IDN-30000-2023"})
    assert "provisional approach" not in others.text

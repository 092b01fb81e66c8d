"""A revoked key (or one whose role changed) loses its open event streams, not only its
next request: the alert feed's stream and the dashboard's live-update stream re-check
the key before each delivery and each poll, and end.

No sleeps race here: the revocation is committed before the event that must not be
delivered, and the stream reads its events before it re-checks the key, so a read that
sees the event also sees the revocation. Streams that would go on forever are read for a
bounded number of frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from metareg.alerts.events import latest_seq
from metareg.oversight import keys
from metareg.web.dashboard import views
from tests.api.conftest import Api, make_api, plant_double_use

MAX_FRAMES = 200  # far more than a closing stream sends; a stream that goes on fails
# With the fix each stream ends within milliseconds; one that never ends fails here.
pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def fast_api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """The API with a stream that polls and heartbeats every few milliseconds."""
    yield from make_api(engine, tmp_path, feed_poll_seconds=0.01, feed_heartbeat_seconds=0.01)


def _alerted(api: Api) -> str:
    """A world with one open DC05 alert; returns the alert's id."""
    from tests.api.conftest import idn_records, jpn_records

    api.ingest("IDN01", idn_records())
    api.ingest("JPN01", jpn_records())
    plant_double_use(api)
    alert = api.client.get("/v1/alerts", params={"rule": "DC05"}, headers=api.oversight).json()
    return str(alert["items"][0]["id"])


def _key_id(api: Api, headers: dict[str, str]) -> int:
    with api.engine.connect() as connection:
        found = keys.find_key(connection, headers["X-API-Key"])
    assert found is not None
    return int(found["id"])


def _revoke(api: Api, headers: dict[str, str]) -> None:
    key_id = _key_id(api, headers)
    with api.engine.begin() as connection:
        assert keys.revoke_key(connection, key_id)


def _set_role(api: Api, headers: dict[str, str], role: str) -> None:
    key_id = _key_id(api, headers)
    with api.engine.begin() as connection:
        connection.execute(
            text("UPDATE api_key SET role = :role WHERE id = :id"), {"role": role, "id": key_id}
        )


def _rest(lines: Iterator[str]) -> list[str]:
    """The stream's next lines, until it ends, delivers an alert, or MAX_FRAMES went by."""
    seen: list[str] = []
    for line in lines:
        seen.append(line)
        if line.startswith("data:") and '"alert"' in line:
            break
        if sum(1 for s in seen if s == "") >= MAX_FRAMES:
            break
    return seen


def test_a_revoked_key_gets_no_alert_after_revocation_and_its_stream_ends(
    fast_api: Api,
) -> None:
    api = fast_api
    alert_id = _alerted(api)
    with api.engine.connect() as connection:
        since = latest_seq(connection)
    with api.client.stream(
        "GET", "/v1/feeds/alerts/stream", params={"since": since}, headers=api.oversight
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        _revoke(api, api.oversight)
        # A new alert event, committed after the revocation.
        acknowledged = api.client.post(
            f"/v1/alerts/{alert_id}/acknowledge", json={"note": "seen"}, headers=api.admin
        )
        assert acknowledged.status_code == 200
        rest = _rest(lines)
    assert not [line for line in rest if line.startswith("data:") and "acknowledged" in line]
    assert "event: access-ended" in rest, rest[-5:]
    assert rest[-1] == "" and rest.count("event: access-ended") == 1  # and then the end
    # Everywhere else the key is refused too.
    assert api.client.get("/v1/alerts", headers=api.oversight).status_code == 401


def test_an_idle_stream_ends_when_its_key_is_revoked(fast_api: Api) -> None:
    api = fast_api
    with api.client.stream("GET", "/v1/feeds/alerts/stream", headers=api.oversight) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        _revoke(api, api.oversight)
        rest = _rest(lines)
    assert "event: access-ended" in rest, rest[-5:]


def test_a_role_change_ends_the_stream(fast_api: Api) -> None:
    api = fast_api
    with api.client.stream("GET", "/v1/feeds/alerts/stream", headers=api.admin) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        _set_role(api, api.admin, "oversight")
        rest = _rest(lines)
    assert "event: access-ended" in rest, rest[-5:]


def test_the_dashboard_stream_ends_when_its_key_is_revoked(
    fast_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fast_api
    monkeypatch.setattr(views, "POLL_SECONDS", 0.01)
    headers = {**api.oversight, "Accept": "text/event-stream"}
    with api.client.stream("GET", "/dashboard/events", headers=headers) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        assert next(lines) == ""
        assert next(lines) == "event: refresh"  # the first marks
        _revoke(api, api.oversight)
        rest = _rest(lines)
    assert "event: access-ended" in rest, rest[-5:]
    assert rest[-1] == ""
    assert api.client.get("/dashboard/events", headers=headers).status_code == 401


def test_the_dashboard_stream_ends_when_its_key_changes_role(
    fast_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = fast_api
    monkeypatch.setattr(views, "POLL_SECONDS", 0.01)
    headers = {**api.admin, "Accept": "text/event-stream"}
    with api.client.stream("GET", "/dashboard/events", headers=headers) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        _set_role(api, api.admin, "oversight")
        rest = _rest(lines)
    assert "event: access-ended" in rest, rest[-5:]

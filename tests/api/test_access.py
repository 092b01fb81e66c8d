"""Access: every route against every role, from the one table `auth.ROUTE_ROLES`."""

from __future__ import annotations

from typing import Any

import pytest

from metareg.web.api.ratelimit import RateLimiter
from metareg.web.auth import ROUTE_ROLES, Role, route_keys
from tests.api.conftest import Api, make_api

# Values for path parameters and bodies, so each route can be called for real.
PATH_VALUES = {
    "identifier": "CA0001-IDN01-IDN-1-2023",
    "registry_id": "IDN01",
    "alert_id": "00000000000000aa",
    "party": "IDN",
    "year": "2024",
    "key_id": "999",
    "programme": "VCS",
    "serial": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
    "subscription_id": "nothing",
    "name": "dashboard.css",
    "entry_id": "999",
}
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/checks/authorization"): {
        "identifier": "CA0001-IDN01-IDN-1-2023",
        "purpose": "NDC",
        "using_party_id": "JPN",
    },
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): {"note": "seen"},
    ("POST", "/v1/keys"): {"name": "made in a test", "role": "oversight"},
    ("POST", "/v1/webhooks"): {"id": "hook", "url": "https://example.org/hook"},
    ("POST", "/v1/quarantine/dismiss"): {"ids": [999], "note": "seen"},
    ("POST", "/v1/quarantine/reprocess"): {"ids": [999]},
}
STREAMS = {"/v1/feeds/alerts/stream"}


def app_routes(api: Api) -> set[tuple[str, str]]:
    return route_keys(api.client.app)


def test_every_route_has_an_access_rule(sqlite_api: Api) -> None:
    missing = app_routes(sqlite_api) - set(ROUTE_ROLES)
    assert not missing, f"routes without a row in ROUTE_ROLES: {sorted(missing)}"


REFUSED = "refused"  # 401 or 403 (API), or a redirect to the login form (dashboard pages)


def _call(api: Api, method: str, path: str, headers: dict[str, str]) -> int | str:
    url = path.format(**PATH_VALUES)
    if path in STREAMS:
        with api.client.stream(method, url, headers=headers) as response:
            return response.status_code
    body = BODIES.get((method, path))
    response = api.client.request(method, url, headers=headers, json=body, follow_redirects=False)
    if response.is_redirect and "/login" in response.headers.get("location", ""):
        return REFUSED
    return response.status_code


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name)
def test_every_route_against_every_role(sqlite_api: Api, role: Role) -> None:
    headers = {
        Role.public: {},
        Role.oversight: sqlite_api.oversight,
        Role.admin: sqlite_api.admin,
    }[role]
    checked = 0
    for method, path in sorted(app_routes(sqlite_api)):
        needed = ROUTE_ROLES[(method, path)]
        status = _call(sqlite_api, method, path, headers)
        where = f"{role.name} {method} {path}: {status}"
        if role < needed:
            expected = 401 if role == Role.public else 403
            assert status in (expected, REFUSED), where
        else:
            assert status not in (401, 403), where
            if status == REFUSED:  # e.g. logging out lands on the login form: a public page
                assert needed == Role.public, where
            else:
                assert isinstance(status, int) and status < 500, where
        checked += 1
    assert checked >= 15


def test_unknown_or_revoked_key_is_401_not_public(sqlite_api: Api) -> None:
    bad = sqlite_api.client.get("/v1/stats", headers={"X-API-Key": "mrk_not-a-key"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"
    created = sqlite_api.client.post(
        "/v1/keys", json={"name": "short-lived", "role": "oversight"}, headers=sqlite_api.admin
    ).json()
    token = {"X-API-Key": created["token"]}
    assert sqlite_api.client.get("/v1/blocks", headers=token).status_code == 200
    listed = sqlite_api.client.get("/v1/keys", headers=sqlite_api.admin).json()
    assert "token" not in str(listed) and created["token"] not in str(listed)
    revoked = sqlite_api.client.delete(f"/v1/keys/{created['id']}", headers=sqlite_api.admin)
    assert revoked.status_code == 204
    assert sqlite_api.client.get("/v1/blocks", headers=token).status_code == 401


def test_public_role_is_rate_limited_per_address_keys_are_not(
    sqlite_engine: Any, tmp_path: Any
) -> None:
    for api in make_api(sqlite_engine, tmp_path, public_requests_per_minute=3, public_burst=3):
        statuses = [api.client.get("/v1/stats").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = api.client.get("/v1/stats")
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["retry-after"]) >= 1
        assert all(
            api.client.get("/v1/stats", headers=api.oversight).status_code == 200 for _ in range(5)
        )


def test_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.retry_after("a") is None and limiter.retry_after("a") is None
    wait = limiter.retry_after("a")
    assert wait is not None and 0 < wait <= 1.0
    assert limiter.retry_after("b") is None  # another caller has its own bucket
    now[0] += 1.0
    assert limiter.retry_after("a") is None

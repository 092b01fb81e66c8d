"""The two hottest requests are answered by `HotRoutes` before the framework when they
succeed; every answer, success or problem, must be the one the app gives without it:
same status, headers and bytes. A revoked key stops working at once."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from metareg.oversight import keys
from metareg.web.api import hot
from metareg.web.app import create_app
from tests.api.conftest import Api, plant_double_use

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BLOCK = "CA0001-IDN01-IDN-39001-60000-2023"
CHECK = "/v1/checks/authorization"


def requests(api: Api) -> list[tuple[str, str, dict[str, str], Any]]:
    key, admin = api.oversight, api.admin
    use = {"purpose": "NDC", "using_party_id": "JPN"}
    return [
        ("GET", f"/v1/itmos/{BLOCK}", key, None),
        ("GET", "/v1/itmos/CA0001-IDN01-IDN-45005-2023", admin, None),
        ("GET", "/v1/itmos/CA0001-IDN01-IDN-900001-900002-2023", key, None),  # 404
        ("GET", "/v1/itmos/CA0001-IDN01-IDN-9-3-2023", key, None),  # malformed
        ("GET", "/v1/itmos/CA0001-XX", key, None),
        ("GET", f"/v1/itmos/{BLOCK}", {"X-API-Key": "mrk_unknown"}, None),
        ("GET", f"/v1/itmos/{BLOCK}", {"X-API-Key": ""}, None),
        ("GET", f"/v1/itmos/{BLOCK}", {}, None),
        ("HEAD", f"/v1/itmos/{BLOCK}", key, None),
        ("POST", CHECK, key, {"identifier": "CA0001-IDN01-IDN-1-1000-2023", **use}),
        ("POST", CHECK, key, {"identifier": "CA0001-IDN01-IDN-45005-2023", **use}),
        ("POST", CHECK, key, {"identifier": "CA0001-IDN01-IDN-1-1000-2023"}),  # no purpose
        ("POST", CHECK, key, {"identifier": "CA0001-IDN01-IDN-1-1000-2023", "purpose": "X"}),
        ("POST", CHECK, key, {"identifier": "not an identifier", **use}),
        ("POST", CHECK, key, {"identifier": "CA0001-IDN01-IDN-1-1000-2023", "date": "soon"}),
        ("POST", CHECK, key, [1, 2]),
        ("POST", CHECK, key, b"{not json"),
        ("POST", CHECK, key, b""),
        ("POST", CHECK, {**key, "content-type": "text/plain"}, b'{"identifier": "x"}'),
        ("POST", CHECK, {"X-API-Key": "mrk_unknown"}, {"identifier": BLOCK, **use}),
        ("POST", CHECK, {}, {"identifier": BLOCK, **use}),
    ]


def send(client: TestClient, method: str, path: str, headers: dict[str, str], body: Any) -> Any:
    if isinstance(body, bytes):
        return client.request(method, path, headers=headers, content=body)
    return client.request(method, path, headers=headers, json=body)


def answer(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, headers, response.content


def test_every_answer_is_the_apps_own(world: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    plant_double_use(world)  # an open alert on the units of some requests
    app = world.client.app
    plain = create_app(world.engine, settings=app.state.settings)  # type: ignore[attr-defined]
    plain.state.hot_routes = False
    fast: list[str] = []
    describe_bytes, answer_check = hot.describe_bytes, hot.answer_check
    monkeypatch.setattr(hot, "describe_bytes", lambda *a: fast.append("GET") or describe_bytes(*a))
    monkeypatch.setattr(hot, "answer_check", lambda *a: fast.append("POST") or answer_check(*a))
    with TestClient(plain) as reference:
        for method, path, headers, body in requests(world):
            expected = answer(send(reference, method, path, headers, body))
            got = answer(send(world.client, method, path, headers, body))
            assert got == expected, (method, path, headers, body)
    if world.engine.dialect.name == "sqlite":  # reads on the event loop: the fast path
        assert {"GET", "POST"} <= set(fast)


def test_a_revoked_key_stops_working_at_once(world: Api) -> None:
    with world.engine.begin() as connection:
        created, token = keys.create_key(connection, "soon revoked", "oversight")
    headers = {"X-API-Key": token}
    body = {"identifier": "CA0001-IDN01-IDN-1-1000-2023", "purpose": "NDC", "using_party_id": "JPN"}
    assert world.client.get(f"/v1/itmos/{BLOCK}", headers=headers).status_code == 200
    assert world.client.post(CHECK, json=body, headers=headers).status_code == 200
    with world.engine.begin() as connection:
        assert keys.revoke_key(connection, created["id"])
    assert world.client.get(f"/v1/itmos/{BLOCK}", headers=headers).status_code == 401
    assert world.client.post(CHECK, json=body, headers=headers).status_code == 401

"""The two hottest reads (`GET /v1/itmos/{id}`, `POST /v1/checks/authorization`) run on
the event loop when reads are short (`ApiSettings.inline_reads`, on SQLite by default)
and in a worker thread otherwise: either way a caller sees the same answers, and the
same checks in the same order (capacity, then key, then the body)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.api.conftest import AUTH_ID, Api, idn_records, jpn_records, make_api

CHECK = "/v1/checks/authorization"
USE = {"identifier": "CA0001-IDN01-IDN-39001-40000-2023", "purpose": "NDC"}
BLOCK = "/v1/itmos/CA0001-IDN01-IDN-39001-60000-2023"
ASKED = [
    ("GET", BLOCK, None),
    ("GET", "/v1/itmos/CA0001-IDN01-IDN-1001-2023", None),
    ("GET", "/v1/itmos/CA0001-IDN01-IDN-900001-2023", None),  # nothing covers it: 404
    ("GET", "/v1/itmos/CA0001-IDN01", None),  # malformed: 422 naming the part
    ("POST", CHECK, USE),  # a use without its Party: 422
    ("POST", CHECK, {**USE, "using_party_id": "JPN"}),
    (
        "POST",
        CHECK,
        {
            "identifier": "CA0001-IDN01-IDN-1-1000-2023",
            "action_type": "First transfer",
            "acquiring_party_id": "JPN",
            "authorization_id": AUTH_ID,
        },
    ),
    ("POST", CHECK, {"identifier": 5}),  # invalid body: 422
]


def _answers(api: Api) -> list[tuple[int, str, bytes]]:
    found = []
    for method, path, body in ASKED:
        response = api.client.request(method, path, json=body, headers=api.oversight)
        content = response.content
        if path == CHECK and response.status_code == 200:
            content = content.replace(response.json()["date"].encode(), b"TODAY")
        found.append((response.status_code, response.headers["content-type"], content))
    return found


def test_on_the_loop_or_in_a_thread_the_answers_are_the_same(
    engine: Engine, tmp_path: Path
) -> None:
    answers = {}
    for inline in (True, False):
        for api in make_api(engine, tmp_path, inline_reads=inline):
            if inline:
                api.ingest("IDN01", idn_records())
                api.ingest("JPN01", jpn_records())
            answers[inline] = _answers(api)
    assert answers[True] == answers[False]
    statuses = [status for status, _, _ in answers[True]]
    assert statuses == [200, 200, 404, 422, 422, 200, 200, 422]


@pytest.mark.parametrize("inline", [True, False], ids=["on the loop", "in a thread"])
def test_capacity_then_key_then_body(engine: Engine, tmp_path: Path, inline: bool) -> None:
    for api in make_api(engine, tmp_path, inline_reads=inline, overload_wait_seconds=0.2):
        bad_body = {"identifier": 5}
        # The key before the body: a caller without a valid key learns nothing of it.
        assert api.client.post(CHECK, json=bad_body).status_code == 401
        wrong = {"X-API-Key": "mrk_not-a-key"}
        assert api.client.post(CHECK, json=bad_body, headers=wrong).status_code == 401
        assert api.client.get(BLOCK, headers=wrong).status_code == 401
        assert api.client.post(CHECK, json=bad_body, headers=api.oversight).status_code == 422
        # Capacity before the key: every read slot taken, even a keyless caller is told
        # to come back (503), and nobody waits for long.
        gate = api.client.app.state.connection_gate  # type: ignore[attr-defined]
        taken = 0
        while gate.try_enter():
            taken += 1
        try:
            assert taken == gate.capacity
            for response in (
                api.client.post(CHECK, json=bad_body),
                api.client.get(BLOCK, headers=api.oversight),
            ):
                assert response.status_code == 503
                assert response.headers["Retry-After"] == "1"
        finally:
            for _ in range(taken):
                gate.leave()
        assert api.client.get(BLOCK, headers=api.oversight).status_code == 404  # empty index

"""The exchange connector against a mocked registry (respx)."""

from __future__ import annotations

import httpx
import orjson
import pytest
import respx

from metareg.connectors.errors import ConnectorError, CursorExpired, ErrorClass, MalformedResponse
from tests.connectors.conftest import BASE, Sleeps, make
from tests.sync.feeds import issuance

CHANGES = f"{BASE}/exchange/v1/changes"
HOLDINGS = f"{BASE}/exchange/v1/holdings"


def connector(sleeps: Sleeps | None = None, **options: object):  # type: ignore[no-untyped-def]
    return make(
        {"type": "exchange", "url": BASE, "page_size": 2, "holdings": False, **options}, sleeps
    )


def page(items: list[dict], cursor: str, more: bool) -> httpx.Response:
    return httpx.Response(200, json={"items": items, "next_cursor": cursor, "has_more": more})


def up(n: int) -> dict:
    return {"op": "upsert", "record": issuance("IDN01", n)}


@respx.mock
def test_pages_follow_the_cursor_and_carry_it() -> None:
    route = respx.get(CHANGES).mock(
        side_effect=[page([up(1), up(2)], "c2", True), page([up(3)], "c3", False)]
    )
    pages = list(connector().pages(None))
    assert [len(p.items) for p in pages] == [2, 1]
    assert route.calls[0].request.url.params.get("cursor") is None
    assert route.calls[1].request.url.params["cursor"] == "c2"
    assert route.calls[1].request.url.params["limit"] == "2"
    assert pages[0].pass_start and pages[-1].pass_end
    # The engine commits pages[0].cursor; resuming from it asks for c2.
    respx.get(CHANGES).mock(side_effect=[page([up(3)], "c3", False)])
    list(connector().pages(pages[0].cursor))
    assert respx.calls[-1].request.url.params["cursor"] == "c2"
    assert orjson.loads(pages[-1].cursor)["c"] == "c3"


@respx.mock
def test_withdrawals_become_withdrawal_envelopes() -> None:
    of = {"record_type": "action", "action_id": "ISS-1"}
    respx.get(CHANGES).mock(return_value=page([{"op": "withdraw", "of": of}], "c1", False))
    (only,) = list(connector().pages(None))
    assert only.items[0].value == {"record_type": "withdrawal", "of": of}


@respx.mock
def test_retry_then_success(sleeps: Sleeps) -> None:
    respx.get(CHANGES).mock(side_effect=[httpx.Response(503), page([up(1)], "c1", False)])
    (only,) = list(connector(sleeps).pages(None))
    assert len(only.items) == 1 and len(sleeps) == 1


@respx.mock
def test_unauthorized_is_a_configuration_error() -> None:
    respx.get(CHANGES).mock(return_value=httpx.Response(401, json={"title": "no"}))
    with pytest.raises(ConnectorError) as raised:
        list(connector().pages(None))
    assert raised.value.kind is ErrorClass.CONFIG


@respx.mock
@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"items": "nope", "has_more": false}', b'{"items": []}', b"[]"],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    respx.get(CHANGES).mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(MalformedResponse):
        list(connector().pages(None))


@respx.mock
def test_gone_cursor_and_reset() -> None:
    respx.get(CHANGES).mock(
        return_value=httpx.Response(
            410, json={"type": "https://metareg.example/problems/cursor-expired", "title": "x"}
        )
    )
    with pytest.raises(CursorExpired):
        list(connector().pages('{"c": "old"}'))
    respx.get(CHANGES).mock(return_value=httpx.Response(200, json={"reset": True}))
    (only,) = list(connector().pages('{"c": "old"}'))
    assert only.reset


@respx.mock
def test_holdings_snapshot_pages_mark_the_listing() -> None:
    respx.get(CHANGES).mock(return_value=page([], "c0", False))
    row = {"record_type": "holding", "as_of": "2024-12-31", "account_id": "A"}
    holdings = respx.get(HOLDINGS).mock(
        side_effect=[
            httpx.Response(
                200,
                json={"as_of": "2024-12-31", "items": [row], "next_cursor": "h1", "has_more": True},
            ),
            httpx.Response(
                200,
                json={
                    "as_of": "2024-12-31",
                    # another row: a page with exactly the items of the page before is
                    # a stale page, asked for again (connectors/paging.py)
                    "items": [{**row, "account_id": "B"}],
                    "next_cursor": "h2",
                    "has_more": False,
                },
            ),
        ]
    )
    pages = list(connector(holdings=True).pages(None))[1:]
    assert [p.scope for p in pages] == ["holdings:2024-12-31"] * 2
    assert pages[0].pass_start and not pages[0].pass_end and pages[1].pass_end
    assert holdings.calls[1].request.url.params["as_of"] == "2024-12-31"
    assert holdings.calls[1].request.url.params["cursor"] == "h1"

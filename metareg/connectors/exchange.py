"""The metareg registry exchange API (docs/exchange-api.openapi.yaml), client side.

Cursor (opaque to the engine): JSON `{"c": <change cursor>, "h": <holdings position>}`,
where the holdings position is `{"as_of", "cursor"}` while a snapshot is being read.
One sync reads the change feed to its end, then the latest holdings snapshot (unless
`holdings = false`), page by page, each page committed with the cursor after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from metareg.connectors.base import Connector, Item, Page, Totals, holdings_scope
from metareg.connectors.body import fetch_json
from metareg.connectors.errors import MalformedResponse
from metareg.connectors.paging import Answer, paginate
from metareg.records.canonical import dumps

API = "/exchange/v1"
DEFAULT_PAGE_SIZE = 500


def _decode(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        value = orjson.loads(cursor)
    except orjson.JSONDecodeError:
        return {"c": cursor}  # a bare change cursor (older state): keep it
    return value if isinstance(value, dict) else {}


def _encode(state: dict[str, Any]) -> str:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS).decode()


def _check_page(body: Any, url: str, list_key: str = "items") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedResponse("page is not a JSON object", url=url)
    if body.get("reset") is True:
        return body
    if not isinstance(body.get(list_key), list):
        raise MalformedResponse(f"page has no '{list_key}' list", url=url)
    if not isinstance(body.get("has_more"), bool):
        raise MalformedResponse("page has no boolean 'has_more'", url=url)
    if body.get("next_cursor") is not None and not isinstance(body["next_cursor"], str):
        raise MalformedResponse("'next_cursor' must be a string", url=url)
    return body


class ExchangeConnector(Connector):
    kind = "exchange"
    reads_in_child = True  # a paged API: a cursor resumes it with one request

    @property
    def base(self) -> str:
        return str(self.config.require("url")).rstrip("/") + API

    @property
    def page_size(self) -> int:
        return max(1, min(1000, int(self.config.option("page_size", DEFAULT_PAGE_SIZE))))

    def pages(self, cursor: str | None) -> Iterator[Page]:
        state = _decode(cursor)
        full = cursor is None
        yield from self._changes(state, full)
        if self.config.option("holdings", True):
            yield from self._holdings(state)

    def _changes(self, state: dict[str, Any], full: bool) -> Iterator[Page]:
        url = f"{self.base}/changes"

        def fetch(cursor: str | None) -> Answer[str | None]:
            body = _check_page(
                fetch_json(self.http, url, {"cursor": cursor, "limit": self.page_size}), url
            )
            if body.get("reset") is True:
                return Answer([], False, cursor, body)
            # No next cursor: the next poll asks again from this page's.
            return Answer(body["items"], body["has_more"], body.get("next_cursor") or cursor, body)

        for paged in paginate(fetch, state.get("c")):
            body = paged.answer.body
            if body.get("reset") is True:
                yield Page([], None, reset=True)
                return
            items = [
                self._change_item(entry, f"changes page {paged.number} item {n}", url)
                for n, entry in enumerate(paged.answer.items, start=1)
            ]
            state["c"] = paged.answer.following  # shared with _holdings: its pages carry it too
            yield Page(
                items,
                _encode(state),
                pass_start=full and paged.first,
                pass_end=not paged.answer.has_more,
                lag_seconds=_lag(body),
            )

    def _change_item(self, entry: Any, location: str, url: str) -> Item:
        # The raw text is serialized once, of what is kept: an upsert keeps its record.
        if isinstance(entry, dict) and entry.get("op") == "upsert" and "record" in entry:
            return Item(entry["record"], dumps(entry["record"]), location)
        raw = dumps(entry)
        if isinstance(entry, dict) and entry.get("op") == "withdraw" and "of" in entry:
            return Item({"record_type": "withdrawal", "of": entry["of"]}, raw, location)
        # Not a change we understand: validation quarantines it with the raw text.
        return Item(entry, raw, location)

    def _holdings(self, state: dict[str, Any]) -> Iterator[Page]:
        url = f"{self.base}/holdings"
        position = state.get("h") or {}
        # Reading a snapshot from its start (not resuming one) is a complete listing.
        from_start = position.get("as_of") is None

        def fetch(at: tuple[str | None, str | None]) -> Answer[tuple[str | None, str | None]]:
            as_of, cursor = at
            body = _check_page(
                fetch_json(
                    self.http, url, {"as_of": as_of, "cursor": cursor, "limit": self.page_size}
                ),
                url,
            )
            if body.get("reset") is True:
                return Answer([], False, at, body)
            following = (body.get("as_of"), body.get("next_cursor"))
            if body["has_more"] and body.get("next_cursor") is None:
                following = at  # more said to follow, but nowhere: the paginator stops it
            return Answer(body["items"], body["has_more"], following, body)

        start = (position.get("as_of"), position.get("cursor"))
        for paged in paginate(fetch, start):
            body = paged.answer.body
            if body.get("reset") is True:
                yield Page([], None, reset=True)
                return
            as_of = body.get("as_of")
            if as_of is None and not paged.answer.items:
                return  # the registry has no holdings snapshot yet
            if not isinstance(as_of, str):
                raise MalformedResponse("holdings page has no 'as_of'", url=url)
            items = [
                Item(row, dumps(row), f"holdings {as_of} page {paged.number} item {n}")
                for n, row in enumerate(paged.answer.items, start=1)
            ]
            # A finished snapshot leaves no holdings position: the next sync reads the
            # latest snapshot again from its start.
            following = {"as_of": as_of, "cursor": paged.answer.following[1]}
            state["h"] = None if paged.last else following
            yield Page(
                items,
                _encode(state),
                scope=holdings_scope(as_of),
                pass_start=from_start and paged.first,
                pass_end=paged.last,
            )

    def totals(self) -> Totals:
        url = f"{self.base}/totals"
        body = fetch_json(self.http, url)
        if not isinstance(body, dict) or not isinstance(body.get("totals"), list):
            raise MalformedResponse("totals body has no 'totals' list", url=url)
        return Totals(str(body.get("as_of", "")), list(body["totals"]))

    def blocks(self, cooperative_approach_id: str, vintage: int) -> Iterator[dict[str, Any]]:
        url = f"{self.base}/blocks"

        def fetch(cursor: str | None) -> Answer[str | None]:
            params = {
                "cooperative_approach_id": cooperative_approach_id,
                "vintage": vintage,
                "cursor": cursor,
                "limit": self.page_size,
            }
            body = _check_page(fetch_json(self.http, url, params), url)
            return Answer(body["items"], body["has_more"], body.get("next_cursor"), body)

        for paged in paginate(fetch, None):
            yield from paged.answer.items


def _lag(body: dict[str, Any]) -> float | None:
    """Seconds between the registry's newest change and now, when the page says."""
    newest = body.get("latest_change_at")
    if not isinstance(newest, str):
        return None
    try:
        when = datetime.fromisoformat(newest.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - when).total_seconds())

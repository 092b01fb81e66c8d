"""A lying registry: a small real HTTP server on loopback that speaks the exchange API,
a CAD Trust node's v2 tables and an AEF workbook download, over one set of records, and
lies on demand (`Lies`, switchable while it runs):

- `holes`: an empty page mid-listing that says more follow (exchange, CADT);
- `empty`: a complete listing with nothing in it (every listing from the start; with
  `expire`, the exchange answers a cursor 410 first, as after a cursor reset);
- `expire`: a request carrying a cursor gets 410 Gone (`/cursor-expired`);
- `loop`: from the second page on, more is said to follow at the very same position
  (the same `next_cursor`; a CADT node that ignores `page`);
- `loop_holdings`: the exchange's holdings pages all say more follow, with no cursor;
- `poison`: one record carries `quantity_tco2e` 1e20 (no column can hold it);
- `slow`: every body is sent one byte per `slow` seconds;
- `repeat`: every other page request is answered with the page asked for before it;
- `reorder`: the items of each page in reverse.

The CADT node serves T3 actions only (T2 answers 404, as on a node without it).
Pages are `page_size` records; the exchange cursor is the offset as text, CADT's the
page number. `requests` counts what was asked (a stuck client shows as a count that
keeps growing)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import openpyxl

from metareg.connectors.aef.columns import ACTIONS, record_to_row

REGISTRY = "IDN01"
AS_OF = "2024-12-31"
POISONED = 3  # the record (by position) that `poison` spoils


@dataclass
class Lies:
    holes: bool = False
    empty: bool = False
    expire: bool = False
    loop: bool = False
    loop_holdings: bool = False  # the exchange's holdings listing only: more, nowhere
    poison: bool = False
    slow: float = 0.0
    repeat: bool = False
    reorder: bool = False


def action(n: int) -> dict[str, Any]:
    return {
        "record_type": "action",
        "action_id": f"IDN-A-{n}",
        "action_date": "2024-03-15",
        "action_type": "Issuance",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": REGISTRY,
        "first_transferring_party_id": "IDN",
        "first_id": 100 * n + 1,
        "last_id": 100 * n + 100,
        "vintage": 2023,
        "metric": "GHG",
        "quantity_tco2e": 100,
    }


def holding(n: int) -> dict[str, Any]:
    return {
        "record_type": "holding",
        "as_of": AS_OF,
        "account_id": "IDN-GOV-1",
        "account_type": "government-holding",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": REGISTRY,
        "first_transferring_party_id": "IDN",
        "first_id": 100 * n + 1,
        "last_id": 100 * n + 100,
        "vintage": 2023,
        "metric": "GHG",
        "quantity_tco2e": 100,
    }


def cadt_row(record: dict[str, Any]) -> dict[str, Any]:
    """An action as a CADT v2 T3 row (the `cadt` profile's field names)."""
    return {
        "cadTrustAefT3ActionsId": record["action_id"],
        "aefT3ActionsDate": record["action_date"],
        "aefT3ActionsType": record["action_type"],
        "aefT3ActionsCooperativeApproachId": record["cooperative_approach_id"],
        "aefT3ActionsFirstTransferringPartyId": record["first_transferring_party_id"],
        "aefT3ActionsPartyItmoRegistryId": record["party_registry_id"],
        "aefT3ActionsItmoFirstId": str(record["first_id"]),
        "aefT3ActionsItmoLastId": str(record["last_id"]),
        "aefT3ActionsVintageYear": record["vintage"],
        "aefT3ActionsMetric": record["metric"],
        "aefT3ActionsQuantityTCo2": str(record["quantity_tco2e"]),
    }


@dataclass
class Registry:
    actions: int = 23
    holdings: int = 9
    page_size: int = 5
    lies: Lies = field(default_factory=Lies)
    requests: int = 0
    _previous: dict[str, str] = field(default_factory=dict)
    _flip: dict[str, bool] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        found = [action(n) for n in range(1, self.actions + 1)]
        if self.lies.poison:
            found[POISONED] = {**found[POISONED], "quantity_tco2e": 1e20}
        return found

    def holding_rows(self) -> list[dict[str, Any]]:
        return [holding(n) for n in range(1, self.holdings + 1)]

    # -- answers ------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any, str]:
        """(status, body, content type) for one request."""
        self.requests += 1
        if self.lies.repeat and path in self._previous:
            self._flip[path] = not self._flip.get(path, False)
            if self._flip[path]:  # every other request: the page asked for before
                query = json.loads(self._previous[path])
        self._previous[path] = json.dumps(query)
        if path == "/exchange/v1/changes":
            return self._exchange(query, [{"op": "upsert", "record": r} for r in self.records()])
        if path == "/exchange/v1/holdings":
            status, body, kind = self._exchange(query, self.holding_rows())
            if isinstance(body, dict) and "items" in body:
                body["as_of"] = AS_OF
                if self.lies.loop_holdings:
                    body["has_more"], body["next_cursor"] = True, None
            return status, body, kind
        if path == "/v2/aef-t3-actions":
            return self._cadt(query, [cadt_row(r) for r in self.records()])
        if path == "/aef.xlsx":
            return 200, self._workbook(), "application/octet-stream"
        return 404, {"title": "not found"}, "application/json"

    def _listing(self, items: list[Any], offset: int) -> tuple[list[Any], bool]:
        if self.lies.empty:
            return [], False
        page = items[offset : offset + self.page_size]
        if self.lies.reorder:
            page = list(reversed(page))
        return page, offset + self.page_size < len(items)

    def _exchange(self, query: dict[str, str], items: list[Any]) -> tuple[int, Any, str]:
        cursor = query.get("cursor")
        if cursor and self.lies.expire:
            problem = {"type": "https://metareg.example/problems/cursor-expired", "title": "gone"}
            return 410, problem, "application/problem+json"
        position = cursor or "0"
        if self.lies.holes and position == str(self.page_size):
            return 200, {"items": [], "has_more": True, "next_cursor": f"h{position}"}, JSON
        offset = int(position.lstrip("h"))
        page, more = self._listing(items, offset)
        following = str(offset + self.page_size) if more else None
        if self.lies.loop and offset >= self.page_size:
            following, more = position, True
        return 200, {"items": page, "has_more": more, "next_cursor": following}, JSON

    def _cadt(self, query: dict[str, str], rows: list[Any]) -> tuple[int, Any, str]:
        number = int(query.get("page", "1"))
        if self.lies.loop:
            number = 1  # the node ignores `page`
        count = max(1, -(-len(rows) // self.page_size))
        if self.lies.holes and number == 2:
            count += 1  # an empty page 2; the rest shifted by one
            return 200, {"page": 2, "pageCount": count, "data": []}, JSON
        if self.lies.holes and number > 2:
            number -= 1
            count += 1
        page, _ = self._listing(rows, (number - 1) * self.page_size)
        if self.lies.empty:
            count = 1
        if self.lies.loop:
            count = 10**6
        return 200, {"page": number, "pageCount": count, "data": page}, JSON

    def _workbook(self) -> bytes:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Actions"
        sheet.append(ACTIONS.labels())
        if not self.lies.empty:
            rows = self.records()
            for record in reversed(rows) if self.lies.reorder else rows:
                sheet.append(record_to_row(ACTIONS, record))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


JSON = "application/json"


class _Handler(BaseHTTPRequestHandler):
    registry: Registry

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status, body, kind = self.registry.answer(url.path, query)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        delay = self.registry.lies.slow
        try:
            if not delay:
                self.wfile.write(data)
                return
            for n in range(len(data)):
                self.wfile.write(data[n : n + 1])
                self.wfile.flush()
                time.sleep(delay)
        except OSError:  # the client gave up: so do we
            return

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def lying_registry(registry: Registry) -> Iterator[str]:
    """Serve `registry` on a free loopback port; yields its base URL."""
    handler = type("Handler", (_Handler,), {"registry": registry})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

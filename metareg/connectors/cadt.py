"""CADT connector: a Climate Action Data Trust node's REST API.

Reads the v2 AEF tables (`/v2/aef-t2-authorizations`, `/v2/aef-t3-actions`,
`/v2/aef-t4-holdings`) and, with `units = true`, the v1 units (`/v1/units`), each with
`page`/`limit` pagination, and maps their fields (the `apiField` names of the CAD Trust
schema v2.0.2) to canonical records. CADT has no change feed, so every sync is a complete
listing: records CADT no longer lists are withdrawn. Cursor: `{"t": table, "p": page}`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import orjson

from metareg.connectors.aef.columns import (
    DATE,
    INTEGER,
    LIST,
    NUMBER,
    PURPOSES,
    TEXT,
    TIMEFRAME,
    AefColumn,
    AefContext,
    AefRowError,
    AefTable,
    normalize_label,
    row_to_record,
)
from metareg.connectors.base import SCOPE_RECORDS, Connector, Item, Page, holdings_scope
from metareg.connectors.body import fetch_json
from metareg.connectors.errors import MalformedResponse
from metareg.connectors.paging import Answer, paginate
from metareg.records.canonical import dumps
from metareg.records.serials import SerialError, parse_serial

DEFAULT_LIMIT = 100


def _table(record_type: str, prefix: str, fields: list[tuple[str, str | None, str]]) -> AefTable:
    return AefTable(
        number=0,
        record_type=record_type,
        sheet=prefix,
        title=prefix,
        columns=tuple(AefColumn(f"{prefix}{api}", field, kind) for api, field, kind in fields),
    )


T2 = _table(
    "authorization",
    "aefT2Authorizations",
    [
        ("Id", "authorization_id", TEXT),
        ("Date", "authorization_date", DATE),
        ("CooperativeApproachId", "cooperative_approach_id", TEXT),
        ("Version", "version", INTEGER),
        ("Quantity", "authorized_quantity", NUMBER),
        ("Metric", "metric", TEXT),
        ("Sector", "sectors", LIST),
        ("ActivityType", "activity_types", LIST),
        ("PurposesForAuthorization", "purposes", PURPOSES),
        ("AuthorizedPartyId", "authorized_party_ids", LIST),
        ("AuthorizedEntityId", "authorized_entity_ids", LIST),
        ("AuthorizedTimeframe", None, TIMEFRAME),
        ("AuthorizationTerms", "terms", TEXT),
        ("FirstTransferDefinitionOimp", "first_transfer_definition_oimp", TEXT),
    ],
)
_BLOCK = [
    ("CooperativeApproachId", "cooperative_approach_id", TEXT),
    ("FirstTransferringPartyId", "first_transferring_party_id", TEXT),
    ("PartyItmoRegistryId", "party_registry_id", TEXT),
    ("ItmoFirstId", "first_id", INTEGER),
    ("ItmoLastId", "last_id", INTEGER),
    ("UnitRegistryId", "underlying_registry_id", TEXT),
    ("UnitFirstId", "first_unit_id", TEXT),
    ("UnitLastId", "last_unit_id", TEXT),
    ("Metric", "metric", TEXT),
    ("QuantityTCo2", "quantity_tco2e", NUMBER),
    ("MitigationType", "mitigation_type", TEXT),
    ("VintageYear", "vintage", INTEGER),
]
T3 = _table(
    "action",
    "aefT3Actions",
    [
        ("Date", "action_date", DATE),
        ("Type", "action_type", TEXT),
        ("Subtype", "action_subtype", TEXT),
        ("AuthorizationId", "authorization_id", TEXT),
        *_BLOCK,
        ("TransferringPartyId", "transferring_party_id", TEXT),
        ("AcquiringPartyId", "acquiring_party_id", TEXT),
        ("PurposeOfUseOimp", "purpose", TEXT),
        ("UsingParticipatingPartyId", "using_party_id", TEXT),
        ("UsingAuthorizedEntityId", "using_entity_id", TEXT),
        ("ItmoUsedYear", "ndc_use_year", INTEGER),
    ],
)
T4 = _table("holding", "aefT4Holdings", list(_BLOCK))


class CadtConnector(Connector):
    kind = "cadt"

    def _sources(self) -> list[tuple[str, str]]:
        """(kind, path) in reading order: records first, holdings last."""
        sources = [("t2", "/v2/aef-t2-authorizations"), ("t3", "/v2/aef-t3-actions")]
        if self.config.option("units", False):
            sources.append(("units", "/v1/units"))
        if self.config.option("holdings", True):
            sources.append(("t4", "/v2/aef-t4-holdings"))
        return sources

    def pages(self, cursor: str | None) -> Iterator[Page]:
        state = orjson.loads(cursor) if cursor else {"t": 0, "p": 1}
        sources = self._sources()
        records_last = max(i for i, (kind, _) in enumerate(sources) if kind != "t4")
        base = str(self.config.require("url")).rstrip("/")
        limit = int(self.config.option("limit", DEFAULT_LIMIT))
        for index in range(int(state["t"]), len(sources)):
            kind, path = sources[index]
            url = f"{base}{path}"
            start = int(state["p"]) if index == int(state["t"]) else 1
            for paged in paginate(functools.partial(self._rows, url, limit), start):
                page = paged.position
                items = [
                    self._item(kind, row, f"{path} page {page} row {n}")
                    for n, row in enumerate(paged.answer.items, start=1)
                ]
                if kind == "t4":
                    scope = holdings_scope(self._as_of())
                    pass_start, pass_end = page == 1, paged.last
                else:
                    scope = SCOPE_RECORDS
                    pass_start = index == 0 and page == 1
                    pass_end = paged.last and index == records_last
                following = {"t": index + 1, "p": 1} if paged.last else {"t": index, "p": page + 1}
                done = paged.last and index == len(sources) - 1
                yield Page(
                    items,
                    None if done else orjson.dumps(following).decode(),
                    scope=scope,
                    pass_start=pass_start,
                    pass_end=pass_end,
                )

    def _rows(self, url: str, limit: int, page: int) -> Answer[int]:
        rows, page_count = _page_rows(
            fetch_json(self.http, url, {"page": page, "limit": limit}), url
        )
        return Answer(rows, page < page_count, page + 1)

    def _as_of(self) -> str:
        as_of = self.config.option("holdings_as_of")
        if as_of:
            return str(as_of)
        year = self.config.require("reported_year")
        return f"{int(year)}-12-31"

    def _item(self, kind: str, row: Any, location: str) -> Item:
        raw = dumps(row)
        if not isinstance(row, dict):
            return Item(row, raw, location, ["row is not an object"])
        try:
            record = self._record(kind, row)
        except (AefRowError, SerialError) as error:
            return Item(row, raw, location, [str(error)])
        return Item(record, raw, location)

    def _record(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        context = AefContext(self.config.party_id)
        if kind == "units":
            return self._unit(row)
        table = {"t2": T2, "t3": T3, "t4": T4}[kind]
        cells = {normalize_label(k): v for k, v in row.items()}
        record = row_to_record(table, cells, context)
        if kind == "t2":
            record.setdefault("authorizing_party_id", self.config.party_id)
        elif kind == "t3":
            record["action_id"] = str(row.get("cadTrustAefT3ActionsId") or "")
        else:
            record["as_of"] = self._as_of()
            record["account_id"] = str(self.config.option("holdings_account_id", "CADT-T4"))
            record["account_type"] = "holding"
        return record

    def _unit(self, row: dict[str, Any]) -> dict[str, Any]:
        """A v1 unit block as the Issuance of an ITMO block: the serial block's numbers
        (read by the serial parsers) are the ITMO serials, the unit's own id the action."""
        block = str(row.get("serialNumberBlock") or "")
        first_text, _, last_text = block.partition("-")
        if last_text:  # "<first serial>-<last serial>"
            first, last = parse_serial(first_text).first, parse_serial(last_text).last
        else:
            units = parse_serial(block)
            first, last = units.first, units.last
        created = str(row.get("createdAt") or "")[:10]
        record: dict[str, Any] = {
            "record_type": "action",
            "action_id": str(row.get("warehouseUnitId") or ""),
            "action_date": created,
            "action_type": "Issuance",
            "cooperative_approach_id": self.config.require("cooperative_approach_id"),
            "party_registry_id": self.config.registry_id,
            "first_transferring_party_id": self.config.party_id,
            "first_id": first,
            "last_id": last,
            "vintage": row.get("vintageYear"),
            "first_unit_id": first_text or block,
            "last_unit_id": last_text or block,
        }
        if self.config.option("underlying_registry_id"):
            record["underlying_registry_id"] = self.config.option("underlying_registry_id")
        return record


def _page_rows(body: Any, url: str) -> tuple[list[Any], int]:
    """CADT answers a bare list (one page) or `{"page", "pageCount", "data"}`."""
    if isinstance(body, list):
        return body, 1
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        count = body.get("pageCount", 1)
        if not isinstance(count, int) or count < 0:
            raise MalformedResponse("'pageCount' must be a non-negative integer", url=url)
        return body["data"], count
    raise MalformedResponse("expected a list or an object with 'data'", url=url)

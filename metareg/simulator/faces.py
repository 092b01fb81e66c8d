"""The other faces a simulated registry may show besides the exchange API, so the AEF
and CAD Trust connectors are exercised over real HTTP:

- `publishes_aef`: `GET /aef/{year}.xlsx` (and `/aef/latest.xlsx`, the last complete
  year) is the registry's Agreed Electronic Format workbook for that reported year, laid
  out by `metareg.oversight.aef` (tables 2-4: the authorizations its Party gave in the
  year, its actions dated in the year, its holdings at 31 December).
- `cadt_node`: the CAD Trust v2 AEF tables (`/v2/aef-t2-authorizations`,
  `/v2/aef-t3-actions`, `/v2/aef-t4-holdings`, `page`/`limit` pagination, CAD Trust
  `apiField` names), with the holdings of the latest snapshot.

Both show only what the registry has published by the simulated today.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response

from metareg.connectors.aef.columns import (
    ACTIONS,
    AUTHORIZATIONS,
    DATE,
    HOLDINGS,
    INTEGER,
    LIST,
    NUMBER,
    PURPOSES,
    TEXT,
    TIMEFRAME,
    AefColumn,
    AefTable,
    record_to_row,
)
from metareg.exchange.memory import page_of
from metareg.oversight.aef import XLSX_MEDIA_TYPE, AefReport, AefSheet, to_xlsx
from metareg.simulator.source import SimulatedRegistry
from metareg.simulator.world import World


def add_faces(app: FastAPI, world: World, registry: str, source: SimulatedRegistry) -> None:
    spec = world.scenario.registry(registry)
    if spec.publishes_aef:
        _add_aef(app, world, registry, source)
    if spec.cadt_node:
        _add_cadt(app, world, registry, source)


# -- the AEF workbook ------------------------------------------------------------------


def aef_report(world: World, registry: str, year: int, today: date) -> AefReport:
    party = registry[:3]
    published = [p.record for p in world.visible(registry, today)]
    authorizations = [
        r
        for r in published
        if r["record_type"] == "authorization"
        and r["authorizing_party_id"] == party
        and r["authorization_date"].startswith(str(year))
    ]
    actions = [
        r
        for r in published
        if r["record_type"] == "action" and r["action_date"].startswith(str(year))
    ]
    snapshot = world.snapshot(registry, today, as_of=date(year, 12, 31))
    holdings = list(snapshot.rows) if snapshot else []

    def sheet(table: AefTable, records: list[dict[str, Any]]) -> AefSheet:
        return AefSheet(table, table.labels(), [record_to_row(table, r) for r in records], records)

    return AefReport(
        party,
        year,
        [sheet(AUTHORIZATIONS, authorizations), sheet(ACTIONS, actions), sheet(HOLDINGS, holdings)],
    )


def _add_aef(app: FastAPI, world: World, registry: str, source: SimulatedRegistry) -> None:
    @app.get("/aef/{name}")
    def workbook(name: str) -> Response:
        today = source.clock.today()
        stem = name.removesuffix(".xlsx")
        if not name.endswith(".xlsx") or not (stem == "latest" or stem.isdigit()):
            return JSONResponse({"title": "no such workbook"}, status_code=404)
        year = today.year - 1 if stem == "latest" else int(stem)
        if not world.scenario.start.year <= year < today.year:
            return JSONResponse({"title": f"no complete reported year {year}"}, status_code=404)
        content = to_xlsx(aef_report(world, registry, year, today))
        return Response(content, media_type=XLSX_MEDIA_TYPE)


# -- the CAD Trust node ----------------------------------------------------------------


# The node writes records under the CAD Trust schema v2.0.2 apiField names; metareg reads
# them back through the `cadt` source profile (metareg/connectors/profiles/cadt.toml).
def _cadt_table(
    record_type: str, prefix: str, fields: list[tuple[str, str | None, str]]
) -> AefTable:
    return AefTable(
        number=0,
        record_type=record_type,
        sheet=prefix,
        title=prefix,
        columns=tuple(AefColumn(f"{prefix}{api}", field, kind) for api, field, kind in fields),
    )


_CADT_BLOCK = [
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
CADT_TABLES = {
    "t2": _cadt_table(
        "authorization",
        "aefT2Authorizations",
        [
            ("Id", "authorization_id", TEXT),
            ("Date", "authorization_date", DATE),
            ("CooperativeApproachId", "cooperative_approach_id", TEXT),
            ("Version", "version", INTEGER),
            ("Quantity", "authorized_quantity", NUMBER),
            ("Metric", "metric", TEXT),
            ("PurposesForAuthorization", "purposes", PURPOSES),
            ("AuthorizedPartyId", "authorized_party_ids", LIST),
            ("AuthorizedEntityId", "authorized_entity_ids", LIST),
            ("AuthorizedTimeframe", None, TIMEFRAME),
            ("AuthorizationTerms", "terms", TEXT),
            ("FirstTransferDefinitionOimp", "first_transfer_definition_oimp", TEXT),
        ],
    ),
    "t3": _cadt_table(
        "action",
        "aefT3Actions",
        [
            ("Date", "action_date", DATE),
            ("Type", "action_type", TEXT),
            ("Subtype", "action_subtype", TEXT),
            ("AuthorizationId", "authorization_id", TEXT),
            *_CADT_BLOCK,
            ("TransferringPartyId", "transferring_party_id", TEXT),
            ("AcquiringPartyId", "acquiring_party_id", TEXT),
            ("PurposeOfUseOimp", "purpose", TEXT),
            ("UsingParticipatingPartyId", "using_party_id", TEXT),
            ("UsingAuthorizedEntityId", "using_entity_id", TEXT),
            ("ItmoUsedYear", "ndc_use_year", INTEGER),
        ],
    ),
    "t4": _cadt_table("holding", "aefT4Holdings", list(_CADT_BLOCK)),
}


def cadt_row(table: AefTable, record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record under the CAD Trust apiField names of `table`."""
    row = {
        column.label: value
        for column, value in zip(table.columns, record_to_row(table, record), strict=True)
        if value is not None
    }
    if record["record_type"] == "action":
        row["cadTrustAefT3ActionsId"] = record["action_id"]
    return row


def _add_cadt(app: FastAPI, world: World, registry: str, source: SimulatedRegistry) -> None:
    tables = CADT_TABLES

    def listing(kind: str, page: int, limit: int) -> dict[str, Any]:
        today = source.clock.today()
        if kind == "t4":
            snapshot = world.snapshot(registry, today)
            records = list(snapshot.rows) if snapshot else []
        else:
            wanted = "authorization" if kind == "t2" else "action"
            records = [
                p.record
                for p in world.visible(registry, today)
                if p.record["record_type"] == wanted
            ]
        rows = [cadt_row(tables[kind], r) for r in records]
        count = max(1, math.ceil(len(rows) / limit))
        data, _, _ = page_of(rows, (page - 1) * limit, limit)
        return {"page": page, "pageCount": count, "data": data}

    def route(kind: str) -> Any:
        def endpoint(
            page: int = Query(1, ge=1), limit: int = Query(100, ge=1, le=1000)
        ) -> dict[str, Any]:
            return listing(kind, page, limit)

        return endpoint

    app.add_api_route("/v2/aef-t2-authorizations", route("t2"), methods=["GET"])
    app.add_api_route("/v2/aef-t3-actions", route("t3"), methods=["GET"])
    app.add_api_route("/v2/aef-t4-holdings", route("t4"), methods=["GET"])

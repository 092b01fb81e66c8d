"""What crediting programmes say about their units (RECORDS.md `unit_status`): totals
per programme, vintage and status, and the statuses resting on a range of a
programme's units (the lookups by underlying serial, the ITMO timeline).

A range of units is met by a status when they are the same programme
(`underlying_registry_id`) and either both parse (same batch, blocks that intersect)
or one side is a batch id no parser reads (exact equality with the other's text or
with the other's batch: metareg.detection.rules.programmes.ranges_meet says so once).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from metareg.db.tables.index import UnitStatus
from metareg.detection.passes import programmes as programme_rules
from metareg.detection.read.programmes import status_record, status_rows_meeting
from metareg.detection.rules.programmes import (
    ProgrammeUnits,
    programme_units,
    ranges_meet,
    status_units,
    units_of,
)
from metareg.detection.rules.terms import block_record
from metareg.index import query
from metareg.index.query import canonical
from metareg.records.canonical import block_text
from metareg.records.identifiers import IdentifierError, parse_itmo
from metareg.records.serials import cercarbono, gold_standard, isometric, verra

_statuses = UnitStatus


def totals(connection: Connection, programme: str | None = None) -> list[dict[str, Any]]:
    """Per programme, vintage and status: how many statuses and how many units."""
    t = _statuses
    statement = (
        select(
            t.c.underlying_registry_id,
            t.c.vintage,
            t.c.status,
            func.count(),
            func.sum(t.c.quantity),
        )
        .group_by(t.c.underlying_registry_id, t.c.vintage, t.c.status)
        .order_by(t.c.underlying_registry_id, t.c.vintage, t.c.status)
    )
    if programme is not None:
        statement = statement.where(t.c.underlying_registry_id == programme)
    return [
        {
            "programme": underlying,
            "vintage": vintage,
            "status": status,
            "records": int(count),
            "quantity": float(quantity) if quantity is not None else None,
        }
        for underlying, vintage, status, count, quantity in connection.execute(statement)
    ]


def statuses_on(connection: Connection, units: ProgrammeUnits) -> list[dict[str, Any]]:
    """The current statuses of the programme that meet these units, oldest first, each
    as its canonical record with its reporting source (`registry`)."""
    return statuses_of_rows(units, status_rows_meeting(connection, units))


def statuses_of_rows(units: ProgrammeUnits, rows: Iterable[Any]) -> list[dict[str, Any]]:
    """`statuses_on` of the rows `status_rows_meeting` read for these units: those
    that meet them, as canonical records with their `registry`."""
    out = []
    for row in rows:
        if not ranges_meet(units, status_units(status_record(row))):
            continue
        record = canonical("unit_status", row)
        record["registry"] = row.registry_id
        out.append(record)
    return out


def statuses_for(
    connection: Connection, programme: str, first_unit_id: str, last_unit_id: str | None = None
) -> list[dict[str, Any]]:
    """`statuses_on` for a programme's serial (or first and last unit ids)."""
    return statuses_on(connection, programme_units(programme, first_unit_id, last_unit_id))


# Serial shapes that name their programme (the serial parsers' own claims).
_SHAPES = (
    (verra.GRAMMAR.claims, "VCS"),
    (gold_standard.GRAMMAR.claims, "GS"),
    (cercarbono.GRAMMAR.claims, "CERCARBONO"),
    (isometric.claims, "ISOMETRIC"),
)
# APX serials begin with their programme's tag (FCPF and ISFL units are issued on ART).
_APX_TAGS = {"ACR": "ACR", "CAR": "CAR", "ART": "ART", "FCPF": "ART", "ISFL": "ART"}


def infer_programme(serial: str) -> str | None:
    """The programme a serial's shape names (a Verra, Gold Standard, APX, Cercarbono or
    Isometric serial), or None."""
    text = serial.strip()
    for claims, programme in _SHAPES:
        if claims(text):
            return programme
    return _APX_TAGS.get(text.split("-", 1)[0].upper()) if "-" in text else None


def units_view(connection: Connection, programme: str, text: str) -> dict[str, Any]:
    """Both sides of a range of units: the ITMO blocks resting on them and what the
    programme reports about them. `text` is the programme's serial (or batch id), or an
    ITMO identifier, whose block's issuances name the units (then `programme` may be
    ITMO)."""
    ranges: list[ProgrammeUnits] = []
    try:
        block = parse_itmo(text)
    except IdentifierError:
        if programme.upper() == "ITMO":
            raise
        ranges.append(programme_units(programme, text))
    else:
        found = query.intersecting(
            connection,
            block.cooperative_approach_id,
            block.party_registry_id,
            block.first_id,
            block.last_id,
            ("action",),
        )
        for item in found:
            record = item["record"]
            if (
                record.get("action_type") == "Issuance"
                and record.get("first_unit_id")
                and record.get("underlying_registry_id")
                and (programme.upper() == "ITMO" or record["underlying_registry_id"] == programme)
            ):
                ranges.append(units_of(block_record(record, item["registry"], item["record_id"])))
    blocks: dict[tuple[str, str], dict[str, Any]] = {}
    statuses: dict[tuple[str, str], dict[str, Any]] = {}
    for units in ranges:
        for issuance in programme_rules.resting_on(connection, units):
            record = {k: v for k, v in issuance._asdict().items() if v is not None}
            blocks[(issuance.registry_id, issuance.uid)] = {
                "identifier": block_text(record),
                "registry": issuance.registry_id,
                "action_id": issuance.uid,
                "action_date": issuance.action_date,
                "underlying_registry_id": issuance.underlying_registry_id,
                "first_unit_id": issuance.first_unit_id,
                "last_unit_id": issuance.last_unit_id or issuance.first_unit_id,
            }
        for status in statuses_on(connection, units):
            statuses[(status["registry"], status["status_id"])] = status
    return {
        "programme": ranges[0].programme if ranges else programme,
        "units": text,
        "itmo_blocks": [blocks[k] for k in sorted(blocks)],
        "statuses": sorted(statuses.values(), key=lambda s: (s["status_date"], s["status_id"])),
    }


def statuses_under(connection: Connection, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the programmes report about the units the ITMO issuances among `found` (as
    `index.query.intersecting` gives them) rest on: each status once, oldest first."""
    statuses: dict[tuple[str, str], dict[str, Any]] = {}
    for item in found:
        record = item["record"]
        if not (
            item["record_type"] == "action"
            and record.get("action_type") == "Issuance"
            and record.get("underlying_registry_id")
            and record.get("first_unit_id")
        ):
            continue
        block = block_record(record, item["registry"], item["record_id"])
        for status in statuses_on(connection, units_of(block)):
            statuses[(status["registry"], status["status_id"])] = status
    return sorted(
        statuses.values(), key=lambda s: (s["status_date"], s["registry"], s["status_id"])
    )

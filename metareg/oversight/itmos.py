"""Everything the index knows about a unit or block: the current records covering it,
its state derived from the action chain, every record's history with provenance
(which registry said what, when, and each correction or withdrawal), the
authorizations its actions name, and the unresolved alerts that touch it.

`GET /v1/itmos/{identifier}` is the API's hottest read, so this keeps its statements
few and prebuilt, run on the SQLite driver (`metareg.db.driver.DriverSelect`): the
covering records and every one's history come from one statement per record type,
bounded by the pair's longest block in the same statement
(`metareg.index.query.intersecting_with_history`); `histories` reads many records'
histories at once for the alert pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select

from metareg.db.driver import DriverSelect
from metareg.db.tables.index import Authorization, RecordVersion
from metareg.index import query
from metareg.index.state import derive_segments, overall_state, quantity_by_state
from metareg.oversight.alerts import unresolved_touching
from metareg.records.identifiers import is_provisional, parse_itmo

_history = RecordVersion


class NotInIndex(LookupError):
    """No current record covers the identifier; `described` is what the index knows of
    it all the same (the block the identifier names, nothing covering it)."""

    def __init__(self, described: dict[str, Any]) -> None:
        super().__init__(f"No current record of the index covers {described['identifier']}.")
        self.described = described


# Built once: every covering record's versions in one round trip. The IN lists narrow by
# the identity index (registry_id, record_type, uid); exact identities are picked after.
_HISTORIES = (
    select(*query.VERSION_COLUMNS)
    .where(
        _history.c.registry_id.in_(bindparam("registries", expanding=True)),
        _history.c.record_type.in_(bindparam("record_types", expanding=True)),
        _history.c.uid.in_(bindparam("uids", expanding=True)),
    )
    .order_by(_history.c.id)
)
# The same for the usual handful of records, with a fixed number of parameters (the
# lists padded by repeating a value): an expanding IN is rendered anew on every
# execution, which cost more than running the statement.
_REGISTRIES, _TYPES, _UIDS = 4, 2, 16
_HISTORIES_FEW = DriverSelect(
    select(*query.VERSION_COLUMNS)
    .where(
        _history.c.registry_id.in_([bindparam(f"r{n}") for n in range(_REGISTRIES)]),
        _history.c.record_type.in_([bindparam(f"t{n}") for n in range(_TYPES)]),
        _history.c.uid.in_([bindparam(f"u{n}") for n in range(_UIDS)]),
    )
    .order_by(_history.c.id)
)


def _padded(prefix: str, values: list[str], size: int) -> dict[str, str]:
    return {f"{prefix}{n}": values[min(n, len(values) - 1)] for n in range(size)}


def histories(
    connection: Connection, identities: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """(registry, record_type, uid) -> every version, oldest first, with its provenance;
    the same entries as `metareg.index.query.history` gives for each identity alone."""
    wanted: dict[tuple[str, str, str], list[dict[str, Any]]] = {i: [] for i in identities}
    if not wanted:
        return wanted
    registries = sorted({i[0] for i in wanted})
    record_types = sorted({i[1] for i in wanted})
    uids = sorted({i[2] for i in wanted})
    if len(registries) <= _REGISTRIES and len(record_types) <= _TYPES and len(uids) <= _UIDS:
        params = {
            **_padded("r", registries, _REGISTRIES),
            **_padded("t", record_types, _TYPES),
            **_padded("u", uids, _UIDS),
        }
        rows = _HISTORIES_FEW.rows(connection, params)
    else:
        rows = [
            tuple(row)
            for row in connection.execute(
                _HISTORIES,
                {"registries": registries, "record_types": record_types, "uids": uids},
            )
        ]
    for row in rows:
        versions = wanted.get(row[7:10])
        if versions is None:
            continue  # another combination of the listed registries, types and ids
        versions.append(query.version_of(row))
    return wanted


_AUTHORIZATION_IDS = 4
_AUTHORIZATIONS_FEW = query.CurrentRows(
    "authorization",
    select(Authorization)
    .where(
        Authorization.c.cooperative_approach_id == bindparam("ca"),
        Authorization.c.authorization_id.in_(
            [bindparam(f"a{n}") for n in range(_AUTHORIZATION_IDS)]
        ),
    )
    .order_by(
        Authorization.c.authorization_id, Authorization.c.version, Authorization.c.registry_id
    ),
)


def authorizations(connection: Connection, ca: str, ids: set[str]) -> list[dict[str, Any]]:
    """`metareg.index.query.authorizations`, for a few ids with a fixed number of
    parameters (as `histories`)."""
    if not ids or len(ids) > _AUTHORIZATION_IDS:
        return query.authorizations(connection, ca, ids)
    params = {"ca": ca, **_padded("a", sorted(ids), _AUTHORIZATION_IDS)}
    return _AUTHORIZATIONS_FEW.found(connection, params)


def describe_itmo(connection: Connection, identifier: str) -> dict[str, Any]:
    """The unit or block `identifier` names, as the index knows it. Raises
    `IdentifierError` for a malformed identifier, `NotInIndex` when nothing covers it."""
    block = parse_itmo(identifier)
    ca, registry = block.cooperative_approach_id, block.party_registry_id
    found = query.intersecting_with_history(connection, ca, registry, block.first_id, block.last_id)
    named = {i["record"]["authorization_id"] for i in found if i["record"].get("authorization_id")}
    segments = derive_segments(block.first_id, block.last_id, found)
    described = {
        "identifier": block.text(),
        "block": {
            "cooperative_approach_id": ca,
            "party_registry_id": registry,
            "first_transferring_party_id": block.first_transferring_party_id,
            "first_id": block.first_id,
            "last_id": block.last_id,
            "vintage": block.vintage,
            "quantity": block.quantity,
            # RECORDS.md: every output marks a provisional approach (CAP-...).
            "provisional": is_provisional(ca),
        },
        "state": {
            "state": overall_state(segments),
            "quantity_by_state": quantity_by_state(segments),
            "segments": [segment.as_dict() for segment in segments],
        },
        "records": found,
        "authorizations": authorizations(connection, ca, named),
        "alerts": unresolved_touching(connection, ca, registry, block.first_id, block.last_id),
    }
    if not found:
        raise NotInIndex(described)
    return described


def identifier_of_range(
    connection: Connection, ca: str, registry: str, first: int, last: int
) -> str:
    """The ITMO text of a block named by its range (as alerts name it): the other parts
    of the identifier come from a record covering it."""
    found = query.intersecting(connection, ca, registry, first, min(last, first + 10**12))
    if not found:
        return f"{ca}-{registry}-{registry[:3]}-{first}-{last}-0"
    record = found[0]["record"]
    return (
        f"{ca}-{registry}-{record['first_transferring_party_id']}-{first}-{last}-"
        f"{record['vintage']}"
    )

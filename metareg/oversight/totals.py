"""Totals over the whole index: by cooperative approach, vintage, state and Party.

State is derived (metareg.index.state), so totals by state need every block's
pieces. They are computed per (cooperative approach, originating registry) in one
sweep and cached in-process until the index's change sequence (the last
`record_version` id) moves, so repeated dashboard or API reads cost one tiny query.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from metareg.db.tables.index import Action, Holding, RecordVersion
from metareg.detection.read.authorizations import authorization_versions
from metareg.detection.rules.versions import Versions
from metareg.index.query import canonical
from metareg.index.state import derive_segments
from metareg.records.identifiers import is_provisional

_actions = Action
_holdings = Holding
_history = RecordVersion

_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], dict[str, Any]] = {}


def change_sequence(connection: Connection) -> int | None:
    value = connection.execute(select(func.max(_history.c.id))).scalar()
    return int(value) if value is not None else None


def _version_key(connection: Connection) -> str:
    """What identifies the index's content: the last change and when it arrived (a
    database emptied and refilled can reuse ids, not arrival times)."""
    row = connection.execute(
        select(func.max(_history.c.id), func.max(_history.c.received_at), func.count())
    ).one()
    return f"{row[0]}|{row[1]}|{row[2]}"


def _items_by_pair(connection: Connection) -> dict[tuple[str, str], list[dict[str, Any]]]:
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record_type, table in (("action", _actions), ("holding", _holdings)):
        for row in connection.execute(select(table)):
            pairs[(row.cooperative_approach_id, row.party_registry_id)].append(
                {
                    "registry": row.registry_id,
                    "record_type": record_type,
                    "record_id": row.uid,
                    "record": canonical(record_type, row),
                }
            )
    return pairs


def _add(bucket: dict[str, int], state: str, quantity: int) -> None:
    bucket[state] = bucket.get(state, 0) + quantity


def _compute(connection: Connection) -> dict[str, Any]:
    by_state: dict[str, int] = {}
    by_ca: dict[str, dict[str, int]] = defaultdict(dict)
    by_vintage: dict[int, dict[str, int]] = defaultdict(dict)
    by_party: dict[str, dict[str, int]] = defaultdict(dict)
    by_party_vintage: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    registries_of_ca: dict[str, set[str]] = defaultdict(set)
    parties_of_ca: dict[str, set[str]] = defaultdict(set)
    for (ca, registry), items in _items_by_pair(connection).items():
        registries_of_ca[ca].add(registry)
        first = min(item["record"]["first_id"] for item in items)
        last = max(item["record"]["last_id"] for item in items)
        for item in items:
            record = item["record"]
            for key in ("first_transferring_party_id", "acquiring_party_id", "using_party_id"):
                if record.get(key):
                    parties_of_ca[ca].add(record[key])
        for segment in derive_segments(first, last, items):
            if segment.state == "unknown":
                continue  # a gap between blocks: no ITMO there
            _add(by_state, segment.state, segment.quantity)
            _add(by_ca[ca], segment.state, segment.quantity)
            if segment.vintage is not None:
                _add(by_vintage[segment.vintage], segment.state, segment.quantity)
            if segment.first_transferring_party_id:
                _add(by_party[segment.first_transferring_party_id], segment.state, segment.quantity)
                if segment.vintage is not None:
                    _add(
                        by_party_vintage[(segment.first_transferring_party_id, segment.vintage)],
                        segment.state,
                        segment.quantity,
                    )
    authorized = _authorized(connection, parties_of_ca)
    approaches = sorted(set(by_ca) | set(authorized))
    return {
        "by_state": by_state,
        "by_cooperative_approach": [
            {
                "cooperative_approach_id": ca,
                "quantity_by_state": by_ca.get(ca, {}),
                # RECORDS.md: every output marks a provisional approach (CAP-...).
                "provisional": is_provisional(ca),
            }
            for ca in approaches
        ],
        "by_vintage": [
            {"vintage": vintage, "quantity_by_state": totals}
            for vintage, totals in sorted(by_vintage.items())
        ],
        "by_party": [
            {"party_id": party, "quantity_by_state": totals}
            for party, totals in sorted(by_party.items())
        ],
        "by_party_vintage": [
            {"party_id": party, "vintage": vintage, "quantity_by_state": totals}
            for (party, vintage), totals in sorted(by_party_vintage.items())
        ],
        "cooperative_approaches": [
            {
                "cooperative_approach_id": ca,
                "registries": sorted(registries_of_ca.get(ca, set())),
                "parties": sorted(parties_of_ca.get(ca, set())),
                "authorizations": authorized.get(ca, {}).get("count", 0),
                "authorized_quantity": authorized.get(ca, {}).get("quantity", 0),
                "quantity_by_state": by_ca.get(ca, {}),
                "provisional": is_provisional(ca),
            }
            for ca in approaches
        ],
    }


def _authorized(
    connection: Connection, parties_of_ca: dict[str, set[str]]
) -> dict[str, dict[str, Any]]:
    """Per cooperative approach: active authorizations and their quantity, each by its
    latest version stated by a registry acting for the authorizing Party (RECORDS.md:
    another registry's statement never counts, `detection.rules.versions`)."""
    latest = {
        key: versions.ordered[0]
        for key, found in authorization_versions(connection).items()
        if (versions := Versions.of(found))
    }
    out: dict[str, dict[str, Any]] = {}
    for (ca, _authorization_id), row in latest.items():
        parties_of_ca[ca].add(row.authorizing_party_id)
        entry = out.setdefault(ca, {"count": 0, "quantity": 0})
        if row.status != "active":
            continue
        entry["count"] += 1
        entry["quantity"] += row.authorized_quantity or 0
    return out


def index_totals(connection: Connection) -> dict[str, Any]:
    """The totals (cached until the index changes)."""
    sequence = change_sequence(connection)
    key = (str(connection.engine.url), _version_key(connection))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    totals = _compute(connection)
    totals["change_sequence"] = sequence
    with _cache_lock:
        _cache.clear()  # only the newest totals are worth keeping
        _cache[key] = totals
    return totals

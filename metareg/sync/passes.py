"""Complete listings: track what a full listing has shown, withdraw what it no longer does.

A pass for (registry, scope) opens on a page marked `pass_start`, records every identity
its pages list (in the page's own transaction: one `sync_listed` row per page and record
type, the uids a JSON array), and on the page marked `pass_end` withdraws the current
records of the scope it never listed. Scopes: `records` (actions and authorizations)
and `holdings:<as_of>` (the rows of one snapshot).

A *staged* pass (a full resync of a registry the index already holds) does not write its
pages to the index: it keeps the latest operation per identity in `sync_seen` and applies
the net result when the listing ends, in that page's transaction. Replaying a change feed
from its beginning therefore leaves every unchanged record unchanged, instead of writing
its old versions into history again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, delete, insert, select, text

from metareg.connectors.base import SCOPE_RECORDS
from metareg.db.tables.index import CURRENT_TABLES
from metareg.db.tables.sync import SyncListed, SyncPass, SyncSeen
from metareg.db.upsert import upsert, write_rows
from metareg.records.canonical import content_hash, dumps
from metareg.records.operations import Incoming, Operation, Withdrawal

_seen: Table = SyncSeen
_listed: Table = SyncListed
_pass: Table = SyncPass
CHUNK = 2_000


def _clear(connection: Connection, registry_id: str, scope: str) -> None:
    for noted in (_seen, _listed):
        connection.execute(
            delete(noted).where(noted.c.registry_id == registry_id, noted.c.scope == scope)
        )


def open_pass(
    connection: Connection, registry_id: str, scope: str, now: datetime, *, staged: bool
) -> None:
    _clear(connection, registry_id, scope)
    upsert(
        connection,
        _pass,
        [{"registry_id": registry_id, "scope": scope, "started_at": now, "staged": staged}],
        key=("registry_id", "scope"),
        update=("started_at", "staged"),
    )


def pass_mode(connection: Connection, registry_id: str, scope: str) -> str | None:
    """None (no pass open), "tracking" or "staged"."""
    found = connection.execute(
        select(_pass.c.staged).where(_pass.c.registry_id == registry_id, _pass.c.scope == scope)
    ).first()
    if found is None:
        return None
    return "staged" if found[0] else "tracking"


_SEEN_KEY = ("registry_id", "scope", "record_type", "uid")
_SEEN_STAGED = (*_SEEN_KEY, "op", "payload", "raw", "location")


def note_seen(
    connection: Connection,
    registry_id: str,
    scope: str,
    ops: list[Operation],
    *,
    staged: bool,
) -> None:
    """Record the page's identities (and, staged, their latest operation).

    Rows go to the bulk writer as tuples: a tracking pass notes every record of a
    first sync, and building a dict per record cost as much as the insert itself."""
    if staged:
        rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        for op in ops:
            incoming = isinstance(op, Incoming)
            rows[(op.record_type, op.uid)] = (  # later in the page wins
                registry_id,
                scope,
                op.record_type,
                op.uid,
                "upsert" if incoming else "withdraw",
                (op.payload or dumps(op.normal)) if isinstance(op, Incoming) else None,
                op.raw,
                op.location[:200],
            )
        write_rows(
            connection,
            _seen,
            _SEEN_STAGED,
            list(rows.values()),
            key=_SEEN_KEY,
            update=("op", "payload", "raw", "location"),
            batch_size=CHUNK,
        )
        return
    # Tracking: only the identities a record was listed under, one row per record type
    # (a row per identity, into the table and its key's index, cost a tenth of a first
    # sync). A uid listed twice is noted twice; the listing's end reads them as a set.
    listed: dict[str, list[str]] = {}
    for op in ops:
        if isinstance(op, Incoming):
            listed.setdefault(op.record_type, []).append(op.uid)
    if listed:
        connection.execute(
            insert(_listed),
            [
                {
                    "registry_id": registry_id,
                    "scope": scope,
                    "record_type": record_type,
                    "uids": orjson.dumps(uids).decode(),
                }
                for record_type, uids in listed.items()
            ],
        )


def staged_operations(connection: Connection, registry_id: str, scope: str) -> Iterator[Operation]:
    rows = connection.execute(
        select(
            _seen.c.record_type,
            _seen.c.uid,
            _seen.c.op,
            _seen.c.payload,
            _seen.c.raw,
            _seen.c.location,
        ).where(_seen.c.registry_id == registry_id, _seen.c.scope == scope)
    )
    for record_type, uid, op, payload, raw, location in rows:
        if op == "upsert" and payload is not None:
            normal = orjson.loads(payload)
            yield Incoming(
                record_type, uid, normal, content_hash(normal), raw or "", location or ""
            )
        else:
            yield Withdrawal(record_type, uid, raw or "", location or "")


# The uids a tracking pass listed (`sync_listed`), one per row, in each dialect.
_LISTED_UIDS = {
    "sqlite": "SELECT j.value FROM sync_listed AS l, json_each(l.uids) AS j",
    "postgresql": (
        "SELECT j.value FROM sync_listed AS l, jsonb_array_elements_text(l.uids::jsonb) AS j"
    ),
}


def unlisted(connection: Connection, registry_id: str, scope: str) -> list[Withdrawal]:
    """Withdrawals of the scope's current records that the finished listing never showed."""
    targets: list[tuple[str, str | None]]
    if scope == SCOPE_RECORDS:
        targets = [("action", None), ("authorization", None), ("unit_status", None)]
    else:
        targets = [("holding", scope.split(":", 1)[1])]
    listed_uids = _LISTED_UIDS[connection.dialect.name]
    withdrawals: list[Withdrawal] = []
    for record_type, as_of in targets:
        table: Table = CURRENT_TABLES[record_type]
        # Listed: noted by a tracking pass (`sync_listed`) or a staged one (`sync_seen`;
        # also a tracking pass begun before migration 0028).
        statement = (
            f"SELECT t.uid FROM {table.name} AS t WHERE t.registry_id = :registry"
            + (" AND t.as_of = :as_of" if as_of is not None else "")
            + " AND t.uid NOT IN (SELECT s.uid FROM sync_seen AS s WHERE s.registry_id ="
            " :registry AND s.scope = :scope AND s.record_type = :record_type)"
            f" AND t.uid NOT IN ({listed_uids} WHERE l.registry_id = :registry"
            " AND l.scope = :scope AND l.record_type = :record_type)"
        )
        query = text(statement)
        parameters: dict[str, object] = {
            "registry": registry_id,
            "scope": scope,
            "record_type": record_type,
        }
        if as_of is not None:
            query = query.bindparams(bindparam("as_of", type_=table.c.as_of.type))
            parameters["as_of"] = date.fromisoformat(as_of)
        for (uid,) in connection.execute(query, parameters):
            withdrawals.append(Withdrawal(record_type, uid, "", "absent from a complete listing"))
    return withdrawals


def close_pass(connection: Connection, registry_id: str, scope: str) -> None:
    _clear(connection, registry_id, scope)
    connection.execute(
        delete(_pass).where(_pass.c.registry_id == registry_id, _pass.c.scope == scope)
    )

"""Complete listings: track what a full listing has shown, withdraw what it no longer does.

A pass for (registry, scope) opens on a page marked `pass_start`, records every identity
its pages list (in the page's own transaction), and on the page marked `pass_end`
withdraws the current records of the scope it never listed. Scopes: `records` (actions
and authorizations) and `holdings:<as_of>` (the rows of one snapshot).

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
from sqlalchemy import Connection, Table, and_, delete, select

from metareg.connectors.base import SCOPE_RECORDS
from metareg.db.tables.index import CURRENT_TABLES
from metareg.db.tables.sync import SyncPass, SyncSeen
from metareg.db.upsert import upsert, write_rows
from metareg.records.canonical import content_hash, dumps
from metareg.records.operations import Incoming, Operation, Withdrawal

_seen: Table = SyncSeen
_pass: Table = SyncPass
CHUNK = 2_000


def open_pass(
    connection: Connection, registry_id: str, scope: str, now: datetime, *, staged: bool
) -> None:
    connection.execute(
        delete(_seen).where(_seen.c.registry_id == registry_id, _seen.c.scope == scope)
    )
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
# `WHERE true`: SQLite reads an ON CONFLICT after INSERT ... SELECT as a join clause
# unless the SELECT has a WHERE.
_NOTE_SEEN_SQLITE = (
    "INSERT INTO sync_seen (registry_id, scope, record_type, uid) "
    "SELECT ?, ?, value ->> 0, value ->> 1 FROM json_each(?) WHERE true "
    "ON CONFLICT (registry_id, scope, record_type, uid) DO NOTHING"
)
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
    # Tracking: only the identities a record was listed under; one row each.
    seen = {(op.record_type, op.uid) for op in ops if isinstance(op, Incoming)}
    if not seen:
        return
    if connection.dialect.name == "sqlite":
        # One statement over the page's identities as one JSON array: SQLite inserts
        # them in a single step, without Python per row and without holding the GIL,
        # so the page fetched meanwhile on the prefetch thread is prepared alongside.
        connection.exec_driver_sql(
            _NOTE_SEEN_SQLITE, (registry_id, scope, orjson.dumps(list(seen)).decode())
        )
        return
    write_rows(
        connection,
        _seen,
        _SEEN_KEY,
        [(registry_id, scope, record_type, uid) for record_type, uid in seen],
        key=_SEEN_KEY,
        update=(),
        batch_size=CHUNK,
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


def unlisted(connection: Connection, registry_id: str, scope: str) -> list[Withdrawal]:
    """Withdrawals of the scope's current records that the finished listing never showed."""
    targets: list[tuple[str, str | None]]
    if scope == SCOPE_RECORDS:
        targets = [("action", None), ("authorization", None), ("unit_status", None)]
    else:
        targets = [("holding", scope.split(":", 1)[1])]
    withdrawals: list[Withdrawal] = []
    for record_type, as_of in targets:
        table: Table = CURRENT_TABLES[record_type]
        listed = select(_seen.c.uid).where(
            _seen.c.registry_id == registry_id,
            _seen.c.scope == scope,
            _seen.c.record_type == record_type,
        )
        condition = and_(table.c.registry_id == registry_id, table.c.uid.not_in(listed))
        if as_of is not None:
            condition = and_(condition, table.c.as_of == date.fromisoformat(as_of))
        for (uid,) in connection.execute(select(table.c.uid).where(condition)):
            withdrawals.append(Withdrawal(record_type, uid, "", "absent from a complete listing"))
    return withdrawals


def close_pass(connection: Connection, registry_id: str, scope: str) -> None:
    connection.execute(
        delete(_seen).where(_seen.c.registry_id == registry_id, _seen.c.scope == scope)
    )
    connection.execute(
        delete(_pass).where(_pass.c.registry_id == registry_id, _pass.c.scope == scope)
    )

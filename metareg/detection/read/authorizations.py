"""Reading authorizations and the actions naming them, for the authorization rules.

An authorization key is (cooperative approach, authorization id); its versions are
every registry's current versions of it (with the `acts_for` of the registry: which
of them are authoritative is `rules.versions`' decision), its actions the current
actions naming it, and DC09 counts the units of its first transfers (block sizes,
summed in SQL).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, String, and_, bindparam, select

from metareg.db.driver import DriverSelect
from metareg.db.json_params import json_rows
from metareg.db.sums import UnitsSelect
from metareg.db.upsert import batched, json_text
from metareg.detection.read.blocks import execute_chunk
from metareg.detection.read.columns import (
    action_columns,
    actions,
    authorizations,
    stream,
    versions_select,
)
from metareg.detection.rules import UNNAMED_ACTIONS
from metareg.detection.rules.dc09_authorization_exceeded import COUNTED
from metareg.detection.rules.terms import AuthorizationVersion, BlockRecord
from metareg.index import first_transferred as kept_at_write
from metareg.index import query

IDENTITY_CHUNK = 500  # uids per lookup by identity

# Block sizes, summed exactly past 2**63 too (`db.sums.UnitsSelect`).
_SIZE = actions.c.last_id - actions.c.first_id + 1
# Built once: the full check sums each key's first transfers, the authorization check
# reads one key's versions per request; building these costs more than running them.
_FIRST_TRANSFERRED = UnitsSelect(
    lambda sums: select(*sums).where(
        actions.c.cooperative_approach_id == bindparam("ca"),
        actions.c.authorization_id == bindparam("aid"),
        actions.c.action_type == COUNTED,
    ),
    _SIZE,
)
_TOTALS = UnitsSelect(
    lambda sums: (
        select(actions.c.cooperative_approach_id, actions.c.authorization_id, *sums)
        .where(actions.c.action_type == COUNTED, actions.c.authorization_id.is_not(None))
        .group_by(actions.c.cooperative_approach_id, actions.c.authorization_id)
    ),
    _SIZE,
)
_VERSIONS_OF_KEY = (
    versions_select()
    .where(
        authorizations.c.cooperative_approach_id == bindparam("ca"),
        authorizations.c.authorization_id == bindparam("authorization_id"),
    )
    .order_by(authorizations.c.id)
)
_VERSIONS_OF_KEY_ROWS = DriverSelect(_VERSIONS_OF_KEY)
_VERSION_ROW = query.CurrentRows(
    "authorization",
    select(authorizations).where(
        authorizations.c.registry_id == bindparam("registry"),
        authorizations.c.uid == bindparam("uid"),
        authorizations.c.cooperative_approach_id == bindparam("ca"),
        authorizations.c.authorization_id == bindparam("authorization_id"),
    ),
)
_ACTIONS_WITH = select(*action_columns()).where(
    actions.c.registry_id == bindparam("registry"),
    actions.c.uid.in_(bindparam("uids", expanding=True)),
)


def versions_of_key(
    connection: Connection, ca: str, authorization_id: str
) -> list[AuthorizationVersion]:
    """Every registry's current version of (ca, authorization_id), in `id` order: what
    `authorization_versions(connection, [(ca, authorization_id)])` holds for it (in
    another order: the rules' choices never depend on it)."""
    params = {"ca": ca, "authorization_id": authorization_id}
    return [
        AuthorizationVersion._make(row) for row in _VERSIONS_OF_KEY_ROWS.rows(connection, params)
    ]


def version_record(connection: Connection, version: AuthorizationVersion) -> dict[str, Any] | None:
    """The current `authorization` record of one version (as `metareg.index.query.canonical`
    writes it), or None."""
    params = {
        "registry": version.registry_id,
        "uid": version.uid,
        "ca": version.cooperative_approach_id,
        "authorization_id": version.authorization_id,
    }
    row = _VERSION_ROW.select.first(connection, params)
    return None if row is None else _VERSION_ROW.canonical(row)


def authorization_versions(
    connection: Connection, keys: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str], list[AuthorizationVersion]]:
    """(ca, authorization_id) -> every registry's current versions of it."""
    statement = versions_select()
    if keys is not None:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        statement = statement.where(
            authorizations.c.authorization_id.in_(sorted({aid for _, aid in wanted}))
        )
    found: dict[tuple[str, str], list[AuthorizationVersion]] = {}
    for row in connection.execute(statement):
        record = AuthorizationVersion._make(row)
        found.setdefault((record.cooperative_approach_id, record.authorization_id), []).append(
            record
        )
    return found


def actions_naming(
    connection: Connection, ca: str, authorization_id: str | None
) -> list[BlockRecord]:
    """The actions of one authorization key (None: those naming no authorization that
    an authorization rule judges all the same)."""
    if authorization_id:
        condition = actions.c.authorization_id == authorization_id
    else:
        condition = actions.c.authorization_id.is_(None) & actions.c.action_type.in_(
            sorted(UNNAMED_ACTIONS)
        )
    statement = select(*action_columns()).where(condition, actions.c.cooperative_approach_id == ca)
    return list(stream(connection, statement))


def first_transfer_totals(connection: Connection) -> list[tuple[str, str, int]]:
    """(ca, authorization id, units first transferred under it) for every key."""
    return [(str(ca), str(aid), total) for ca, aid, total in _TOTALS.rows(connection)]


def actions_with(
    connection: Connection, identities: Iterable[tuple[str, str, str]]
) -> list[BlockRecord]:
    """The current actions among these identities (registry, "action", uid); those no
    longer current are simply absent."""
    by_registry: dict[str, list[str]] = {}
    for registry_id, record_type, uid in identities:
        if record_type == "action":
            by_registry.setdefault(registry_id, []).append(uid)
    found: list[BlockRecord] = []
    make = BlockRecord._make
    for registry_id, uids in sorted(by_registry.items()):
        for chunk in batched(sorted(set(uids)), IDENTITY_CHUNK):
            found += [
                make(row)
                for row in connection.execute(
                    _ACTIONS_WITH, {"registry": registry_id, "uids": list(chunk)}
                )
            ]
    return found


def _first_transfers_of(ca: str, authorization_id: str) -> list[Any]:
    return [
        actions.c.authorization_id == authorization_id,
        actions.c.cooperative_approach_id == ca,
        actions.c.action_type == COUNTED,
    ]


def first_transfers_from(
    connection: Connection, ca: str, authorization_id: str, since: str, *, that_day: bool = False
) -> list[BlockRecord]:
    """The first transfers under one authorization key dated `since` (ISO) or later
    ("": all of them), or only those dated `since` (`that_day`)."""
    conditions = _first_transfers_of(ca, authorization_id)
    if since:
        day = date.fromisoformat(since)
        conditions.append(
            actions.c.action_date == day if that_day else actions.c.action_date >= day
        )
    return list(stream(connection, select(*action_columns()).where(*conditions)))


def first_transferred(
    connection: Connection,
    ca: str,
    authorization_id: str,
    before: str | None = None,
    *,
    excluding: tuple[str, str, str] | None = None,
) -> int:
    """Units first transferred under one authorization key (block sizes), all of them
    or only those dated before `before` (ISO; "": none), but for the action
    `excluding` (an identity), summed in SQL; all of them as the index keeps them at
    write time where it does (`metareg.index.first_transferred.units`)."""
    if before == "":
        return 0
    if before is None and excluding is None:
        kept = kept_at_write.units(connection, ca, authorization_id)
        if kept is not None:
            return kept
        return _FIRST_TRANSFERRED.total(connection, {"ca": ca, "aid": authorization_id})
    conditions = _first_transfers_of(ca, authorization_id)
    if excluding is not None:
        conditions.append(
            ~((actions.c.registry_id == excluding[0]) & (actions.c.uid == excluding[2]))
        )
    if before is not None:
        conditions.append(actions.c.action_date < date.fromisoformat(before))
    return UnitsSelect(lambda sums: select(*sums).where(*conditions), _SIZE).total(connection)


# The incremental check's reads of a key's first transfers around the date its changes
# start from, built once (one pair of statements per changed key and check).
_DAY = bindparam("day", type_=actions.c.action_date.type)
_OF_KEY = (
    actions.c.cooperative_approach_id == bindparam("ca"),
    actions.c.authorization_id == bindparam("aid"),
    actions.c.action_type == COUNTED,
)
_FIRST_TRANSFERS_SINCE = select(*action_columns()).where(*_OF_KEY, actions.c.action_date >= _DAY)
_FIRST_TRANSFERRED_BEFORE = UnitsSelect(
    lambda sums: select(*sums).where(*_OF_KEY, actions.c.action_date < _DAY), _SIZE
)


def first_transfers_since(
    connection: Connection, ca: str, authorization_id: str, since: str
) -> list[BlockRecord]:
    """`first_transfers_from(connection, ca, authorization_id, since)`."""
    if not since:
        return first_transfers_from(connection, ca, authorization_id, since)
    params = {"ca": ca, "aid": authorization_id, "day": date.fromisoformat(since)}
    make = BlockRecord._make
    return [make(row) for row in connection.execute(_FIRST_TRANSFERS_SINCE, params)]


def _since_keys_statement(postgres: bool) -> Any:
    """The first transfers of a chunk of (ca, authorization id, day) rows given as JSON
    (`key_days`) dated that day or later: one look-up per row in the
    (ca, authorization id, action type, action date) index."""
    keys = json_rows("key_days", [("ca", String), ("aid", String), ("day", Date)], postgres)
    return (
        select(*action_columns())
        .select_from(keys)
        .join(
            actions,
            and_(
                actions.c.cooperative_approach_id == keys.c.ca,
                actions.c.authorization_id == keys.c.aid,
                actions.c.action_type == COUNTED,
                actions.c.action_date >= keys.c.day,
            ),
        )
    )


_SINCE_KEYS = {postgres: _since_keys_statement(postgres) for postgres in (False, True)}
KEY_CHUNK = 2_000  # keys per query


def first_transfers_since_keys(
    connection: Connection, wanted: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str], list[BlockRecord]]:
    """`first_transfers_since` of many keys (ca, authorization id, ISO day, not "") in a
    few statements: (ca, authorization id) -> its first transfers dated that day or
    later (every key asked for is in the answer)."""
    rows = sorted(set(wanted))
    found: dict[tuple[str, str], list[BlockRecord]] = {(ca, aid): [] for ca, aid, _ in rows}
    statement = _SINCE_KEYS[connection.dialect.name == "postgresql"]
    make = BlockRecord._make
    for chunk in batched(rows, KEY_CHUNK):
        params = {"key_days": json_text(chunk)}
        for row in execute_chunk(connection, "first transfers since", statement, params):
            record = make(row)
            found[(record.cooperative_approach_id, str(record.authorization_id))].append(record)
    return found


def first_transferred_before(
    connection: Connection, ca: str, authorization_id: str, before: str
) -> int:
    """`first_transferred(connection, ca, authorization_id, before)`."""
    if not before:
        return 0
    params = {"ca": ca, "aid": authorization_id, "day": date.fromisoformat(before)}
    return _FIRST_TRANSFERRED_BEFORE.total(connection, params)

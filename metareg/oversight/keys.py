"""API key storage: create (shown once), look up by hash, list, revoke.

A key is `mrk_` followed by 43 URL-safe characters (256 random bits). The table
keeps only its SHA-256; a presented key is hashed and matched, then compared again
with `hmac.compare_digest` so no code path compares secrets byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from metareg import log
from metareg.db.driver import DriverSelect
from metareg.db.tables.keys import ApiKey

PREFIX = "mrk_"
KEY_ROLES = ("oversight", "admin")
HINT_LENGTH = 8

_keys = ApiKey


class KeyUsageError(ValueError):
    """A key cannot be created or revoked as asked."""


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _public(row: Any) -> dict[str, Any]:
    """A key's row (by column name) as it is shown."""
    return {
        "id": row["id"],
        "name": row["name"],
        "role": row["role"],
        "hint": row["hint"],
        "created_at": row["created_at"].isoformat(),
        "revoked_at": row["revoked_at"].isoformat() if row["revoked_at"] else None,
    }


def create_key(connection: Connection, name: str, role: str) -> tuple[dict[str, Any], str]:
    """Store a new key; returns its public description and the token (never stored)."""
    if role not in KEY_ROLES:
        raise KeyUsageError(f"role must be one of {', '.join(KEY_ROLES)}, not {role!r}")
    name = name.strip()
    if not name or len(name) > 200:
        raise KeyUsageError("a key needs a name of 1 to 200 characters (who or what uses it)")
    token = PREFIX + secrets.token_urlsafe(32)
    log.register_secret(token)
    result = connection.execute(
        insert(_keys).values(
            name=name,
            role=role,
            key_hash=hash_key(token),
            hint=token[:HINT_LENGTH],
            created_at=datetime.now(UTC),
        )
    )
    key_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    row = connection.execute(select(_keys).where(_keys.c.id == key_id)).one()
    return _public(row._mapping), token


# Built once: every keyed request looks its key up, and building the select per request
# cost more than running it.
_ACTIVE_BY_HASH = DriverSelect(
    select(_keys).where(_keys.c.key_hash == bindparam("digest"), _keys.c.revoked_at.is_(None))
)


def _active_row(connection: Connection, statement: DriverSelect, token: str) -> Any:
    """The row `statement` finds for the active key with this token, by column name, or
    None (not a token of ours, unknown or revoked); the hash compared in constant time."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = hash_key(token)
    row = statement.first(connection, {"digest": digest})
    if row is None:
        return None
    found = dict(zip(statement.columns, row, strict=True))
    if not hmac.compare_digest(found["key_hash"], digest):
        return None
    return found


def find_key(connection: Connection, token: str) -> dict[str, Any] | None:
    """The active key with this token, or None (unknown or revoked)."""
    row = _active_row(connection, _ACTIVE_BY_HASH, token)
    return None if row is None else _public(row)


# What a request's access check needs of its key, without the dates `find_key` formats;
# run on the driver (`DriverSelect`): every keyed request runs it.
_CALLER_BY_HASH = DriverSelect(
    select(_keys.c.id, _keys.c.name, _keys.c.role, _keys.c.key_hash).where(
        _keys.c.key_hash == bindparam("digest"), _keys.c.revoked_at.is_(None)
    )
)


def find_caller(connection: Connection, token: str) -> tuple[int, str, str] | None:
    """(id, name, role) of the active key with this token, or None (unknown or
    revoked): `find_key` for the access check of every request, read afresh each time
    so that a revocation takes effect at once."""
    row = _active_row(connection, _CALLER_BY_HASH, token)
    return None if row is None else (row["id"], row["name"], row["role"])


_ROLE_IF_ACTIVE = select(_keys.c.role).where(
    _keys.c.id == bindparam("key_id"), _keys.c.revoked_at.is_(None)
)


def active_role(connection: Connection, key_id: int) -> str | None:
    """The role of key `key_id` while it is active; None once it is revoked (or gone).
    One primary-key read: what an open stream re-checks before each delivery."""
    role = connection.execute(_ROLE_IF_ACTIVE, {"key_id": key_id}).scalar()
    return str(role) if role is not None else None


def list_keys(connection: Connection, include_revoked: bool = False) -> list[dict[str, Any]]:
    query = select(_keys).order_by(_keys.c.id)
    if not include_revoked:
        query = query.where(_keys.c.revoked_at.is_(None))
    return [_public(row._mapping) for row in connection.execute(query)]


def revoke_key(connection: Connection, key_id: int) -> bool:
    """Revoke an active key; False when there is no such active key."""
    result = connection.execute(
        update(_keys)
        .where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(result.rowcount)

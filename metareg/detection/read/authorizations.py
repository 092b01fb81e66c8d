"""The current versions of one authorization key, from a statement built once.

`loading.authorization_versions` builds its select for each call (it serves any set of
keys); the authorization check asks for exactly one (cooperative approach,
authorization id) twice per request, where building the statement cost more than
running it. Same columns and rows, through the (ca, authorization_id) index, in `id`
order (`loading` leaves the order to the database; `choose_current` depends on it only
between two versions of one registry with the same number, which share a uid).
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from metareg.detection.read.blocks import _authorization_columns, authorizations
from metareg.detection.rules.terms import AuthRec

_VERSIONS = (
    select(*_authorization_columns())
    .where(
        authorizations.c.cooperative_approach_id == bindparam("ca"),
        authorizations.c.authorization_id == bindparam("authorization_id"),
    )
    .order_by(authorizations.c.id)
)


def authorization_versions(connection: Connection, ca: str, authorization_id: str) -> list[AuthRec]:
    """Every registry's current version of (ca, authorization_id): what
    `loading.authorization_versions(connection, [(ca, authorization_id)])` holds for it."""
    rows = connection.execute(_VERSIONS, {"ca": ca, "authorization_id": authorization_id})
    return [AuthRec._make(row) for row in rows]

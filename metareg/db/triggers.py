"""SQLite triggers that keep a derived copy in step with `actions` and `holdings`
(`metareg.index.columns`, `metareg.index.first_transferred`). A migration that
rebuilds a table in SQLite's batch mode drops its triggers; each copy asks whether its
own are all in place before it trusts what they kept."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection


def all_present(connection: Connection, names: Sequence[str]) -> bool:
    """Whether every trigger named is in the (SQLite) schema."""
    found = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
        f"AND name IN ({', '.join('?' * len(names))})",
        tuple(names),
    ).scalar()
    return found == len(set(names))

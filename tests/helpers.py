"""Small builders for canonical records used across the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BLOCK = {
    "cooperative_approach_id": "CA0001",
    "party_registry_id": "IDN01",
    "first_transferring_party_id": "IDN",
    "vintage": 2023,
}


def action(
    action_id: str, first: int, last: int, action_type: str = "Issuance", **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "record_type": "action",
        "action_id": action_id,
        "action_date": "2024-02-01",
        "action_type": action_type,
        **BLOCK,
        "first_id": first,
        "last_id": last,
    }
    record.update(extra)
    return record


def holding(
    account: str, first: int, last: int, as_of: str = "2024-12-31", **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "record_type": "holding",
        "as_of": as_of,
        "account_id": account,
        "account_type": "holding",
        **BLOCK,
        "first_id": first,
        "last_id": last,
    }
    record.update(extra)
    return record


def authorization(authorization_id: str = "IDN-2023-0001", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "record_type": "authorization",
        "authorization_id": authorization_id,
        "authorization_date": "2023-03-01",
        "authorizing_party_id": "IDN",
        "cooperative_approach_id": "CA0001",
        "authorized_quantity": 200000,
        "purposes": ["NDC"],
        "authorized_party_ids": ["JPN"],
    }
    record.update(extra)
    return record


def withdrawal(of: dict[str, Any]) -> dict[str, Any]:
    return {"record_type": "withdrawal", "of": of}


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def insert_action_copy(connection: Any, source: str, uid: str, first: int, last: int) -> None:
    """An action written with plain SQL (not through the index writer): a copy of the
    action `source` (its action_id) under another identity and range."""
    from sqlalchemy import text

    from metareg.db.tables.index import Action

    names = [c.name for c in Action.columns if c.name not in ("id", "uid", "action_id")]
    names = [n for n in names if n not in ("first_id", "last_id")]
    listed = ", ".join(names)
    connection.execute(
        text(
            f"INSERT INTO actions ({listed}, uid, action_id, first_id, last_id) "
            f"SELECT {listed}, :uid, :uid, :first, :last FROM actions WHERE action_id = :source"
        ),
        {"uid": uid, "first": first, "last": last, "source": source},
    )

"""Canonical records: their identity, their normal form and their content hash.

RECORDS.md fixes identity: an action is (registry, action_id); an authorization
(registry, authorization_id, version); a holding row (registry, as_of, account_id,
block). Within one registry that identity is folded into one string, the record's
`uid`, so that a batch of records can be looked up with a single IN query.

The content hash is taken over the normal form (defaults applied, whole-number
floats made integers, keys sorted), so "the same content again" is recognised
however a registry spells it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

DEFAULTS: dict[str, dict[str, Any]] = {
    "authorization": {"version": 1, "metric": "GHG", "status": "active"},
    "action": {"metric": "GHG"},
    "holding": {"metric": "GHG"},
    "unit_status": {"purpose": "unknown", "article6_label": "unknown"},
}

BLOCK_KEY_FIELDS = (
    "cooperative_approach_id",
    "party_registry_id",
    "first_transferring_party_id",
    "first_id",
    "last_id",
    "vintage",
)

LIST_FIELDS = frozenset(
    {"sectors", "activity_types", "purposes", "authorized_party_ids", "authorized_entity_ids"}
)
INTEGER_FIELDS = frozenset(
    {
        "first_id",
        "last_id",
        "vintage",
        "version",
        "timeframe_start",
        "timeframe_end",
        "ndc_use_year",
    }
)
NUMBER_FIELDS = frozenset({"quantity_tco2e", "authorized_quantity", "quantity"})


def block_text(record: dict[str, Any]) -> str:
    """The block form of the ITMO text identifier (DOMAIN.md section 2)."""
    return (
        f"{record['cooperative_approach_id']}-{record['party_registry_id']}-"
        f"{record['first_transferring_party_id']}-{record['first_id']}-{record['last_id']}-"
        f"{record['vintage']}"
    )


def record_uid(record: dict[str, Any]) -> str:
    """The record's identity within its reporting registry, as one string."""
    record_type = record["record_type"]
    if record_type == "action":
        return str(record["action_id"])
    if record_type == "authorization":
        return f"{record['authorization_id']}#v{record.get('version', 1)}"
    if record_type == "holding":
        return f"{record['as_of']}|{record['account_id']}|{block_text(record)}"
    if record_type == "unit_status":
        return str(record["status_id"])
    raise ValueError(f"unknown record_type {record_type!r}")


_NUMERIC_FIELDS = INTEGER_FIELDS | NUMBER_FIELDS


def normalize(record: dict[str, Any]) -> dict[str, Any]:
    """The normal form of a valid record: defaults applied, numbers in their exact type."""
    out = {**DEFAULTS[record["record_type"]], **record}
    for key in _NUMERIC_FIELDS.intersection(out):
        value = out[key]
        if isinstance(value, float) and value.is_integer():
            out[key] = int(value)
    return out


def normal_json(normal: dict[str, Any]) -> bytes:
    """The canonical JSON of a normal form (keys sorted): what the content hash covers."""
    return orjson.dumps(normal, option=orjson.OPT_SORT_KEYS)


def content_hash(normal: dict[str, Any]) -> str:
    return hashlib.sha256(normal_json(normal)).hexdigest()


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

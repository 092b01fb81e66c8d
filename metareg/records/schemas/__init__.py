"""The published contract: JSON Schemas (draft 2020-12) of the canonical records.

The files beside this module are the source of truth; code reads them, never the
other way round.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

RECORD_TYPES = ("authorization", "action", "holding", "unit_status")
# The records about ITMO blocks (the others: unit_status, a programme's view of its units).
BLOCK_RECORD_TYPES = ("authorization", "action", "holding")
WITHDRAWAL = "withdrawal"
SCHEMA_FILES = {name: f"{name}.schema.json" for name in (*RECORD_TYPES, "block", WITHDRAWAL)}


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(SCHEMA_FILES[name]).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_uri(name: str) -> str:
    return str(load_schema(name)["$id"])

"""API keys: who may call the oversight API, and with which role.

Only a SHA-256 hash of each key is stored. Keys are 256-bit random tokens, so a plain
hash is enough (no slow KDF needed: nothing to brute-force); the token itself is shown
once, when it is created, and never again.
"""

from __future__ import annotations

from sqlalchemy import Column, String, UniqueConstraint

from metareg.db.tables.base import table
from metareg.db.types import BigId, UtcDateTime

ApiKey = table(
    "api_key",
    Column("id", BigId, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # oversight | admin
    Column("key_hash", String(64), nullable=False),  # sha256 hex of the whole token
    Column("hint", String(16), nullable=False),  # the token's first characters, to tell keys apart
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    UniqueConstraint("key_hash", name="uq_api_key_hash"),
)

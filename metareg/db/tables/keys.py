"""API keys: who may call the oversight API, and with which role.

Only a SHA-256 hash of each key is stored. Keys are 256-bit random tokens, so a plain
hash is enough (no slow KDF needed: nothing to brute-force); the token itself is shown
once, when it is created, and never again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from metareg.db.types import BigId, UtcDateTime


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    __table_args__ = (UniqueConstraint("key_hash", name="uq_api_key_hash"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)  # oversight | admin
    key_hash: str = Field(max_length=64)  # sha256 hex of the whole token
    hint: str = Field(max_length=16)  # the token's first characters, to tell keys apart
    created_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

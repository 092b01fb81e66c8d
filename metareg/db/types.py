"""Column types shared by the tables, portable between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects import postgresql

# SQLite only auto-increments an "INTEGER PRIMARY KEY" (the rowid alias), PostgreSQL
# needs BIGINT for tables that may pass two billion rows (history, alert events).
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Serial numbers can pass 2**31.
Serial = BigInteger()

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
Json = JSON().with_variant(postgresql.JSONB(), "postgresql")

UtcDateTime = DateTime(timezone=True)

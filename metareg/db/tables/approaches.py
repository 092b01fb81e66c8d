"""Cooperative approaches the sources name, where the index must remember more than an id.

- `cooperative_approaches`: a provisional approach (`CAP-...`, RECORDS.md) with the
  source's own name for it and the profile that derived it, and the UNFCCC id it was
  folded into once `config/cooperative_approaches.toml` says which.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String

from metareg.db.tables.base import table

APPROACH_ID_LENGTH = 36  # CAP- and up to 32 characters (RECORDS.md)


CooperativeApproach = table(
    "cooperative_approaches",
    Column("id", String(APPROACH_ID_LENGTH), primary_key=True),
    Column("name", String(500), nullable=False, default=""),
    Column("provisional", Boolean, nullable=False, default=True),
    Column("source", String(200), nullable=False, default=""),  # the profile that derived it
    Column("folded_into", String(APPROACH_ID_LENGTH)),
)

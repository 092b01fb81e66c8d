"""Cooperative approaches the sources name, where the index must remember more than an id.

- `cooperative_approaches`: a provisional approach (`CAP-...`, RECORDS.md) with the
  source's own name for it and the profile that derived it, and the UNFCCC id it was
  folded into once `config/cooperative_approaches.toml` says which.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel

APPROACH_ID_LENGTH = 36  # CAP- and up to 32 characters (RECORDS.md)


class CooperativeApproach(SQLModel, table=True):
    __tablename__ = "cooperative_approaches"

    id: str = Field(primary_key=True, max_length=APPROACH_ID_LENGTH)
    name: str = Field(default="", max_length=500)
    provisional: bool = True
    source: str = Field(default="", max_length=200)  # the profile that derived it
    folded_into: str | None = Field(default=None, max_length=APPROACH_ID_LENGTH)

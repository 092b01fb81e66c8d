"""The tables of the unified ITMO index.

- `registry`: every participating registry metareg knows.
- `action`, `holding`, `authorization`: the *current* records, one row per identity,
  every canonical field a column so that rules and queries run in SQL.
- `record_version`: the history: every version ever received (new, correction,
  withdrawal, superseded snapshot row, stale snapshot row), with its content hash,
  the normalized payload, the raw payload verbatim, its source and when it arrived.
  Its id is the index's change sequence: incremental checks read "everything after
  the last id I saw".
- `unit_statuses`: what crediting programmes say about ranges of their own units
  (RECORDS.md `unit_status`), with each range parsed when stored
  (`unit_prefix`, `unit_first`, `unit_last`), indexed per programme for range search.
- `quarantine`: input that failed validation, kept verbatim with its reasons.
- `sync_state`: one row per registry: the committed cursor and sync health.
- `block_span`: per (cooperative approach, originating registry) the longest block
  ever stored, which bounds the range queries (see docs/architecture.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from metareg.db.tables.approaches import APPROACH_ID_LENGTH
from metareg.db.types import BigId, Json, Serial, UtcDateTime


def _serial() -> Any:
    return Field(sa_type=Serial, nullable=False)


class Registry(SQLModel, table=True):
    __tablename__ = "registry"

    id: str = Field(primary_key=True, max_length=16)
    party_id: str = Field(max_length=3, index=True)
    name: str = Field(default="", max_length=200)
    origin: str = Field(default="config", max_length=16)  # config | ingest
    created_at: datetime = Field(sa_type=UtcDateTime)
    # RECORDS.md "Who may state an authorization": the Parties besides its own that the
    # registry acts for (its `acts_for` in config/registries.toml), as detection reads it.
    acts_for: list[str] | None = Field(default=None, sa_type=Json)
    # `party` (a Party ITMO registry) or `programme` (a crediting programme's registry,
    # e.g. VCS: its id is the programme's and it belongs to no Party; party_id is "").
    kind: str = Field(default="party", max_length=12)


class BlockColumns(SQLModel):
    """The block fields of RECORDS.md, shared by actions and holdings."""

    cooperative_approach_id: str = Field(max_length=APPROACH_ID_LENGTH)
    party_registry_id: str = Field(max_length=5)
    first_transferring_party_id: str = Field(max_length=3)
    first_id: int = _serial()
    last_id: int = _serial()
    vintage: int
    metric: str = Field(default="GHG", max_length=8)
    quantity_tco2e: float | None = None
    mitigation_type: str | None = Field(default=None, max_length=40)
    sectors: list[str] | None = Field(default=None, sa_type=Json)
    activity_types: list[str] | None = Field(default=None, sa_type=Json)
    underlying_registry_id: str | None = Field(default=None, max_length=256)
    first_unit_id: str | None = Field(default=None, max_length=256)
    last_unit_id: str | None = Field(default=None, max_length=256)


class CurrentColumns(SQLModel):
    registry_id: str = Field(max_length=16)
    uid: str = Field(max_length=600)
    content_hash: str = Field(max_length=64)


# Columns of `actions` derived from the record when it is stored, never part of it:
# left out of every view of a record (metareg.index.query.canonical).
UNIT_RANGE_COLUMNS = frozenset({"underlying_prefix", "underlying_first", "underlying_last"})
# Both sides of a partial index's condition must be spelled alike for SQLite to use it:
# metareg.detection.prefilter.units queries with these very texts.
UNIT_RANGE_WHERE = "underlying_prefix IS NOT NULL"
UNIT_UNPARSED_WHERE = (
    "underlying_prefix IS NULL AND first_unit_id IS NOT NULL AND underlying_registry_id IS NOT NULL"
)


class Action(CurrentColumns, BlockColumns, table=True):
    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("registry_id", "uid", name="uq_action_identity"),
        Index("ix_action_block", "cooperative_approach_id", "party_registry_id", "first_id"),
        Index("ix_action_authorization", "authorization_id"),
        # DC09's running totals and the authorization check sum an authorization's
        # first transfers up to a date, and the full check's DC07-DC09 filters
        # (metareg.detection.prefilter.authorizations) read vintage, purpose and parties per key:
        # this index answers both without the table (migrations 0005, 0007).
        Index(
            "ix_action_authorization_chain",
            "cooperative_approach_id",
            "authorization_id",
            "action_type",
            "action_date",
            "first_id",
            "last_id",
            "vintage",
            "purpose",
            "acquiring_party_id",
            "using_party_id",
        ),
        # DC03's screened pass reads the parsed underlying units of every issuance in
        # (underlying registry, batch, first unit) order from this index alone; only
        # rows with a parsed range are in it.
        Index(
            "ix_action_unit_range",
            "underlying_registry_id",
            "underlying_prefix",
            "underlying_first",
            "underlying_last",
            sqlite_where=text(UNIT_RANGE_WHERE),
            postgresql_where=text(UNIT_RANGE_WHERE),
        ),
        # ... and the few rows with units but no parsed range (unparsable serials, or
        # not an issuance) from this one, which go to the exact check.
        Index(
            "ix_action_unit_unparsed",
            "underlying_registry_id",
            sqlite_where=text(UNIT_UNPARSED_WHERE),
            postgresql_where=text(UNIT_UNPARSED_WHERE),
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    action_id: str = Field(max_length=256)
    action_date: date
    action_type: str = Field(max_length=32)
    action_subtype: str | None = Field(default=None, max_length=256)
    authorization_id: str | None = Field(default=None, max_length=256)
    transferring_party_id: str | None = Field(default=None, max_length=3)
    acquiring_party_id: str | None = Field(default=None, max_length=3)
    purpose: str | None = Field(default=None, max_length=8)
    using_party_id: str | None = Field(default=None, max_length=3)
    using_entity_id: str | None = Field(default=None, max_length=256)
    ndc_use_year: int | None = None
    # Derived, not part of the record (metareg.index.unitrange): the parsed
    # underlying units of an issuance DC03 judges, NULL where there are none.
    underlying_prefix: str | None = Field(default=None, sa_column=Column(Text))
    underlying_first: int | None = Field(default=None, sa_type=Serial)
    underlying_last: int | None = Field(default=None, sa_type=Serial)


class Holding(CurrentColumns, BlockColumns, table=True):
    __tablename__ = "holdings"
    __table_args__ = (
        UniqueConstraint("registry_id", "uid", name="uq_holding_identity"),
        Index("ix_holding_block", "cooperative_approach_id", "party_registry_id", "first_id"),
        Index("ix_holding_snapshot", "registry_id", "as_of"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    as_of: date
    account_id: str = Field(max_length=256)
    account_type: str = Field(max_length=24)


class Authorization(CurrentColumns, table=True):
    __tablename__ = "authorizations"
    __table_args__ = (
        UniqueConstraint("registry_id", "uid", name="uq_authorization_identity"),
        Index("ix_authorization_lookup", "cooperative_approach_id", "authorization_id"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    authorization_id: str = Field(max_length=256)
    version: int = 1
    authorization_date: date
    authorizing_party_id: str = Field(max_length=3)
    cooperative_approach_id: str = Field(max_length=APPROACH_ID_LENGTH)
    authorized_quantity: float | None = None
    metric: str = Field(default="GHG", max_length=8)
    purposes: list[str] | None = Field(default=None, sa_type=Json)
    authorized_party_ids: list[str] | None = Field(default=None, sa_type=Json)
    authorized_entity_ids: list[str] | None = Field(default=None, sa_type=Json)
    timeframe_start: int | None = None
    timeframe_end: int | None = None
    first_transfer_definition_oimp: str | None = Field(default=None, max_length=40)
    terms: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="active", max_length=8)


# `unit_statuses`: the derived range columns (metareg.index.unitrange.status_columns),
# never part of the record, and the partial indexes' conditions, spelled as the
# queries spell them (metareg.detection.read.programmes).
STATUS_RANGE_COLUMNS = frozenset({"unit_prefix", "unit_first", "unit_last"})
STATUS_RANGE_WHERE = "unit_prefix IS NOT NULL"
STATUS_UNPARSED_WHERE = "unit_prefix IS NULL"


class UnitStatus(CurrentColumns, table=True):
    """RECORDS.md `unit_status`: a crediting programme's own view of a range of its units.
    `registry_id` is the reporting source (the programme source it was read from)."""

    __tablename__ = "unit_statuses"
    __table_args__ = (
        UniqueConstraint("registry_id", "uid", name="uq_unit_status_identity"),
        # Range search per programme: the statuses of one programme's batch whose
        # parsed block meets a range, in (programme, batch, first unit) order.
        Index(
            "ix_unit_status_range",
            "underlying_registry_id",
            "unit_prefix",
            "unit_first",
            "unit_last",
            sqlite_where=text(STATUS_RANGE_WHERE),
            postgresql_where=text(STATUS_RANGE_WHERE),
        ),
        # The statuses a programme rule can speak on (prefilter.programmes): retired or
        # cancelled for a purpose, and labelled, read without the whole table.
        Index("ix_unit_status_claim", "status", "purpose"),
        Index("ix_unit_status_label", "article6_label"),
        # Batch ids and serials no parser reads: matched by the exact text.
        Index(
            "ix_unit_status_text",
            "underlying_registry_id",
            "first_unit_id",
            sqlite_where=text(STATUS_UNPARSED_WHERE),
            postgresql_where=text(STATUS_UNPARSED_WHERE),
        ),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    status_id: str = Field(max_length=256)
    underlying_registry_id: str = Field(max_length=256)
    first_unit_id: str = Field(max_length=256)
    last_unit_id: str = Field(max_length=256)
    status: str = Field(max_length=12)
    status_date: date
    purpose: str = Field(default="unknown", max_length=12)
    article6_label: str = Field(default="unknown", max_length=16)
    project_id: str | None = Field(default=None, max_length=256)
    vintage: str | None = Field(default=None, max_length=64)
    quantity: float | None = None
    beneficiary: str | None = Field(default=None, sa_column=Column(Text))
    unit_prefix: str | None = Field(default=None, sa_column=Column(Text))
    unit_first: int | None = Field(default=None, sa_type=Serial)
    unit_last: int | None = Field(default=None, sa_type=Serial)


class RecordVersion(SQLModel, table=True):
    __tablename__ = "record_version"
    __table_args__ = (
        Index("ix_record_version_identity", "registry_id", "record_type", "uid", "id"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    registry_id: str = Field(max_length=16)
    record_type: str = Field(max_length=16)
    uid: str = Field(max_length=600)
    # new | correction | withdrawal | superseded | stale
    change: str = Field(max_length=12)
    content_hash: str | None = Field(default=None, max_length=64)
    payload: str | None = Field(default=None, sa_column=Column(Text))
    raw: str | None = Field(default=None, sa_column=Column(Text))
    source: str = Field(default="", max_length=1000)
    received_at: datetime = Field(sa_type=UtcDateTime)


class Quarantine(SQLModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_registry_status", "registry_id", "status"),
        # The same bad input from the same place is quarantined once, however often read.
        UniqueConstraint("fingerprint", name="uq_quarantine_fingerprint"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    fingerprint: str = Field(max_length=64)
    registry_id: str = Field(max_length=16)
    source: str = Field(default="", max_length=1000)
    location: str = Field(default="", max_length=200)
    raw: str = Field(sa_column=Column(Text, nullable=False))
    reasons: list[dict[str, str]] = Field(sa_type=Json)
    # unreviewed | reviewed (dismissed with a note) | reprocessed (now in the index)
    status: str = Field(default="unreviewed", max_length=12)
    received_at: datetime = Field(sa_type=UtcDateTime)
    # What `metareg quarantine reprocess` needs to map the row again with the current
    # profile: {"profile", "params", "table", "cells", "values"}; None for canonical input.
    origin: dict[str, Any] | None = Field(default=None, sa_type=Json)
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    note: str | None = Field(default=None, sa_column=Column(Text))


class SyncState(SQLModel, table=True):
    __tablename__ = "sync_state"

    registry_id: str = Field(primary_key=True, max_length=16)
    cursor: str | None = Field(default=None, sa_column=Column(Text))
    cursor_updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    records_received: int = Field(default=0, sa_type=Serial)
    records_quarantined: int = Field(default=0, sa_type=Serial)
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # The class of the last failure (`connectors.errors.ErrorClass`), None after a success.
    last_error_kind: str | None = Field(default=None, max_length=32)
    lag_seconds: float | None = None
    # The registry's configured staleness limit when it was last synced: the checks
    # judge SY01 with it (they do not read the configuration).
    staleness_limit_seconds: float | None = None
    # The largest share of one page's items the last sync quarantined (0..1); above the
    # registry's quarantine_alert_share its health is `quarantining`, not `ok`.
    last_quarantine_share: float | None = None


class BlockSpan(SQLModel, table=True):
    __tablename__ = "block_span"

    cooperative_approach_id: str = Field(primary_key=True, max_length=APPROACH_ID_LENGTH)
    party_registry_id: str = Field(primary_key=True, max_length=5)
    max_span: int = Field(sa_type=Serial)


CURRENT_TABLES = {
    "action": Action,
    "holding": Holding,
    "authorization": Authorization,
    "unit_status": UnitStatus,
}

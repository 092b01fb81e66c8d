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

from sqlalchemy import (
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from metareg.db.tables.approaches import APPROACH_ID_LENGTH
from metareg.db.tables.base import partial_index, table
from metareg.db.types import BigId, Json, Serial, UtcDateTime

Registry = table(
    "registry",
    Column("id", String(16), primary_key=True),
    Column("party_id", String(3), nullable=False, index=True),
    Column("name", String(200), nullable=False, default=""),
    Column("origin", String(16), nullable=False, default="config"),  # config | ingest
    Column("created_at", UtcDateTime, nullable=False),
    # RECORDS.md "Who may state an authorization": the Parties besides its own that the
    # registry acts for (its `acts_for` in config/registries.toml), as detection reads it.
    Column("acts_for", Json),
    # `party` (a Party ITMO registry) or `programme` (a crediting programme's registry,
    # e.g. VCS: its id is the programme's and it belongs to no Party; party_id is "").
    Column("kind", String(12), nullable=False, default="party"),
)


def _block_columns() -> list[Column[object]]:
    """The block fields of RECORDS.md, shared by actions and holdings."""
    return [
        Column("cooperative_approach_id", String(APPROACH_ID_LENGTH), nullable=False),
        Column("party_registry_id", String(5), nullable=False),
        Column("first_transferring_party_id", String(3), nullable=False),
        Column("first_id", Serial, nullable=False),
        Column("last_id", Serial, nullable=False),
        Column("vintage", Integer, nullable=False),
        Column("metric", String(8), nullable=False, default="GHG"),
        Column("quantity_tco2e", Float),
        Column("mitigation_type", String(40)),
        Column("sectors", Json),
        Column("activity_types", Json),
        Column("underlying_registry_id", String(256)),
        Column("first_unit_id", String(256)),
        Column("last_unit_id", String(256)),
    ]


def _current_columns() -> list[Column[object]]:
    """The identity of a current record: its registry, uid and content hash."""
    return [
        Column("registry_id", String(16), nullable=False),
        Column("uid", String(600), nullable=False),
        Column("content_hash", String(64), nullable=False),
    ]


# Columns of `actions` derived from the record when it is stored, never part of it:
# left out of every view of a record (metareg.index.query.canonical).
UNIT_RANGE_COLUMNS = frozenset({"underlying_prefix", "underlying_first", "underlying_last"})
# Both sides of a partial index's condition must be spelled alike for SQLite to use it:
# metareg.detection.prefilter.units queries with these very texts.
UNIT_RANGE_WHERE = "underlying_prefix IS NOT NULL"
UNIT_UNPARSED_WHERE = (
    "underlying_prefix IS NULL AND first_unit_id IS NOT NULL AND underlying_registry_id IS NOT NULL"
)

Action = table(
    "actions",
    *_block_columns(),
    *_current_columns(),
    Column("id", BigId, primary_key=True),
    Column("action_id", String(256), nullable=False),
    Column("action_date", Date, nullable=False),
    Column("action_type", String(32), nullable=False),
    Column("action_subtype", String(256)),
    Column("authorization_id", String(256)),
    Column("transferring_party_id", String(3)),
    Column("acquiring_party_id", String(3)),
    Column("purpose", String(8)),
    Column("using_party_id", String(3)),
    Column("using_entity_id", String(256)),
    Column("ndc_use_year", Integer),
    # Derived, not part of the record (metareg.index.unitrange): the parsed
    # underlying units of an issuance DC03 judges, NULL where there are none.
    Column("underlying_prefix", Text),
    Column("underlying_first", Serial),
    Column("underlying_last", Serial),
    UniqueConstraint("registry_id", "uid", name="uq_action_identity"),
    # A block's range in the index itself (migration 0026): a range read tests
    # `last_id` on the entry, and the incremental check's hulls need no row.
    Index("ix_action_block", "cooperative_approach_id", "party_registry_id", "first_id", "last_id"),
    Index("ix_action_authorization", "authorization_id"),
    # DC09's running totals and the authorization check sum an authorization's
    # first transfers up to a date, and the full check's DC07-DC09 filters
    # (metareg.detection.prefilter.authorizations) select the ids of the actions of a
    # key by vintage, purpose and parties: this index answers both without the table
    # (migrations 0005, 0007; the id on PostgreSQL, 0023: SQLite's indexes hold it).
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
        postgresql_include=["id"],
    ),
    # DC03's screened pass reads the parsed underlying units of every issuance in
    # (underlying registry, batch, first unit) order from this index alone (with the
    # row id: PostgreSQL includes it, 0024); only rows with a parsed range are in it.
    partial_index(
        "ix_action_unit_range",
        "underlying_registry_id",
        "underlying_prefix",
        "underlying_first",
        "underlying_last",
        where=UNIT_RANGE_WHERE,
        postgresql_include=["id"],
    ),
    # ... and the few rows with units but no parsed range (unparsable serials, or
    # not an issuance) from this one, which go to the exact check.
    partial_index(
        "ix_action_unit_unparsed",
        "underlying_registry_id",
        where=UNIT_UNPARSED_WHERE,
    ),
)

Holding = table(
    "holdings",
    *_block_columns(),
    *_current_columns(),
    Column("id", BigId, primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("account_id", String(256), nullable=False),
    Column("account_type", String(24), nullable=False),
    UniqueConstraint("registry_id", "uid", name="uq_holding_identity"),
    Index(
        "ix_holding_block", "cooperative_approach_id", "party_registry_id", "first_id", "last_id"
    ),
    Index("ix_holding_snapshot", "registry_id", "as_of"),
)

Authorization = table(
    "authorizations",
    *_current_columns(),
    Column("id", BigId, primary_key=True),
    Column("authorization_id", String(256), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("authorization_date", Date, nullable=False),
    Column("authorizing_party_id", String(3), nullable=False),
    Column("cooperative_approach_id", String(APPROACH_ID_LENGTH), nullable=False),
    Column("authorized_quantity", Float),
    Column("metric", String(8), nullable=False, default="GHG"),
    Column("purposes", Json),
    Column("authorized_party_ids", Json),
    Column("authorized_entity_ids", Json),
    Column("timeframe_start", Integer),
    Column("timeframe_end", Integer),
    Column("first_transfer_definition_oimp", String(40)),
    Column("terms", Text),
    Column("status", String(8), nullable=False, default="active"),
    UniqueConstraint("registry_id", "uid", name="uq_authorization_identity"),
    Index("ix_authorization_lookup", "cooperative_approach_id", "authorization_id"),
)

# `unit_statuses`: the derived range columns (metareg.index.unitrange.status_columns),
# never part of the record, and the partial indexes' conditions, spelled as the
# queries spell them (metareg.detection.read.programmes).
STATUS_RANGE_COLUMNS = frozenset({"unit_prefix", "unit_first", "unit_last"})
STATUS_RANGE_WHERE = "unit_prefix IS NOT NULL"
STATUS_UNPARSED_WHERE = "unit_prefix IS NULL"

# RECORDS.md `unit_status`: a crediting programme's own view of a range of its units.
# `registry_id` is the reporting source (the programme source it was read from).
UnitStatus = table(
    "unit_statuses",
    *_current_columns(),
    Column("id", BigId, primary_key=True),
    Column("status_id", String(256), nullable=False),
    Column("underlying_registry_id", String(256), nullable=False),
    Column("first_unit_id", String(256), nullable=False),
    Column("last_unit_id", String(256), nullable=False),
    Column("status", String(12), nullable=False),
    Column("status_date", Date, nullable=False),
    Column("purpose", String(12), nullable=False, default="unknown"),
    Column("article6_label", String(16), nullable=False, default="unknown"),
    Column("project_id", String(256)),
    Column("vintage", String(64)),
    Column("quantity", Float),
    Column("beneficiary", Text),
    Column("unit_prefix", Text),
    Column("unit_first", Serial),
    Column("unit_last", Serial),
    UniqueConstraint("registry_id", "uid", name="uq_unit_status_identity"),
    # Range search per programme: the statuses of one programme's batch whose
    # parsed block meets a range, in (programme, batch, first unit) order.
    partial_index(
        "ix_unit_status_range",
        "underlying_registry_id",
        "unit_prefix",
        "unit_first",
        "unit_last",
        where=STATUS_RANGE_WHERE,
    ),
    # The statuses a programme rule can speak on (prefilter.programmes): retired or
    # cancelled for a purpose, and labelled, read without the whole table.
    Index("ix_unit_status_claim", "status", "purpose"),
    Index("ix_unit_status_label", "article6_label"),
    # Batch ids and serials no parser reads: matched by the exact text.
    partial_index(
        "ix_unit_status_text",
        "underlying_registry_id",
        "first_unit_id",
        where=STATUS_UNPARSED_WHERE,
    ),
)

RecordVersion = table(
    "record_version",
    Column("id", BigId, primary_key=True),
    Column("registry_id", String(16), nullable=False),
    Column("record_type", String(16), nullable=False),
    Column("uid", String(600), nullable=False),
    # new | correction | withdrawal | superseded | stale
    Column("change", String(12), nullable=False),
    Column("content_hash", String(64)),
    Column("payload", Text),
    Column("raw", Text),
    Column("source", String(1000), nullable=False, default=""),
    Column("received_at", UtcDateTime, nullable=False),
    Index("ix_record_version_identity", "registry_id", "record_type", "uid", "id"),
)

Quarantine = table(
    "quarantine",
    Column("id", BigId, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("registry_id", String(16), nullable=False),
    Column("source", String(1000), nullable=False, default=""),
    Column("location", String(200), nullable=False, default=""),
    Column("raw", Text, nullable=False),
    Column("reasons", Json, nullable=False),
    # unreviewed | reviewed (dismissed with a note) | reprocessed (now in the index)
    Column("status", String(12), nullable=False, default="unreviewed"),
    Column("received_at", UtcDateTime, nullable=False),
    # What `metareg quarantine reprocess` needs to map the row again with the current
    # profile: {"profile", "params", "table", "cells", "values"}; None for canonical input.
    Column("origin", Json),
    Column("reviewed_by", String(200)),
    Column("reviewed_at", UtcDateTime),
    Column("note", Text),
    Index("ix_quarantine_registry_status", "registry_id", "status"),
    # The same bad input from the same place is quarantined once, however often read.
    UniqueConstraint("fingerprint", name="uq_quarantine_fingerprint"),
)

SyncState = table(
    "sync_state",
    Column("registry_id", String(16), primary_key=True),
    Column("cursor", Text),
    Column("cursor_updated_at", UtcDateTime),
    Column("last_attempt_at", UtcDateTime),
    Column("last_success_at", UtcDateTime),
    Column("records_received", Serial, nullable=False, default=0),
    Column("records_quarantined", Serial, nullable=False, default=0),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    # The class of the last failure (`connectors.errors.ErrorClass`), None after a success.
    Column("last_error_kind", String(32)),
    Column("lag_seconds", Float),
    # The registry's configured staleness limit when it was last synced: the checks
    # judge SY01 with it (they do not read the configuration).
    Column("staleness_limit_seconds", Float),
    # The largest share of one page's items the last sync quarantined (0..1); above the
    # registry's quarantine_alert_share its health is `quarantining`, not `ok`.
    Column("last_quarantine_share", Float),
)

BlockSpan = table(
    "block_span",
    Column("cooperative_approach_id", String(APPROACH_ID_LENGTH), primary_key=True),
    Column("party_registry_id", String(5), primary_key=True),
    Column("max_span", Serial, nullable=False),
)

CURRENT_TABLES = {
    "action": Action,
    "holding": Holding,
    "authorization": Authorization,
    "unit_status": UnitStatus,
}

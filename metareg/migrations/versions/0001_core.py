"""core index tables

Revision ID: 0001_core
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("cooperative_approach_id", sa.String(length=6), nullable=False),
        sa.Column("party_registry_id", sa.String(length=5), nullable=False),
        sa.Column("first_transferring_party_id", sa.String(length=3), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column("quantity_tco2e", sa.Float(), nullable=True),
        sa.Column("mitigation_type", sa.String(length=40), nullable=True),
        sa.Column(
            "sectors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "activity_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("underlying_registry_id", sa.String(length=256), nullable=True),
        sa.Column("first_unit_id", sa.String(length=256), nullable=True),
        sa.Column("last_unit_id", sa.String(length=256), nullable=True),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=600), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_id", sa.String(length=256), nullable=False),
        sa.Column("action_date", sa.Date(), nullable=False),
        sa.Column("action_type", sa.String(length=32), nullable=False),
        sa.Column("action_subtype", sa.String(length=256), nullable=True),
        sa.Column("authorization_id", sa.String(length=256), nullable=True),
        sa.Column("transferring_party_id", sa.String(length=3), nullable=True),
        sa.Column("acquiring_party_id", sa.String(length=3), nullable=True),
        sa.Column("purpose", sa.String(length=8), nullable=True),
        sa.Column("using_party_id", sa.String(length=3), nullable=True),
        sa.Column("using_entity_id", sa.String(length=256), nullable=True),
        sa.Column("ndc_use_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registry_id", "uid", name="uq_action_identity"),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index("ix_action_authorization", ["authorization_id"], unique=False)
        batch_op.create_index(
            "ix_action_block",
            ["cooperative_approach_id", "party_registry_id", "first_id"],
            unique=False,
        )

    op.create_table(
        "authorizations",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=600), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("authorization_id", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("authorization_date", sa.Date(), nullable=False),
        sa.Column("authorizing_party_id", sa.String(length=3), nullable=False),
        sa.Column("cooperative_approach_id", sa.String(length=6), nullable=False),
        sa.Column("authorized_quantity", sa.Float(), nullable=True),
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column(
            "purposes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "authorized_party_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "authorized_entity_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("timeframe_start", sa.Integer(), nullable=True),
        sa.Column("timeframe_end", sa.Integer(), nullable=True),
        sa.Column("first_transfer_definition_oimp", sa.String(length=40), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registry_id", "uid", name="uq_authorization_identity"),
    )
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_authorization_lookup", ["cooperative_approach_id", "authorization_id"], unique=False
        )

    op.create_table(
        "block_span",
        sa.Column("cooperative_approach_id", sa.String(length=6), nullable=False),
        sa.Column("party_registry_id", sa.String(length=5), nullable=False),
        sa.Column("max_span", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cooperative_approach_id", "party_registry_id"),
    )
    op.create_table(
        "holdings",
        sa.Column("cooperative_approach_id", sa.String(length=6), nullable=False),
        sa.Column("party_registry_id", sa.String(length=5), nullable=False),
        sa.Column("first_transferring_party_id", sa.String(length=3), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column("quantity_tco2e", sa.Float(), nullable=True),
        sa.Column("mitigation_type", sa.String(length=40), nullable=True),
        sa.Column(
            "sectors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "activity_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("underlying_registry_id", sa.String(length=256), nullable=True),
        sa.Column("first_unit_id", sa.String(length=256), nullable=True),
        sa.Column("last_unit_id", sa.String(length=256), nullable=True),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=600), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(length=256), nullable=False),
        sa.Column("account_type", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registry_id", "uid", name="uq_holding_identity"),
    )
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_holding_block",
            ["cooperative_approach_id", "party_registry_id", "first_id"],
            unique=False,
        )
        batch_op.create_index("ix_holding_snapshot", ["registry_id", "as_of"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint", name="uq_quarantine_fingerprint"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quarantine_registry_status", ["registry_id", "status"], unique=False
        )

    op.create_table(
        "record_version",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=600), nullable=False),
        sa.Column("change", sa.String(length=12), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_version_identity", ["registry_id", "record_type", "uid", "id"], unique=False
        )

    op.create_table(
        "registry",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("registry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_party_id"), ["party_id"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("cursor_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_received", sa.BigInteger(), nullable=False),
        sa.Column("records_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("registry_id"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    with op.batch_alter_table("registry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_party_id"))

    op.drop_table("registry")
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.drop_index("ix_record_version_identity")

    op.drop_table("record_version")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_registry_status")

    op.drop_table("quarantine")
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.drop_index("ix_holding_snapshot")
        batch_op.drop_index("ix_holding_block")

    op.drop_table("holdings")
    op.drop_table("block_span")
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorization_lookup")

    op.drop_table("authorizations")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_action_block")
        batch_op.drop_index("ix_action_authorization")

    op.drop_table("actions")

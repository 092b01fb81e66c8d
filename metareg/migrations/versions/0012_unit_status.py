"""unit_statuses and registry.kind: what crediting programmes say about their units

RECORDS.md `unit_status`: a programme's registry (Verra, Gold Standard, ACR, CAR, ART,
Cercarbono, Isometric, ...) reports ranges of its own units issued, retired,
cancelled, in a buffer or transferred, with the purpose of a retirement and its own
Article 6 label. The current records live in `unit_statuses` (history in
`record_version` like every record), each range parsed when stored by the serial
parsers (`unit_prefix`, `unit_first`, `unit_last`; NULL for a batch id no parser
reads) and indexed per programme for range search. A programme's registry is a row
of `registry` with `kind = 'programme'` and no Party.

Revision ID: 0012_unit_status
Revises: 0010_registry_acts_for
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_unit_status"
down_revision = "0010_registry_acts_for"
branch_labels = None
depends_on = None

RANGE_WHERE = "unit_prefix IS NOT NULL"
UNPARSED_WHERE = "unit_prefix IS NULL"


def upgrade() -> None:
    op.add_column(
        "registry",
        sa.Column("kind", sa.String(length=12), nullable=False, server_default="party"),
    )
    op.create_table(
        "unit_statuses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=600), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status_id", sa.String(length=256), nullable=False),
        sa.Column("underlying_registry_id", sa.String(length=256), nullable=False),
        sa.Column("first_unit_id", sa.String(length=256), nullable=False),
        sa.Column("last_unit_id", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("article6_label", sa.String(length=16), nullable=False),
        sa.Column("project_id", sa.String(length=256), nullable=True),
        sa.Column("vintage", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("beneficiary", sa.Text(), nullable=True),
        sa.Column("unit_prefix", sa.Text(), nullable=True),
        sa.Column("unit_first", sa.BigInteger(), nullable=True),
        sa.Column("unit_last", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("registry_id", "uid", name="uq_unit_status_identity"),
    )
    op.create_index(
        "ix_unit_status_range",
        "unit_statuses",
        ["underlying_registry_id", "unit_prefix", "unit_first", "unit_last"],
        sqlite_where=sa.text(RANGE_WHERE),
        postgresql_where=sa.text(RANGE_WHERE),
    )
    op.create_index("ix_unit_status_claim", "unit_statuses", ["status", "purpose"])
    op.create_index("ix_unit_status_label", "unit_statuses", ["article6_label"])
    op.create_index(
        "ix_unit_status_text",
        "unit_statuses",
        ["underlying_registry_id", "first_unit_id"],
        sqlite_where=sa.text(UNPARSED_WHERE),
        postgresql_where=sa.text(UNPARSED_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_unit_status_text", table_name="unit_statuses")
    op.drop_index("ix_unit_status_label", table_name="unit_statuses")
    op.drop_index("ix_unit_status_claim", table_name="unit_statuses")
    op.drop_index("ix_unit_status_range", table_name="unit_statuses")
    op.drop_table("unit_statuses")
    with op.batch_alter_table("registry") as batch:
        batch.drop_column("kind")

"""registry.acts_for and detection_state.acts_for: who may state an authorization

RECORDS.md: a registry is authoritative for the Party whose alpha-3 code begins its id
and for the Parties of its `acts_for` entry in config/registries.toml (the
international registry, a shared CAD Trust node). Detection reads that list from the
index (`registry.acts_for`); each check keeps the lists it judged by
(`detection_state.acts_for`), so the next incremental check knows whose
authorizations to judge again when one changes.

Revision ID: 0010_registry_acts_for
Revises: 0008_cooperative_approaches
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_registry_acts_for"
# Both tables exist from 0002_alerts on; 0008 continues that branch.
down_revision = "0008_cooperative_approaches"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("registry", sa.Column("acts_for", _json(), nullable=True))
    op.add_column("detection_state", sa.Column("acts_for", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detection_state") as batch:
        batch.drop_column("acts_for")
    with op.batch_alter_table("registry") as batch:
        batch.drop_column("acts_for")

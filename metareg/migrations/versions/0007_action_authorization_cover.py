"""Cover the authorization rules with the authorization chain index.

The full check's DC07-DC09 pass (`metareg.detection.authscreen`) filters the actions
of each authorization key on vintage, purpose and the acquiring and using parties;
with those columns in the index the filters read only the index (the table only for
the few rows they return). The index keeps its name and its leading columns, so the
DC09 sums it already answered (first transfers of a key up to a date) still run on
it, covering.

Revision ID: 0007_action_authorization_cover
Revises: 0005_action_authorization_chain
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0007_action_authorization_cover"
# It replaces the index 0005 created, so it continues 0005's branch rather than
# starting one from 0001_core. Not `depends_on`: a revision that is only depended on
# stays a head of the scripts but never appears among the applied heads, so
# `migrate.is_current` (applied == heads) would never be true again.
down_revision = "0005_action_authorization_chain"
branch_labels = None
depends_on = None

NAME = "ix_action_authorization_chain"
CHAIN = [
    "cooperative_approach_id",
    "authorization_id",
    "action_type",
    "action_date",
    "first_id",
    "last_id",
]
COVER = [*CHAIN, "vintage", "purpose", "acquiring_party_id", "using_party_id"]


def upgrade() -> None:
    op.drop_index(NAME, table_name="actions", if_exists=True)
    op.create_index(NAME, "actions", COVER)


def downgrade() -> None:
    op.drop_index(NAME, table_name="actions")
    op.create_index(NAME, "actions", CHAIN)

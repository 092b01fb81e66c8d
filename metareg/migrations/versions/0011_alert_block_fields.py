"""alert.vintage and alert.first_transferring_party_id; holdings' evidence identity
without `as_of`

RULES.md: an alert carries the `vintage` and `first_transferring_party_id` of its
range (with the range they give its `identifier`, the ITMO text form), and its
fingerprint leaves a holding's `as_of` out of its evidence identity.

Backfill: each alert on a block takes the two fields from the first of its evidence
records still in the index (an action or a holding); each alert naming a holding gets
its new fingerprint (its id, which feeds and webhooks already published, stays). Where
two alerts of older snapshots now share a fingerprint, the one seen last takes it and
the others keep theirs (they stay as they are, resolved or not, and a check never
finds them again).

Revision ID: 0011_alert_block_fields
Revises: 0012_unit_status
Create Date: 2026-12-04
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011_alert_block_fields"
# The alert table's branch (0002_alerts ... 0008, 0010, 0012); the others have heads of
# their own.
down_revision = "0012_unit_status"
branch_labels = None
depends_on = None


def _fingerprint(rule: str, evidence: list[dict[str, str]]) -> str:
    """metareg.findings.fingerprint as of this revision (a migration keeps its own)."""
    items = []
    for entry in evidence:
        record_id = entry["record_id"]
        if entry["record_type"] == "holding" and "|" in record_id:
            record_id = record_id.split("|", 1)[1]
        items.append("\x1f".join((entry["registry"], entry["record_type"], record_id)))
    return hashlib.sha256("\x1e".join([rule, *sorted(items)]).encode()).hexdigest()


def _evidence(value: Any) -> list[dict[str, str]]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def upgrade() -> None:
    op.add_column("alert", sa.Column("vintage", sa.Integer(), nullable=True))
    op.add_column(
        "alert", sa.Column("first_transferring_party_id", sa.String(length=3), nullable=True)
    )
    connection = op.get_bind()
    alert = sa.table(
        "alert",
        sa.column("id", sa.String),
        sa.column("fingerprint", sa.String),
        sa.column("rule", sa.String),
        sa.column("first_id", sa.BigInteger),
        sa.column("evidence", sa.JSON),
        sa.column("last_seen", sa.DateTime),
        sa.column("vintage", sa.Integer),
        sa.column("first_transferring_party_id", sa.String),
    )
    tables = {
        kind: sa.table(
            name,
            sa.column("registry_id", sa.String),
            sa.column("uid", sa.String),
            sa.column("vintage", sa.Integer),
            sa.column("first_transferring_party_id", sa.String),
        )
        for kind, name in (("action", "actions"), ("holding", "holdings"))
    }
    rows = connection.execute(
        sa.select(
            alert.c.id, alert.c.fingerprint, alert.c.rule, alert.c.first_id, alert.c.evidence
        ).order_by(alert.c.last_seen.desc(), alert.c.id)
    ).all()
    taken = {row.fingerprint for row in rows}
    for row in rows:
        evidence = _evidence(row.evidence)
        values: dict[str, Any] = {}
        if row.first_id is not None:
            for entry in evidence:
                table = tables.get(entry.get("record_type", ""))
                if table is None:
                    continue
                found = connection.execute(
                    sa.select(table.c.vintage, table.c.first_transferring_party_id).where(
                        table.c.registry_id == entry["registry"],
                        table.c.uid == entry["record_id"],
                    )
                ).first()
                if found is not None:
                    values = {"vintage": found[0], "first_transferring_party_id": found[1]}
                    break
        if any(entry.get("record_type") == "holding" for entry in evidence):
            new = _fingerprint(row.rule, evidence)
            if new != row.fingerprint and new not in taken:
                taken.add(new)
                values["fingerprint"] = new
        if values:
            connection.execute(sa.update(alert).where(alert.c.id == row.id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("first_transferring_party_id")
        batch.drop_column("vintage")

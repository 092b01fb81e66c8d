"""Withdrawals held back: what a complete listing would have withdrawn beyond the
registry's allowed share (`metareg.sync.holds`, SY04), and an admin's confirmation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from metareg.checks.runner import run_checks
from metareg.sync import holds


class NothingHeld(LookupError):
    """The registry has no withdrawals held back."""


def held(connection: Connection, registry_id: str | None = None) -> list[dict[str, Any]]:
    return [hold.as_dict() for hold in holds.pending(connection, registry_id)]


def confirm(engine: Engine, registry_id: str, *, by: str) -> dict[str, Any]:
    """Apply the registry's held withdrawals, then run the checks (SY04 resolves and
    detection judges the withdrawals)."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        waiting = holds.pending(connection, registry_id)
        if not waiting:
            raise NothingHeld(f"{registry_id} has no withdrawals held back")
        counts = holds.confirm(connection, registry_id, by=by, now=now)
    run_checks(engine)
    return {
        "registry_id": registry_id,
        "scopes": [hold.scope for hold in waiting],
        "withdrawn": counts.withdrawn,
    }

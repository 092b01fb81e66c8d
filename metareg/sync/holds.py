"""Held withdrawals: a complete listing may not withdraw most of a registry at once.

RECORDS.md: a record absent from a complete listing is withdrawn. A registry that lies
(an empty "complete" listing after a cursor reset, a page of holes, a wrong endpoint
answering `[]`) would thereby withdraw everything it ever reported, with the sync
reporting success. So when a listing ends, the withdrawals its absences imply are
judged against the scope's current records:

- at most `max_withdrawal_share` of them (default 0.5): applied, as always;
- more: held back in `sync_withdrawal_hold`, in the same transaction as the page that
  ended the listing (the rest of the listing is applied), and the checks raise SY04;
- applied after all when an admin confirms them (`metareg sync confirm REGISTRY`, or
  `POST /v1/registries/{id}/withdrawals/confirm`), or when the registry repeats the
  same listing on a later poll (the same withdrawals, by fingerprint): a registry that
  really emptied itself says so twice;
- a later listing that withdraws less clears the hold (and SY04 resolves).

Explicit tombstones are the registry's own statements and are never held.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, delete, func, select

from metareg import log
from metareg.connectors.base import SCOPE_RECORDS
from metareg.db.tables.index import CURRENT_TABLES
from metareg.db.tables.sync import SyncWithdrawalHold
from metareg.db.upsert import upsert
from metareg.index.counts import Counts
from metareg.index.writer import IndexWriter
from metareg.records.operations import Withdrawal

_hold: Table = SyncWithdrawalHold
_log = log.get_logger("metareg.sync.holds")

DEFAULT_MAX_WITHDRAWAL_SHARE = 0.5


@dataclass(frozen=True)
class Hold:
    registry_id: str
    scope: str
    withdraw_count: int
    current_count: int
    share_limit: float
    held_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "registry_id": self.registry_id,
            "scope": self.scope,
            "withdraw_count": self.withdraw_count,
            "current_count": self.current_count,
            "share_limit": self.share_limit,
            "held_at": self.held_at.isoformat(),
        }


def _fingerprint(withdrawals: list[Withdrawal]) -> str:
    keys = sorted(f"{w.record_type}\x1f{w.uid}" for w in withdrawals)
    return hashlib.sha256("\x1e".join(keys).encode()).hexdigest()


def current_count(connection: Connection, registry_id: str, scope: str) -> int:
    """The registry's current records of a listing's scope."""
    if scope == SCOPE_RECORDS:
        kinds: list[tuple[str, Any]] = [("action", None), ("authorization", None)]
    else:
        kinds = [("holding", scope.split(":", 1)[1])]
    total = 0
    for record_type, as_of in kinds:
        table: Table = CURRENT_TABLES[record_type]
        query = select(func.count()).select_from(table).where(table.c.registry_id == registry_id)
        if as_of is not None:
            query = query.where(table.c.as_of == datetime.fromisoformat(as_of).date())
        total += int(connection.execute(query).scalar_one())
    return total


def _read(connection: Connection, registry_id: str, scope: str) -> dict[str, Any] | None:
    row = (
        connection.execute(
            select(_hold).where(_hold.c.registry_id == registry_id, _hold.c.scope == scope)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _clear(connection: Connection, registry_id: str, scope: str | None = None) -> None:
    condition = _hold.c.registry_id == registry_id
    if scope is not None:
        condition = condition & (_hold.c.scope == scope)
    connection.execute(delete(_hold).where(condition))


def judge(
    connection: Connection,
    registry_id: str,
    scope: str,
    withdrawals: list[Withdrawal],
    *,
    now: datetime,
    poll_started: datetime,
    share: float,
) -> list[Withdrawal]:
    """The withdrawals a finished listing may apply now (all of them, or none: held)."""
    existing = _read(connection, registry_id, scope)
    current = current_count(connection, registry_id, scope) if withdrawals else 0
    if not withdrawals or len(withdrawals) <= share * current:
        if existing:
            _clear(connection, registry_id, scope)
        return withdrawals
    fingerprint = _fingerprint(withdrawals)
    if existing and existing["fingerprint"] == fingerprint:
        held_at = existing["held_at"]
        if held_at.tzinfo is None:
            held_at = held_at.replace(tzinfo=poll_started.tzinfo)
        if held_at < poll_started:  # a later poll listed the very same: it means it
            _log.warning(
                "held withdrawals repeated: applied",
                registry=registry_id,
                scope=scope,
                withdrawn=len(withdrawals),
            )
            _clear(connection, registry_id, scope)
            return withdrawals
        return []  # held earlier in this same poll: keep the hold as it is
    row = {
        "registry_id": registry_id,
        "scope": scope,
        "withdrawals": orjson.dumps([[w.record_type, w.uid] for w in withdrawals]).decode(),
        "fingerprint": fingerprint,
        "withdraw_count": len(withdrawals),
        "current_count": current,
        "share_limit": share,
        "held_at": now,
    }
    upsert(connection, _hold, [row], key=("registry_id", "scope"))
    _log.warning(
        "complete listing would withdraw too much: held",
        registry=registry_id,
        scope=scope,
        withdrawn=len(withdrawals),
        current=current,
        share=share,
    )
    return []


def pending(connection: Connection, registry_id: str | None = None) -> list[Hold]:
    """The withdrawals held back, per registry and scope."""
    query = select(
        _hold.c.registry_id,
        _hold.c.scope,
        _hold.c.withdraw_count,
        _hold.c.current_count,
        _hold.c.share_limit,
        _hold.c.held_at,
    ).order_by(_hold.c.registry_id, _hold.c.scope)
    if registry_id is not None:
        query = query.where(_hold.c.registry_id == registry_id)
    return [Hold(*row) for row in connection.execute(query)]


def confirm(
    connection: Connection, registry_id: str, *, by: str, now: datetime, scope: str | None = None
) -> Counts:
    """Apply the registry's held withdrawals (an admin confirmed them), in the caller's
    transaction. A record listed again since (or already gone) is left as it is."""
    query = select(_hold.c.scope, _hold.c.withdrawals).where(_hold.c.registry_id == registry_id)
    if scope is not None:
        query = query.where(_hold.c.scope == scope)
    counts = Counts()
    writer = IndexWriter(connection, registry_id, f"confirmed by {by}", now)
    for held_scope, raw in connection.execute(query).all():
        withdrawals = [
            Withdrawal(record_type, uid, "", f"held withdrawal of {held_scope}, confirmed")
            for record_type, uid in orjson.loads(raw)
        ]
        counts.add(writer.apply(withdrawals))
        _clear(connection, registry_id, held_scope)
        _log.warning("held withdrawals confirmed", registry=registry_id, scope=held_scope, by=by)
    return counts

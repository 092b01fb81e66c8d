"""What an incremental check must re-judge: the parts of the index that the records
changed since the last check (every `record_version` after its watermark) can affect.

For every changed identity we take every range it has had (its history payloads for
actions; the block text in a holding's identity, which survives even a superseded
row without payload), so both the place a record left and the place it arrived are
re-checked. From those we derive:

- per (ca, originating registry), the intervals whose block-rule alerts may change;
- the authorization keys (ca, authorization id) whose DC07-DC09, DC13 and DC14
  alerts may change, and per key what changed (`KeyChanges`): the actions, the
  earliest date from which first transfers (hence DC09 running totals, and with
  several versions the version judging a use) may differ, or the authorization
  itself (a version of it, or the `acts_for` of a registry reporting one);
- the underlying registries whose DC03 alerts may change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, func, or_, select

from metareg.db.tables.index import RecordVersion
from metareg.detection.read.blocks import execute_chunk
from metareg.detection.read.columns import actions, authorizations, holdings
from metareg.detection.rules import of_kind
from metareg.detection.rules.dc09_authorization_exceeded import COUNTED
from metareg.detection.rules.kinds import Awaited, GroupRule, ProgrammeRule, UnitsRule
from metareg.findings import Identity

history = RecordVersion


# What the rules that wait for a counterpart wait for (DC10, DC11).
AWAITED: tuple[Awaited, ...] = tuple(
    rule.awaited for rule in of_kind(GroupRule) if rule.awaited is not None
)
# Whether a rule's verdict on a block depends on its originating registry being synced
# (DC17).
ORIGINATING_SYNCED = any(rule.originating_synced for rule in of_kind(GroupRule))
# The action types the units rules judge (their underlying registries are touched).
UNIT_ACTIONS = frozenset(
    {kind for rule in of_kind(UnitsRule) for kind in rule.actions}
    | {kind for rule in of_kind(ProgrammeRule) for kind in rule.actions}
)
AuthKey = tuple[str, str | None]  # (cooperative approach, authorization id or None)


@dataclass
class KeyChanges:
    """What changed under one authorization key. DC07, DC08, DC13 and DC09's
    per-action reasons depend only on the action and the version judging it; DC09's
    running total of first transfers (in date order) changes only from the earliest
    date any version of a changed first transfer had. So unless the authorization
    itself changed (`whole`), re-judging the changed actions and the first transfers
    from `since` on gives every finding of the key that can differ (where several
    versions judge uses as of their first transfers, a changed first transfer makes
    the pass judge the key whole: `passes.authorization.judged_whole`)."""

    actions: set[Identity] = field(default_factory=set)
    since: str | None = None  # ISO date; None: no first transfer changed
    whole: bool = False

    def add_first_transfer(self, action_date: object) -> None:
        day = str(action_date or "")[:10]
        if self.since is None or day < self.since:
            self.since = day


@dataclass
class Touched:
    ranges: dict[tuple[str, str], list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    auth_keys: set[tuple[str, str | None]] = field(default_factory=set)
    unit_registries: set[str] = field(default_factory=set)
    auth_changes: dict[AuthKey, KeyChanges] = field(default_factory=lambda: defaultdict(KeyChanges))

    def add_block(self, ca: str, registry: str, first: int, last: int) -> None:
        self.ranges[(ca, registry)].append((first, last))

    def add_action(self, record: dict[str, object], identity: Identity | None = None) -> None:
        """One version of an action; `identity` (registry, "action", uid) lets the
        authorization pass re-judge only that action (without it: the whole key)."""
        ca, registry = str(record["cooperative_approach_id"]), str(record["party_registry_id"])
        self.add_block(ca, registry, int(record["first_id"]), int(record["last_id"]))  # type: ignore[call-overload]
        authorization_id = record.get("authorization_id")
        key = (ca, str(authorization_id) if authorization_id else None)
        self.auth_keys.add(key)
        changes = self.auth_changes[key]
        if identity is None:
            changes.whole = True
        else:
            changes.actions.add(identity)
        if record.get("action_type") == COUNTED:
            changes.add_first_transfer(record.get("action_date"))
        underlying = record.get("underlying_registry_id")
        if record.get("action_type") in UNIT_ACTIONS and underlying:
            self.unit_registries.add(str(underlying))

    def merged(self) -> dict[tuple[str, str], list[tuple[int, int]]]:
        return {key: merge_intervals(found) for key, found in self.ranges.items() if found}

    def keep_only(self, approach: Callable[[str], bool], programme: Callable[[str], bool]) -> None:
        """Forget what lies outside part of the index: the block intervals and
        authorization keys of the cooperative approaches `approach` rejects, the
        underlying registries `programme` rejects (a partition of the checks)."""
        self.ranges = defaultdict(list, {k: v for k, v in self.ranges.items() if approach(k[0])})
        self.auth_keys = {key for key in self.auth_keys if approach(key[0])}
        self.auth_changes = defaultdict(
            KeyChanges, {k: v for k, v in self.auth_changes.items() if approach(k[0])}
        )
        self.unit_registries = {u for u in self.unit_registries if programme(u)}

    def __bool__(self) -> bool:
        return bool(self.ranges or self.auth_keys or self.unit_registries)


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint intervals covering the same serials (touching ones stay apart:
    they share no serial)."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def holding_block(uid: str) -> tuple[str, str, int, int] | None:
    """(ca, registry, first, last) from a holding's identity `as_of|account|block text`."""
    parts = uid.rsplit("|", 1)[-1].split("-")
    if len(parts) != 6:
        return None
    try:
        return parts[0], parts[1], int(parts[3]), int(parts[4])
    except ValueError:
        return None


# Every version (payload) of every action, authorization and unit status changed in
# (since, upto], in one statement: the changed identities from the id range, each
# looked up in the (registry, record type, uid, id) index.
_CHANGED = (
    select(history.c.registry_id, history.c.record_type, history.c.uid)
    .where(
        history.c.id > bindparam("since"),
        history.c.id <= bindparam("upto"),
        history.c.record_type != "holding",
    )
    .distinct()
    .cte("changed")
)
_VERSION = history.alias("version")
_CHANGED_PAYLOADS = (
    select(_CHANGED.c.registry_id, _CHANGED.c.record_type, _CHANGED.c.uid, _VERSION.c.payload)
    .select_from(_CHANGED)
    .join(
        _VERSION,
        and_(
            _VERSION.c.registry_id == _CHANGED.c.registry_id,
            _VERSION.c.record_type == _CHANGED.c.record_type,
            _VERSION.c.uid == _CHANGED.c.uid,
        ),
    )
    .where(_VERSION.c.payload.is_not(None))
)
_CHANGED_HOLDINGS = select(history.c.uid).where(
    history.c.id > bindparam("since"),
    history.c.id <= bindparam("upto"),
    history.c.record_type == "holding",
)


def changed_since(connection: Connection, watermark: int, upto: int) -> Touched:
    """Everything the records changed in (watermark, upto] may affect."""
    touched = Touched()
    bounds = {"since": watermark, "upto": upto}
    for (uid,) in execute_chunk(connection, "changed holdings", _CHANGED_HOLDINGS, bounds):
        block = holding_block(uid)
        if block is not None:
            touched.add_block(*block)
    payloads = execute_chunk(connection, "changed payloads", _CHANGED_PAYLOADS, bounds)
    for registry_id, record_type, uid, payload in payloads:
        record = orjson.loads(payload)
        if record_type == "action":
            touched.add_action(record, (registry_id, record_type, uid))
        elif record_type == "unit_status":
            # What a programme says about its units: the units rules (DC03's
            # scope, DC15, DC16) of that programme are judged again.
            touched.unit_registries.add(str(record["underlying_registry_id"]))
        elif record_type == "authorization":
            key = (str(record["cooperative_approach_id"]), str(record["authorization_id"]))
            touched.auth_keys.add(key)
            touched.auth_changes[key].whole = True
    return touched


def crossed_grace(connection: Connection, touched: Touched, before: date, after: date) -> None:
    """The awaited records (transfers and acquisitions) whose age crossed the grace
    period between two checks (the cutoff moved from `before` to `after`): their
    verdict may change although no record did."""
    kinds = sorted({kind for awaited in AWAITED for kind in awaited.kinds})
    if before == after or not kinds:
        return
    low, high = sorted((before, after))
    _touch_actions(
        connection,
        touched,
        actions.c.action_type.in_(kinds),
        actions.c.action_date >= low,
        actions.c.action_date < high,
    )


def parties_changed(connection: Connection, touched: Touched, parties: Iterable[str]) -> None:
    """The awaited records naming a Party whose synced status changed (transfers to,
    acquisitions from it): DC10 and DC11 are only raised where that Party has a synced
    registry."""
    wanted = sorted(set(parties))
    if not wanted or not AWAITED:
        return
    _touch_actions(
        connection,
        touched,
        or_(
            *(
                actions.c.action_type.in_(sorted(awaited.kinds))
                & actions.c[awaited.party_field].in_(wanted)
                for awaited in AWAITED
            )
        ),
    )


def originating_changed(
    connection: Connection, touched: Touched, registries: Iterable[str]
) -> None:
    """The blocks originating in a registry whose synced status changed: DC17 judges a
    block only when its originating registry is synced, so each (cooperative approach,
    registry) is touched over its whole span."""
    wanted = sorted(set(registries))
    if not wanted or not ORIGINATING_SYNCED:
        return
    for table in (actions, holdings):
        rows = connection.execute(
            select(
                table.c.cooperative_approach_id,
                table.c.party_registry_id,
                func.min(table.c.first_id),
                func.max(table.c.last_id),
            )
            .where(table.c.party_registry_id.in_(wanted))
            .group_by(table.c.cooperative_approach_id, table.c.party_registry_id)
        )
        for ca, registry, first, last in rows:
            touched.add_block(ca, registry, int(first), int(last))


def acting_changed(connection: Connection, touched: Touched, registries: Iterable[str]) -> None:
    """The authorizations reported by registries whose `acts_for` changed: which of
    their versions are authoritative may have changed, so they are judged whole."""
    wanted = sorted(set(registries))
    if not wanted:
        return
    rows = connection.execute(
        select(authorizations.c.cooperative_approach_id, authorizations.c.authorization_id)
        .where(authorizations.c.registry_id.in_(wanted))
        .distinct()
    )
    for ca, authorization_id in rows:
        key = (ca, authorization_id)
        touched.auth_keys.add(key)
        touched.auth_changes[key].whole = True


def _touch_actions(connection: Connection, touched: Touched, *conditions: Any) -> None:
    """Touch the blocks of the actions meeting the conditions."""
    rows = connection.execute(
        select(
            actions.c.cooperative_approach_id,
            actions.c.party_registry_id,
            actions.c.first_id,
            actions.c.last_id,
        ).where(*conditions)
    )
    for ca, registry, first, last in rows:
        touched.add_block(ca, registry, first, last)

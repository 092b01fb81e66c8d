"""The check runner: the watermark, detection over what changed, and the alerts.

A check takes the database write lock first (it updates its own state row before
reading), so two checks never interleave and SQLite never has to upgrade a reader; on
PostgreSQL it is the alert event log's only writer until it commits, and it reads the
index through a snapshot taken when no index writer was in flight
(`db.locks.index_snapshot`): writers go on meanwhile, and its watermark misses nothing.
Then it asks detection for its findings and the part of the index it judged: all of
it (a full check, `detection.passes.full`), or, by default, only what changed since
the last check's watermark (`record_version` id) can affect
(`detection.passes.incremental`); it reads the alerts lying in that part
(`checks.in_scope`) and reconciles them with the findings (`alerts.store.reconcile`).
Its result equals a full check's (tested with hypothesis). A full check judges the
authorization and units rules and reads every alert in a reading process while it
judges the blocks (`checks.full_reads`), or itself where none can run or the index is
small; an incremental check of many changes hands the blocks of some touched pairs to
a reading process already waiting (`checks.changed_reads`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, union, update

from metareg.alerts import store
from metareg.checks.changed_reads import blocks_elsewhere
from metareg.checks.first_transfer_totals import keep as keep_totals
from metareg.checks.full_reads import alerts_of, others_of, start_full_reads
from metareg.checks.operational import judge_operational
from metareg.db.collector import collector_paused
from metareg.db.locks import index_snapshot, serialize_writers
from metareg.db.tables.alerts import DetectionState
from metareg.db.tables.index import Action, Holding, RecordVersion, Registry, SyncState
from metareg.db.upsert import upsert
from metareg.detection.passes.full import Others, find_all
from metareg.detection.passes.incremental import BlocksElsewhere, Judged, Since, find_changed
from metareg.detection.passes.scope import Detected
from metareg.detection.read.blocks import distinct_values
from metareg.detection.rules.kinds import CheckContext
from metareg.detection.rules.terms import party_of
from metareg.findings import CATALOGUE, DETECTION_RULES
from metareg.index import first_transferred
from metareg.log import get_logger
from metareg.registries import acts_for as registries_acts_for

DEFAULT_GRACE_DAYS = 30
STATE_NAME = "detection"

state_table = DetectionState
history = RecordVersion
log = get_logger("metareg.detection")


@dataclass
class CheckSummary:
    """What one check did, per rule: alerts opened (new or reopened), resolved, and
    the alerts now open (and acknowledged) in the store."""

    full: bool
    as_of: date
    grace_days: int
    watermark: int
    opened: dict[str, int] = field(default_factory=dict)
    reopened: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def rules(self) -> list[dict[str, Any]]:
        """One row per rule (every DC rule, plus any other code with alerts)."""
        codes = list(DETECTION_RULES) + sorted(
            {*self.open, *self.acknowledged, *self.opened, *self.resolved} - set(DETECTION_RULES)
        )
        return [
            {
                "rule": code,
                "name": CATALOGUE[code].name if code in CATALOGUE else "",
                "severity": CATALOGUE[code].severity if code in CATALOGUE else "",
                "opened": self.opened.get(code, 0) + self.reopened.get(code, 0),
                "reopened": self.reopened.get(code, 0),
                "resolved": self.resolved.get(code, 0),
                "open": self.open.get(code, 0),
                "acknowledged": self.acknowledged.get(code, 0),
            }
            for code in codes
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "as_of": self.as_of.isoformat(),
            "grace_days": self.grace_days,
            "watermark": self.watermark,
            "seconds": round(self.seconds, 3),
            "rules": self.rules(),
        }


# -- state -------------------------------------------------------------------------------


def _load_state(connection: Connection) -> Any:
    return connection.execute(select(state_table).where(state_table.c.name == STATE_NAME)).first()


def _save_state(connection: Connection, **values: Any) -> None:
    upsert(connection, state_table, [{"name": STATE_NAME, **values}], key=("name",))


def _synced_registries(connection: Connection, candidates: set[str] | None) -> list[str]:
    """RULES.md: a registry counts as synced "once it has completed a sync (or a file
    ingest) without error, or has records in the index"; one that is only configured
    does not. A completed sync is a `last_success_at` in `sync_state`; a file ingest
    adds its registry to `registry` with origin `ingest`. A full check (`candidates`
    None) finds the others among the current records; an incremental one asks only
    about the registries synced last time or changed since, which by induction are all
    that can have records."""
    registry = Registry
    sync = SyncState
    actions = Action
    holdings = Holding
    known = {
        row[0]
        for row in connection.execute(
            union(
                select(registry.c.id).where(registry.c.origin == "ingest"),
                select(sync.c.registry_id).where(sync.c.last_success_at.is_not(None)),
            )
        )
    }
    if candidates is None:
        with_records = {
            registry_id
            for table in (actions, holdings)
            for registry_id in distinct_values(connection, table.c.registry_id)
        }
    else:
        with_records = set()
        for registry_id in sorted(candidates - known):
            for table in (actions, holdings):
                found = connection.execute(
                    select(table.c.registry_id).where(table.c.registry_id == registry_id).limit(1)
                ).first()
                if found:
                    with_records.add(registry_id)
                    break
    return sorted(known | with_records)


# -- the check ----------------------------------------------------------------------------


def _incremental(state: Any, full: bool) -> bool:
    """Whether the check judges only what changed since the last one."""
    return not full and state is not None and state.cutoff is not None


def _detect(
    index: Connection,
    state: Any,
    *,
    full: bool,
    cutoff: date,
    grace_days: int,
    others: Callable[[], Others | None] | None,
    elsewhere: BlocksElsewhere | None,
) -> tuple[Detected, int, list[str], dict[str, list[str]]]:
    """Detection over `index` (the check's view of the index): findings and their scope,
    the watermark they reach, and the synced registries and their `acts_for`. `others`:
    a full check's authorization and units findings made elsewhere (`find_all`);
    `elsewhere`: where an incremental check can judge some pairs' blocks meanwhile
    (`find_changed`)."""
    upto = int(index.execute(select(func.max(history.c.id))).scalar() or 0)
    watermark = int(state.watermark) if state else 0
    incremental = _incremental(state, full)
    if incremental:
        changed = {
            row[0]
            for row in index.execute(
                select(history.c.registry_id)
                .where(history.c.id > watermark, history.c.id <= upto)
                .distinct()
            )
        }
        registries = _synced_registries(index, changed | set(state.synced_registries or []))
    else:
        registries = _synced_registries(index, None)
    parties = frozenset(party_of(r) for r in registries)
    acting = registries_acts_for(index)
    context = CheckContext(cutoff, grace_days, parties, frozenset(registries))
    if incremental:
        assert state is not None
        judged = Judged(
            watermark, state.cutoff, tuple(state.synced_registries or ()), state.acts_for or {}
        )
        since = Since.between(judged, upto, registries, acting)
        detected = find_changed(index, since, context, elsewhere=elsewhere)
    else:
        detected = find_all(index, context, others=others)
    return detected, upto, registries, acting


def run_checks(
    engine: Engine,
    *,
    full: bool = False,
    as_of: date | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
    now: datetime | None = None,
) -> CheckSummary:
    """Run the double-counting checks and reconcile the alerts.

    Incremental by default: only what changed since the last check's watermark (the
    first check ever, or `full=True`, reads everything).
    "Now" for DC10/DC11 is `as_of` (default: today, UTC); `grace_days` is their grace
    period.
    """
    if grace_days < 0:
        raise ValueError("grace_days must be 0 or more")
    started = datetime.now(UTC)
    at = now or started
    as_of = as_of or at.date()
    cutoff = as_of - timedelta(days=grace_days)
    with engine.begin() as connection, ExitStack() as paused:
        state = _load_state(connection)
        if _incremental(state, full):
            # What an incremental check allocates is short-lived and acyclic; a cyclic
            # collection it triggered would walk the whole process's heap (after a
            # large ingest or a full check, most of the check's time). Its work is
            # bounded by the changes, so the collector waits until it ends.
            paused.enter_context(collector_paused())
        # Take the write lock before reading anything (see the module docstring).
        if state is None:
            _save_state(
                connection,
                watermark=0,
                cutoff=None,
                grace_days=grace_days,
                synced_registries=[],
                acts_for={},
                checked_at=at,
            )
        else:
            connection.execute(
                update(state_table).where(state_table.c.name == STATE_NAME).values(checked_at=at)
            )
        serialize_writers(connection)
        # Its triggers, if a migration dropped them; rows inserted past its mark counted.
        first_transferred.ensure(connection)
        judge_operational(connection, at)
        # The index as it stood at one instant: on PostgreSQL a snapshot taken when no
        # index writer was in flight (writers go on while the check reads it).
        with index_snapshot(connection) as index:
            incremental = _incremental(state, full)
            reads = None if incremental else start_full_reads(index)
            if reads is not None:
                paused.callback(reads.close)
            elsewhere = blocks_elsewhere(index, paused) if incremental else None
            detected, upto, registries, acting = _detect(
                index,
                state,
                full=full,
                cutoff=cutoff,
                grace_days=grace_days,
                others=others_of(reads),
                elsewhere=elsewhere,
            )
            if reads is not None:
                reads.result()  # read while the snapshot it imports is still there
        summary = CheckSummary(
            full=not incremental, as_of=as_of, grace_days=grace_days, watermark=upto
        )
        since = int(state.watermark) if incremental and state is not None else None
        keep_totals(connection, detected, since, upto)
        existing = alerts_of(connection, detected.scope, reads)
        result = store.reconcile(connection, detected.findings, existing, at)
        summary.opened, summary.reopened, summary.resolved = (
            result.opened,
            result.reopened,
            result.resolved,
        )
        counts = store.count_by_rule(connection)
        summary.open = {rule: c["open"] for rule, c in counts.items() if c["open"]}
        summary.acknowledged = {
            rule: c["acknowledged"] for rule, c in counts.items() if c["acknowledged"]
        }
        _save_state(
            connection,
            watermark=upto,
            cutoff=cutoff,
            grace_days=grace_days,
            synced_registries=registries,
            acts_for=acting,
            checked_at=at,
        )
    summary.seconds = (datetime.now(UTC) - started).total_seconds()
    log.info(
        "checks done",
        full=summary.full,
        watermark=upto,
        opened=sum(summary.opened.values()),
        reopened=sum(summary.reopened.values()),
        resolved=sum(summary.resolved.values()),
        seconds=round(summary.seconds, 3),
    )
    return summary

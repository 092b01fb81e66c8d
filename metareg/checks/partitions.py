"""Partitioned checks: several `metareg run` workers share one check, partition by
partition, as they share registries (PostgreSQL; issue 18).

The partition key follows the rules' alert scopes (`detection.rules.kinds`), so that
no rule ever needs two partitions:

- `approaches-K/N`: the cooperative approaches whose name hashes to bucket K of N. The
  block rules (DC01, DC02, DC04-DC06, DC10-DC12, DC17) judge records of one
  (cooperative approach, originating registry): a transfer between two registries
  (DC10/DC11) is two records of the same block, so of the same approach. The
  authorization rules (DC07-DC09, DC13) judge an action against its key (cooperative
  approach, authorization id), and DC14 every registry's versions of one key: one
  approach each. Their alerts carry that approach.
- `programmes-K/N`: the underlying programmes (underlying registries) hashing to
  bucket K of N. DC03, DC15 and DC16 compare issuances and unit statuses resting on one
  underlying registry, across cooperative approaches (alert scope `unit:<registry>`).
- `operational`: the operational rules (SY01-SY04), judged from the sync state.

Buckets cover every key, including approaches and programmes that have left the
index: their alerts lie in the bucket of their key, whose next check finds nothing
there and resolves them. A rule whose alert scope is none of these stops the module
from importing (it would be silently skipped otherwise).

Each partition has a row in `detection_partition`: its lease (taken with
`metareg.sync.leases.Leases`, `FOR UPDATE SKIP LOCKED`, as registries are) and what its
last check judged: the `record_version` id it read up to (its watermark), the rest its
findings depend on (the DC10/DC11 cutoff, the synced registries and their `acts_for`:
`judged`) and a digest of those and the grace period. A partition is due when the
index has moved past its watermark or the digest changed; the operational partition
is due every 30 s.

One partition's check is two transactions:

1. detection, on a snapshot of the index taken when no index writer was in flight
   (`db.locks.index_snapshot`): every reader connection sees the same index, every
   `record_version` id up to its watermark is final, and index writers and other
   workers' detections go on meanwhile;
2. reconciliation, as the only writer of the alert event log (`db.locks.
   serialize_writers`: it stays in id order); the lease is renewed (a worker whose
   lease expired and was taken over commits nothing: `LeaseLost`), the partition's
   alerts are reconciled with its findings (`alerts.store.reconcile`) and its
   watermark, context and digest saved.

A partition's first check judges it whole (a full check of that part of the index);
each later one continues from the last, as the single-process check does
(`detection.passes.incremental`, kept to the partition's keys): it judges only what
the records changed since its watermark, the moving cutoff and the changed synced
registries and `acts_for` can affect there, and reconciles only the partition's alerts
lying there (`checks.in_scope`). `full=True` judges every partition whole. Either way
the result equals one full check's alerts (tests/checks/test_partitions.py, with the
incremental check's hypothesis histories). SQLite has one writer at a time: `metareg
run` keeps its single-process checks there.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, union, update

from metareg.alerts import store
from metareg.checks.in_scope import alerts_in
from metareg.checks.operational import judge_operational
from metareg.checks.runner import DEFAULT_GRACE_DAYS, _synced_registries
from metareg.db.locks import index_snapshot, serialize_writers
from metareg.db.tables.alerts import Alert
from metareg.db.tables.index import Action, Authorization, RecordVersion, UnitStatus
from metareg.db.tables.partitions import DetectionPartition
from metareg.detection.passes.full import find_in_approaches, find_in_programmes
from metareg.detection.passes.incremental import Judged, Since, Within, find_changed
from metareg.detection.passes.scope import Detected, JudgedScope
from metareg.detection.read.blocks import distinct_values, pairs
from metareg.detection.rules import AUTHORIZATION_RULES, BLOCK_RULES, UNIT_RULES
from metareg.detection.rules.kinds import CheckContext
from metareg.detection.rules.terms import party_of
from metareg.findings import DETECTION_RULES
from metareg.log import get_logger
from metareg.registries import acts_for as registries_acts_for
from metareg.sync.engine import LeaseLost
from metareg.sync.leases import Leases

# Each partition reads its part of the index on its own (a scan of the block tables, the
# authorization versions): more buckets balance more workers, at that cost each.
APPROACH_BUCKETS = 4
PROGRAMME_BUCKETS = 2
# A partition's check must end within its lease (it is renewed when the check commits).
DEFAULT_TTL = timedelta(minutes=10)
# The operational rules depend on the clock and the sync state, not on the index: their
# partition is due once this long has passed since its last check.
OPERATIONAL_EVERY = timedelta(seconds=30)

APPROACH_RULES = frozenset(BLOCK_RULES) | frozenset(AUTHORIZATION_RULES)
PROGRAMME_RULES = frozenset(UNIT_RULES)
_unowned = set(DETECTION_RULES) - APPROACH_RULES - PROGRAMME_RULES
if _unowned:  # a new alert scope needs its partition here before it can be checked so
    raise ImportError(f"no partition owns the rules {sorted(_unowned)}")

partition_table: Table = DetectionPartition
alerts_table: Table = Alert
history: Table = RecordVersion
log = get_logger("metareg.detection")

APPROACHES = "approaches"
PROGRAMMES = "programmes"
OPERATIONAL = "operational"


def bucket(key: str, of: int) -> int:
    """The bucket of an approach or programme id: the same on every host."""
    return zlib.crc32(key.encode("utf-8")) % of


@dataclass(frozen=True)
class Partition:
    kind: str
    index: int = 0
    of: int = 1

    @property
    def name(self) -> str:
        return self.kind if self.kind == OPERATIONAL else f"{self.kind}-{self.index}/{self.of}"

    def owns(self, key: str | None) -> bool:
        return bucket(key or "", self.of) == self.index


def partitions(
    approach_buckets: int = APPROACH_BUCKETS, programme_buckets: int = PROGRAMME_BUCKETS
) -> list[Partition]:
    """Every partition, the largest (the approaches) first."""
    if approach_buckets < 1 or programme_buckets < 1:
        raise ValueError("a partitioned check needs at least one bucket of each kind")
    return [
        *(Partition(APPROACHES, k, approach_buckets) for k in range(approach_buckets)),
        *(Partition(PROGRAMMES, k, programme_buckets) for k in range(programme_buckets)),
        Partition(OPERATIONAL),
    ]


# -- what a partition's findings depend on ---------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The state of the index a partition's check judges: the last `record_version` id
    and the rest of the context its findings depend on."""

    upto: int
    cutoff: date
    grace_days: int
    registries: list[str]
    acting: dict[str, list[str]]

    @property
    def digest(self) -> str:
        content = [self.cutoff.isoformat(), self.grace_days, self.registries, self.acting]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def context(self) -> CheckContext:
        parties = frozenset(party_of(r) for r in self.registries)
        return CheckContext(self.cutoff, self.grace_days, parties, frozenset(self.registries))

    def judged(self) -> dict[str, Any]:
        """What a check of this target judged, as stored with its partition."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "registries": self.registries,
            "acting": self.acting,
        }


def _target(connection: Connection, as_of: date, grace_days: int) -> Target:
    upto = int(connection.execute(select(func.max(history.c.id))).scalar() or 0)
    return Target(
        upto,
        as_of - timedelta(days=grace_days),
        grace_days,
        _synced_registries(connection, None),
        registries_acts_for(connection),
    )


# -- one partition ---------------------------------------------------------------------------


def _approaches(connection: Connection, partition: Partition) -> list[str]:
    """The partition's approaches: those that ever held a block (`block_span`: every
    action and holding is of one) or that an authorization names."""
    authorizations = Authorization
    found = {ca for ca, _registry in pairs(connection)}
    found.update(distinct_values(connection, authorizations.c.cooperative_approach_id))
    return sorted(ca for ca in found if partition.owns(ca))


def _programmes(connection: Connection, partition: Partition) -> set[str]:
    """The partition's underlying programmes: those an issuance rests on or a programme
    reports statuses of (one query)."""
    actions = Action
    statuses = UnitStatus
    found = connection.execute(
        union(
            select(actions.c.underlying_registry_id)
            .where(actions.c.underlying_registry_id.is_not(None))
            .distinct(),
            select(statuses.c.underlying_registry_id).distinct(),
        )
    ).scalars()
    return {programme for programme in found if partition.owns(programme)}


def _key_of(partition: Partition, rule: str, ca: str | None, scope: str) -> str | None:
    """The key (approach or programme) of an alert or finding when `partition`'s kind
    owns its rule, else None."""
    if partition.kind == APPROACHES and rule in APPROACH_RULES:
        return ca or ""
    if partition.kind == PROGRAMMES and rule in PROGRAMME_RULES:
        return scope.removeprefix("unit:")
    return None


def _owns(partition: Partition, rule: str, ca: str | None, scope: str) -> bool:
    key = _key_of(partition, rule, ca, scope)
    return key is not None and partition.owns(key)


def _last_judged(connection: Connection, partition: Partition) -> Judged | None:
    """What the partition's last check judged, when it can be continued from."""
    row = connection.execute(
        select(partition_table.c.watermark, partition_table.c.judged).where(
            partition_table.c.name == partition.name
        )
    ).first()
    if row is None or row.watermark is None or not row.judged:
        return None  # never checked, or checked before `judged` was kept
    judged = row.judged
    return Judged(
        int(row.watermark),
        date.fromisoformat(judged["cutoff"]),
        tuple(judged["registries"]),
        judged["acting"],
    )


def _within(partition: Partition) -> Within:
    if partition.kind == APPROACHES:
        return Within(partition.owns, lambda _programme: False)
    return Within(lambda _approach: False, partition.owns)


def detect(
    connection: Connection, partition: Partition, target: Target, since: Judged | None = None
) -> Detected:
    """The findings of one partition over the index as `connection` sees it, and where
    it judged: the whole partition, or, continuing from what its last check judged
    (`since`), only what changed since can affect there (`passes.incremental`)."""
    if partition.kind == OPERATIONAL:
        return Detected([], JudgedScope())
    if since is not None:
        changes = Since.between(since, target.upto, target.registries, target.acting)
        detected = find_changed(connection, changes, target.context(), _within(partition))
    else:
        detected = Detected([], JudgedScope(everything=True))
        if partition.kind == APPROACHES:
            approaches = _approaches(connection, partition)
            if approaches:
                detected.findings = find_in_approaches(connection, target.context(), approaches)
        else:
            detected.findings = find_in_programmes(connection, _programmes(connection, partition))
    findings = detected.findings
    strays = [
        f
        for f in findings
        if not _owns(partition, f.rule, f.cooperative_approach_id, f.scope or "")
    ]
    if strays:  # its alerts would be resolved by the partition that owns them
        raise RuntimeError(
            f"partition {partition.name} found {len(strays)} findings outside it "
            f"(first: {strays[0].rule} {strays[0].cooperative_approach_id} {strays[0].scope})"
        )
    return detected


def _alerts_of(connection: Connection, partition: Partition) -> dict[str, store.Existing]:
    """The detection alerts the partition owns, whatever their status."""
    rules = APPROACH_RULES if partition.kind == APPROACHES else PROGRAMME_RULES
    if partition.kind == OPERATIONAL:
        return {}
    rows = connection.execute(
        select(
            alerts_table.c.fingerprint,
            alerts_table.c.cooperative_approach_id,
            alerts_table.c.scope,
            alerts_table.c.rule,
        ).where(alerts_table.c.rule.in_(sorted(rules)))
    )
    mine = [fp for fp, ca, scope, rule in rows if _owns(partition, rule, ca, scope or "")]
    existing = store.existing_in(connection, alerts_table.c.rule.in_(sorted(rules)))
    return {fp: existing[fp] for fp in mine if fp in existing}


@dataclass
class PartitionsRun:
    """What one worker's `run_partitions` did."""

    holder: str
    checked: list[str] = field(default_factory=list)
    incremental: list[str] = field(default_factory=list)  # of `checked`: continued
    skipped: list[str] = field(default_factory=list)  # held by another worker
    lost: list[str] = field(default_factory=list)  # lease taken over mid-check
    opened: int = 0
    resolved: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "checked": self.checked,
            "incremental": self.incremental,
            "skipped": self.skipped,
            "lost": self.lost,
            "opened": self.opened,
            "resolved": self.resolved,
            "seconds": round(self.seconds, 3),
        }


def _due(engine: Engine, partition: Partition, target: Target, at: datetime) -> bool:
    with engine.connect() as connection:
        row = connection.execute(
            select(
                partition_table.c.watermark,
                partition_table.c.digest,
                partition_table.c.checked_at,
            ).where(partition_table.c.name == partition.name)
        ).first()
    if row is None or row.checked_at is None:
        return True
    if partition.kind == OPERATIONAL:
        checked_at = row.checked_at
        if checked_at.tzinfo is None:  # SQLite keeps no offset; metareg writes UTC
            checked_at = checked_at.replace(tzinfo=UTC)
        return bool(at - checked_at >= OPERATIONAL_EVERY)
    return bool(row.watermark < target.upto or row.digest != target.digest)


@dataclass
class PartitionCheck:
    """What one partition's check did: the alerts it opened, reopened and resolved
    (per rule), and whether it continued from its last check (else it judged the
    whole partition)."""

    opened: dict[str, int]
    reopened: dict[str, int]
    resolved: dict[str, int]
    incremental: bool


def check_partition(
    engine: Engine,
    partition: Partition,
    leases: Leases,
    *,
    as_of: date,
    grace_days: int,
    at: datetime,
    clock: datetime | None = None,
    full: bool = False,
) -> PartitionCheck:
    """Check one partition whose lease `leases` holds: detection on a snapshot of the
    index, then reconciliation as the event log's only writer, which commits only while
    the lease is still ours (else `LeaseLost`, and nothing of this check is kept).
    Incremental when its last check's watermark and context are known and `full` is
    not asked: only what changed since can affect is judged, and only the partition's
    alerts lying there are reconciled (its others stand, as for `run_checks`).
    `clock` stands for the time the lease is renewed at (default: the real time)."""
    with engine.connect() as base, index_snapshot(base) as connection:
        target = _target(connection, as_of, grace_days)
        since = None if full else _last_judged(connection, partition)
        detected = detect(connection, partition, target, since)
    with engine.begin() as connection:
        # The only writer of the event log meanwhile (`db.locks`): index writers and
        # other partitions' detections go on.
        serialize_writers(connection)
        leases.renew(connection, partition.name, now=clock)
        if partition.kind == OPERATIONAL:
            judge_operational(connection, at)
            result = store.Reconciled({}, {}, {})
        else:
            if detected.scope.everything:
                alerts = _alerts_of(connection, partition)
            else:
                alerts = alerts_in(connection, detected.scope)
            result = store.reconcile(connection, detected.findings, alerts, at)
        connection.execute(
            update(partition_table)
            .where(partition_table.c.name == partition.name)
            .values(
                watermark=target.upto,
                digest=target.digest,
                judged=target.judged(),
                checked_at=at,
            )
        )
    incremental = since is not None and partition.kind != OPERATIONAL
    return PartitionCheck(result.opened, result.reopened, result.resolved, incremental)


def run_partitions(
    engine: Engine,
    *,
    as_of: date | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
    now: datetime | None = None,
    holder: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    approach_buckets: int = APPROACH_BUCKETS,
    programme_buckets: int = PROGRAMME_BUCKETS,
    full: bool = False,
) -> PartitionsRun:
    """Check every due partition this worker can lease, until none is left: several
    workers calling this at once share one check (each partition checked by one of them
    at a time). Each partition continues from its last check (incremental) unless
    `full`. `now` stands for the clock (leases, DC10/DC11's "now"); `as_of` defaults
    to its date."""
    if grace_days < 0:
        raise ValueError("grace_days must be 0 or more")
    started = datetime.now(UTC)
    at = now or started
    as_of = as_of or at.date()
    leases = Leases(engine, holder, ttl, table=partition_table, key="name")
    run = PartitionsRun(leases.holder)
    # Where the index stood when this run began: a partition judged at or past it is
    # not due (each partition's check reads its own, later state).
    with engine.connect() as connection:
        target = _target(connection, as_of, grace_days)
    for partition in _order(partitions(approach_buckets, programme_buckets), leases.holder):
        if not leases.try_acquire(partition.name, now=now):
            run.skipped.append(partition.name)
            continue
        try:
            # Due is decided under the lease: a partition another worker has just
            # checked is not checked again.
            if not _due(engine, partition, target, at):
                continue
            result = check_partition(
                engine,
                partition,
                leases,
                as_of=as_of,
                grace_days=grace_days,
                at=at,
                clock=now,
                full=full,
            )
        except LeaseLost:
            run.lost.append(partition.name)
            log.warning("partition lease lost", partition=partition.name, holder=leases.holder)
            continue
        finally:
            leases.release(partition.name)
        run.checked.append(partition.name)
        if result.incremental:
            run.incremental.append(partition.name)
        run.opened += sum(result.opened.values()) + sum(result.reopened.values())
        run.resolved += sum(result.resolved.values())
    run.seconds = (datetime.now(UTC) - started).total_seconds()
    log.info("partitions checked", **run.as_dict())
    return run


def _order(every: list[Partition], holder: str) -> Iterator[Partition]:
    """Every partition in the same order for every worker, the largest first: a worker
    skips those another holds and takes the next, so the small ones fill in at the end
    and the workers finish together (largest-first list scheduling). Starting each
    worker elsewhere in the list could leave one worker alone with a large partition
    at the end while the other has nothing left (`holder` is not used)."""
    yield from every

"""The check runner: full and incremental checks, and their watermark.

A full check reads every current block once as a few integers and screens it with
numpy (`metareg.detection.screen`): only the clusters of overlapping blocks where a
block rule could speak are read whole and swept exactly (`metareg.detection.sweep`).
DC07-DC09 come from per-authorization SQL filters whose rows the rules then judge
(`metareg.detection.authscreen`), DC03 from the unit ranges parsed when each issuance
was written (`metareg.detection.unitscreen`); then every detection alert is
reconciled with what was found. `_full(exhaustive=True)` (and a screen that cannot
read the index) sweeps every block: the reference the screened check is tested
against.

An incremental check (the default, run after each sync) reads only what changed
since the last check's watermark (`record_version` id), finds the intervals,
authorization keys and underlying registries those changes can affect
(`metareg.detection.changes`), re-judges exactly those, and reconciles only the
alerts that lie there. Its result equals a full check's (tested with hypothesis).

The check takes the database write lock first (it updates its own state row before
reading), so two checks never interleave and SQLite never has to upgrade a reader.
"""

from __future__ import annotations

import bisect
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, union, update

from metareg.alerts import store
from metareg.alerts.events import serialize_writers
from metareg.db.tables.alerts import Alert, DetectionState
from metareg.db.tables.index import Action, Holding, RecordVersion, Registry, SyncState
from metareg.db.upsert import batched, upsert
from metareg.detection.passes import authorization as authpass
from metareg.detection.passes.sweep import SweepContext, sweep_group
from metareg.detection.prefilter import blocks as screen
from metareg.detection.prefilter import units as unitscreen
from metareg.detection.read import blocks as loading
from metareg.detection.read.changes import (
    Touched,
    changed_since,
    crossed_grace,
    merge_intervals,
    parties_changed,
)
from metareg.detection.rules import dc03_underlying_unit_reuse as dc03
from metareg.detection.rules.terms import auth_scope, choose_current, party_of
from metareg.findings import AUTH_RULES, BLOCK_RULES, CATALOGUE, DETECTION_RULES, Finding
from metareg.log import get_logger

DEFAULT_GRACE_DAYS = 30
STATE_NAME = "detection"
SCOPE_CHUNK = 100  # intervals or scopes per reconciliation query (SQLite expression depth)

state_table = DetectionState.__table__  # type: ignore[attr-defined]
alerts_table = Alert.__table__  # type: ignore[attr-defined]
history = RecordVersion.__table__  # type: ignore[attr-defined]
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


def serialize_with_checks(connection: Connection) -> None:
    """Call first in a transaction that writes the index (on PostgreSQL).

    The incremental check reads "every `record_version` id after the watermark". On
    PostgreSQL a transaction that took a lower id may commit after one with a higher
    id; a check running in between would move its watermark past the late one and
    never see it. Taking this transaction-scoped lock (the one the checks and the
    event log take) before writing makes writers and checks take turns. SQLite needs
    nothing: it has one writer at a time.
    """
    serialize_writers(connection)


# -- state -------------------------------------------------------------------------------


def _load_state(connection: Connection) -> Any:
    return connection.execute(select(state_table).where(state_table.c.name == STATE_NAME)).first()


def _save_state(connection: Connection, **values: Any) -> None:
    upsert(connection, state_table, [{"name": STATE_NAME, **values}], key=("name",))


def _synced_registries(connection: Connection, candidates: set[str] | None) -> list[str]:
    """RULES.md: a registry counts as synced when it is configured or has records in
    the index. Configured (or ever ingested) registries are in `registry`, syncing ones
    in `sync_state`. A full check (`candidates` None) finds the others among the current
    records; an incremental one asks only about the registries synced last time or
    changed since, which by induction are all that can have records."""
    registry = Registry.__table__  # type: ignore[attr-defined]
    sync = SyncState.__table__  # type: ignore[attr-defined]
    actions = Action.__table__  # type: ignore[attr-defined]
    holdings = Holding.__table__  # type: ignore[attr-defined]
    known = {
        row[0]
        for row in connection.execute(union(select(registry.c.id), select(sync.c.registry_id)))
    }
    if candidates is None:
        with_records = {
            registry_id
            for table in (actions, holdings)
            for registry_id in loading.distinct_values(connection, table.c.registry_id)
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


# -- the checks -----------------------------------------------------------------------------


def _full(
    connection: Connection, context: SweepContext, *, exhaustive: bool = False
) -> tuple[list[Finding], dict[str, Any]]:
    """Every finding of the index, screened (see the module docstring) or, when
    `exhaustive` or when the screen cannot read the index, by sweeping every block."""
    if exhaustive:
        return _exhaustive(connection, context), _existing(connection)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # DC03 and DC07-DC09 are mostly database time: on a reader connection of their
        # own they run while this thread screens and sweeps the blocks.
        others = pool.submit(_authorizations_and_units, connection)
        try:
            findings = _screened_blocks(connection, context)
        except screen.ScreenUnavailable as why:
            log.warning("screen unavailable, sweeping every block", reason=str(why))
            others.cancel()
            return _exhaustive(connection, context), _existing(connection)
        findings += others.result()
    return findings, _existing(connection)


def _existing(connection: Connection) -> dict[str, Any]:
    return store.existing_in(connection, alerts_table.c.rule.in_(DETECTION_RULES))


def _authorizations_and_units(connection: Connection) -> list[Finding]:
    """DC07-DC09 and DC03, screened, on another connection when the database allows
    (the check holds the write lock, so every connection sees the same index)."""
    if not screen.parallel(connection):
        return [*authpass.full_pass(connection), *unitscreen.screened_findings(connection)]
    with connection.engine.connect() as reader:
        return [*authpass.full_pass(reader), *unitscreen.screened_findings(reader)]


def _exhaustive(connection: Connection, context: SweepContext) -> list[Finding]:
    """The reference: every block swept, every action judged, every issuance compared."""
    findings: list[Finding] = []
    inline = authpass.InlineAuthorizations(connection)
    for ca, registry in loading.pairs(connection):
        findings.extend(sweep_group(loading.blocks(connection, ca, registry), context, inline))
    findings.extend(authpass.keys_pass(connection, inline.exceeded))
    findings.extend(dc03.check_issuances(loading.issuances(connection)))
    return findings


def _screened_blocks(connection: Connection, context: SweepContext) -> list[Finding]:
    """The block rules over the clusters the screen keeps, pair by pair."""
    findings: list[Finding] = []
    for _pair, action_ids, holding_ids in screen.suspects(screen.read(connection), context):
        records = loading.blocks_by_id(connection, action_ids, holding_ids)
        records.sort(key=lambda r: (r.first_id, r.record_type, r.registry_id, r.uid))
        findings.extend(sweep_group(records, context))
    return findings


def _meets(intervals: list[tuple[int, int]], first: int | None, last: int | None) -> bool:
    """Whether [first, last] intersects one of the sorted, disjoint intervals."""
    if first is None or last is None:
        return False
    index = bisect.bisect_right(intervals, (last, float("inf"))) - 1
    return index >= 0 and intervals[index][1] >= first


def _incremental(
    connection: Connection, touched: Touched, context: SweepContext
) -> tuple[list[Finding], dict[str, Any]]:
    findings: list[Finding] = []
    existing: dict[str, Any] = {}
    for (ca, registry), intervals in sorted(touched.merged().items()):
        # Every block meeting a touched interval, and every block meeting those (their
        # partners): enough to judge any alert whose range meets the interval.
        span = loading.max_span(connection, ca, registry)
        hulls = merge_intervals(loading.hulls(connection, ca, registry, intervals, span))
        region = loading.blocks_meeting_any(connection, ca, registry, hulls, span)
        ordered = sorted(region, key=lambda r: (r.first_id, r.record_type, r.registry_id, r.uid))
        for finding in sweep_group(ordered, context):
            if _meets(intervals, finding.first_id, finding.last_id):
                findings.append(finding)
        existing.update(_block_alerts_meeting(connection, ca, registry, intervals))
    if touched.unit_registries:
        findings.extend(unitscreen.screened_findings(connection, touched.unit_registries))
        scopes = sorted(dc03.scope_of(u) for u in touched.unit_registries)
        for chunk in batched(scopes, SCOPE_CHUNK):
            existing.update(
                store.existing_in(
                    connection, alerts_table.c.rule == dc03.CODE, alerts_table.c.scope.in_(chunk)
                )
            )
    if touched.auth_keys:
        found, in_scope = _authorizations_changed(connection, touched)
        findings.extend(found)
        existing.update(in_scope)
    return findings, existing


_BLOCK_ALERTS = select(
    alerts_table.c.fingerprint,
    alerts_table.c.id,
    alerts_table.c.status,
    alerts_table.c.rule,
    alerts_table.c.first_id,
    alerts_table.c.last_id,
).where(
    alerts_table.c.rule.in_(BLOCK_RULES),
    alerts_table.c.cooperative_approach_id == bindparam("ca"),
    alerts_table.c.party_registry_id == bindparam("registry"),
    alerts_table.c.first_id <= bindparam("last"),
    alerts_table.c.last_id >= bindparam("first"),
)


def _block_alerts_meeting(
    connection: Connection, ca: str, registry: str, intervals: list[tuple[int, int]]
) -> dict[str, store.Existing]:
    """The block-rule alerts of (ca, registry) whose range meets one of the sorted,
    disjoint intervals (`store.block_scope_conditions`, as one prepared statement over
    their hull, the intervals applied here)."""
    found: dict[str, store.Existing] = {}
    params = {"ca": ca, "registry": registry, "first": intervals[0][0], "last": intervals[-1][1]}
    for fp, aid, status, rule, first, last in connection.execute(_BLOCK_ALERTS, params):
        if _meets(intervals, first, last):
            found[fp] = store.Existing(aid, status, rule)
    return found


def _authorizations_changed(
    connection: Connection, touched: Touched
) -> tuple[list[Finding], dict[str, Any]]:
    """DC07-DC09 over the touched authorization keys: a key whose authorization
    changed is judged whole; for the others only what their changed actions can affect
    (`authpass.changed_pass`), and only the alerts naming a judged action are in scope."""
    wanted = sorted(touched.auth_keys, key=lambda k: (k[0], k[1] or ""))
    whole = [key for key in wanted if touched.auth_changes[key].whole]
    findings: list[Finding] = list(authpass.keys_pass(connection, whole))
    existing: dict[str, Any] = {}
    by_ca: dict[str, set[str]] = {}
    for ca, authorization_id in whole:
        by_ca.setdefault(ca, set()).add(auth_scope(authorization_id))
    for ca, scopes_of_ca in by_ca.items():
        for chunk in batched(sorted(scopes_of_ca), SCOPE_CHUNK):
            existing.update(
                store.existing_in(
                    connection,
                    alerts_table.c.rule.in_(AUTH_RULES),
                    alerts_table.c.cooperative_approach_id == ca,
                    alerts_table.c.scope.in_(chunk),
                )
            )
    partial = [key for key in wanted if not touched.auth_changes[key].whole]
    versions = loading.authorization_versions(connection, [(ca, aid) for ca, aid in partial if aid])
    for key in partial:
        ca, authorization_id = key
        current = choose_current(versions.get(key, [])) if authorization_id else None  # type: ignore[arg-type]
        found, judged = authpass.changed_pass(connection, key, touched.auth_changes[key], current)
        findings.extend(found)
        existing.update(_alerts_naming(connection, ca, auth_scope(authorization_id), judged))
    return findings, existing


_AUTH_ALERTS = select(
    alerts_table.c.fingerprint,
    alerts_table.c.id,
    alerts_table.c.status,
    alerts_table.c.rule,
    alerts_table.c.evidence,
).where(
    alerts_table.c.rule.in_(AUTH_RULES),
    alerts_table.c.cooperative_approach_id == bindparam("ca"),
    alerts_table.c.scope == bindparam("scope"),
)


def _alerts_naming(
    connection: Connection, ca: str, scope: str, judged: set[tuple[str, str, str]]
) -> dict[str, store.Existing]:
    """The DC07-DC09 alerts of one key whose evidence names a judged action."""
    found: dict[str, store.Existing] = {}
    for fp, aid, status, rule, evidence in connection.execute(
        _AUTH_ALERTS, {"ca": ca, "scope": scope}
    ):
        if any(
            (item["registry"], item["record_type"], item["record_id"]) in judged
            for item in evidence or ()
        ):
            found[fp] = store.Existing(aid, status, rule)
    return found


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
    with engine.begin() as connection:
        state = _load_state(connection)
        # Take the write lock before reading anything (see the module docstring).
        if state is None:
            _save_state(
                connection,
                watermark=0,
                cutoff=None,
                grace_days=grace_days,
                synced_registries=[],
                checked_at=at,
            )
        else:
            connection.execute(
                update(state_table).where(state_table.c.name == STATE_NAME).values(checked_at=at)
            )
        serialize_writers(connection)
        upto = int(connection.execute(select(func.max(history.c.id))).scalar() or 0)
        watermark = int(state.watermark) if state else 0
        incremental = not full and state is not None and state.cutoff is not None
        if incremental:
            changed = {
                row[0]
                for row in connection.execute(
                    select(history.c.registry_id)
                    .where(history.c.id > watermark, history.c.id <= upto)
                    .distinct()
                )
            }
            registries = _synced_registries(
                connection, changed | set(state.synced_registries or [])
            )
        else:
            registries = _synced_registries(connection, None)
        parties = sorted({party_of(r) for r in registries})
        context = SweepContext(cutoff, grace_days, frozenset(parties))
        summary = CheckSummary(full=True, as_of=as_of, grace_days=grace_days, watermark=upto)
        if incremental:
            assert state is not None
            touched = changed_since(connection, watermark, upto)
            crossed_grace(connection, touched, state.cutoff, cutoff)
            before = {party_of(r) for r in state.synced_registries or []}
            parties_changed(connection, touched, before.symmetric_difference(parties))
            findings, existing = _incremental(connection, touched, context)
            summary.full = False
        else:
            findings, existing = _full(connection, context)
        result = store.reconcile(connection, findings, existing, at)
        summary.opened, summary.reopened, summary.resolved = (
            result.opened,
            result.reopened,
            result.resolved,
        )
        counts = store.count_alerts(connection)["by_rule"]
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

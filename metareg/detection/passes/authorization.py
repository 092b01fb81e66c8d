"""The authorization pass: the authorization rules (DC07-DC09, DC13) over the actions
of each authorization key (cooperative approach, authorization id), and the versions
rules (DC14) over every registry's versions of each key.

Every authorization rule decides one action against `AuthorizationFacts`: the version
judging it and the key's first version (`rules.versions.Versions`, from the
authoritative versions of the key), and for a first transfer the running total DC09
computes (`dc09.running_totals`) when it passes the quantity. With one authoritative
version every action of the key is judged against it; with several, a use or
cancellation is judged as of its units' first transfer (`rules.versions.judged_on`),
which the pass finds among the key's first transfers. Each key is judged on its own,
so an incremental check re-judges exactly the keys whose actions or authorizations
changed. Three ways over the keys, with equal findings:

- `keys_pass`: every action and version of the given keys (the reference, and the
  keys judged whole: several versions, or first transfers that may exceed a quantity);
- `full_pass`: every key, reading only the actions the SQL filters of
  `prefilter.authorizations` let through, plus `keys_pass` over the keys judged whole;
- `InlineAuthorizations`: every action, one at a time, as the exhaustive sweep reads
  them (then `finish`: `keys_pass` over its keys judged whole, DC14 over the others).
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

from metareg.db.upsert import batched
from metareg.detection.prefilter import authorizations as prefilter
from metareg.detection.read import authorizations as read
from metareg.detection.read import blocks as read_blocks
from metareg.detection.read.changes import AuthKey, KeyChanges
from metareg.detection.rules import UNNAMED_ACTIONS, of_kind
from metareg.detection.rules.dc09_authorization_exceeded import (
    COUNTED,
    may_exceed,
    running_totals,
)
from metareg.detection.rules.kinds import AuthorizationRule, VersionsRule
from metareg.detection.rules.terms import (
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
)
from metareg.detection.rules.versions import AS_OF_FIRST_TRANSFER, Versions, judged_on
from metareg.findings import Finding, Identity

RULES = of_kind(AuthorizationRule)
VERSIONS_RULES = of_kind(VersionsRule)
NO_VERSIONS = Versions(())
NO_FACTS = NO_VERSIONS.facts("")


def judge_action(record: BlockRecord, facts: AuthorizationFacts) -> list[Finding]:
    """Every authorization rule on one action."""
    findings: list[Finding] = []
    for rule in RULES:
        finding = rule.check(record, facts)
        if finding is not None:
            findings.append(finding)
    return findings


def judge_versions(reported: Sequence[AuthorizationVersion]) -> list[Finding]:
    """Every versions rule on every registry's current versions of one key."""
    return [finding for rule in VERSIONS_RULES for finding in rule.check(reported)]


class FirstTransfers:
    """The first transfers among some actions, found by range: those that may overlap
    an action (by originating registry, `first_id` order and the longest range), for
    `rules.versions.judged_on` to choose from."""

    def __init__(self, actions: Iterable[BlockRecord]) -> None:
        self.by_registry: dict[str, list[BlockRecord]] = {}
        for record in actions:
            if record.action_type == COUNTED:
                self.by_registry.setdefault(record.party_registry_id, []).append(record)
        self.firsts: dict[str, list[int]] = {}
        self.span = 0
        for registry, found in self.by_registry.items():
            found.sort(key=lambda r: r.first_id)
            self.firsts[registry] = [r.first_id for r in found]
            self.span = max(self.span, *(r.last_id - r.first_id for r in found))

    def near(self, action: BlockRecord) -> list[BlockRecord]:
        found = self.by_registry.get(action.party_registry_id, [])
        firsts = self.firsts.get(action.party_registry_id, [])
        low = bisect.bisect_left(firsts, action.first_id - self.span)
        high = bisect.bisect_right(firsts, action.last_id)
        return found[low:high]


def _day(versions: Versions, record: BlockRecord, transfers: FirstTransfers | None) -> str:
    """The day the record is judged as of; "" where the key's judgement does not depend
    on it (a single version judges every action)."""
    if not versions.dated:
        return ""
    return judged_on(record, transfers.near(record) if transfers is not None else ())


def check_key(actions: list[BlockRecord], versions: Versions) -> list[Finding]:
    """Every authorization-rule finding among the actions of one key."""
    totals = running_totals(versions, actions)
    transfers = FirstTransfers(actions) if versions.dated else None
    findings: list[Finding] = []
    for record in actions:
        facts = versions.facts(_day(versions, record, transfers), totals.get(record.identity))
        findings += judge_action(record, facts)
    return findings


def keys_pass(connection: Connection, keys: Iterable[AuthKey]) -> Iterator[Finding]:
    """Every authorization-kind finding of the keys: their actions and their versions."""
    wanted = sorted(set(keys), key=lambda k: (k[0], k[1] or ""))
    reported = read.authorization_versions(connection, [(ca, aid) for ca, aid in wanted if aid])
    for ca, authorization_id in wanted:
        found = reported.get((ca, authorization_id), []) if authorization_id else []
        actions = read.actions_naming(connection, ca, authorization_id)
        yield from check_key(actions, Versions.of(found))
        yield from judge_versions(found)


def _in_key(record: BlockRecord, ca: str, authorization_id: str | None) -> bool:
    """Whether `read.actions_naming(ca, authorization_id)` would return the record."""
    if record.cooperative_approach_id != ca:
        return False
    if authorization_id:
        return record.authorization_id == authorization_id
    return record.authorization_id is None and record.action_type in UNNAMED_ACTIONS


def judged_whole(versions: Versions, changes: KeyChanges) -> bool:
    """Whether an incremental check must judge the key whole: its authorization changed,
    or a first transfer changed where several versions judge a use as of its units'
    first transfer (then uses that did not change may be judged by another version)."""
    return changes.whole or (versions.dated and changes.since is not None)


def changed_pass(
    connection: Connection,
    key: AuthKey,
    changes: KeyChanges,
    versions: Versions,
    current: dict[Identity, BlockRecord] | None = None,
    total: int | None = None,
    since: dict[tuple[str, str], list[BlockRecord]] | None = None,
) -> tuple[list[Finding], set[Identity], int | None]:
    """The findings of one key that its changes can affect, and the actions judged
    (the alerts of the key whose evidence names one of them, or a changed action, are
    the ones to reconcile), for a key not `judged_whole`. Equal, on those actions, to
    `check_key` over the whole key: a rule reads only the action and its facts (the
    version judging a use depends on first transfers, none of which changed), and
    DC09's running total is the SQL sum of the first transfers dated before
    `changes.since` (unchanged), continued over those from `since` on. `current`: the
    current actions among (at least) the changed ones, when the caller read them for
    several keys at once; `total`: the key's all-time total of first transfers, when
    the caller knows it (`read.kept_totals`): the sum before `since` is then that total
    less the first transfers from `since` on. Also returns that all-time total where
    the pass needed it (None where DC09's quantity clause needs no total). `since`:
    the first transfers from `changes.since` on of the keys the caller read them for
    (`first_transfers_needed`)."""
    ca, authorization_id = key
    if current is None:
        current = {r.identity: r for r in read.actions_with(connection, changes.actions)}
    judged: dict[Identity, BlockRecord] = {
        identity: record
        for identity in changes.actions
        if (record := current.get(identity)) is not None and _in_key(record, ca, authorization_id)
    }
    totals: dict[Identity, float] = {}
    if needs_first_transfers(key, changes, versions):
        assert authorization_id and changes.since is not None
        later = (since or {}).get((ca, authorization_id))
        if later is None:
            later = read.first_transfers_since(connection, ca, authorization_id, changes.since)
        judged.update((r.identity, r) for r in later)
        from_since = sum(r.quantity for r in later)
        if total is None:
            before = read.first_transferred_before(connection, ca, authorization_id, changes.since)
            total = before + from_since  # action_date is never null: nothing else counts
        else:
            before = total - from_since
        totals = running_totals(versions, later, start=before)
    else:
        total = None
    findings: list[Finding] = []
    for record in judged.values():
        day = _day(versions, record, _first_transfers_near(connection, versions, record))
        findings += judge_action(record, versions.facts(day, totals.get(record.identity)))
    return findings, {*judged, *changes.actions}, total


def needs_first_transfers(key: AuthKey, changes: KeyChanges, versions: Versions) -> bool:
    """Whether `changed_pass` reads the key's first transfers from `changes.since` on:
    a first transfer of a named key changed and a version gives a quantity."""
    return bool(key[1]) and changes.since is not None and _quantity_given(versions)


def first_transfers_needed(
    connection: Connection, keys: Iterable[tuple[AuthKey, KeyChanges, Versions]]
) -> dict[tuple[str, str], list[BlockRecord]]:
    """The first transfers `changed_pass` needs for each of these keys, read for every
    key at once (a key whose changes start from no date is left to `changed_pass`)."""
    wanted = [
        (ca, str(authorization_id), str(changes.since))
        for (ca, authorization_id), changes, versions in keys
        if needs_first_transfers((ca, authorization_id), changes, versions) and changes.since
    ]
    return read.first_transfers_since_keys(connection, wanted)


def _first_transfers_near(
    connection: Connection, versions: Versions, record: BlockRecord
) -> FirstTransfers | None:
    """The current first transfers meeting the record's range, where its judgement
    depends on them (several versions, a use or cancellation)."""
    if not versions.dated or record.action_type not in AS_OF_FIRST_TRANSFER:
        return None
    ca, registry = record.cooperative_approach_id, record.party_registry_id
    span = read_blocks.max_span(connection, ca, registry)
    meeting = read_blocks.blocks_meeting(
        connection, ca, registry, record.first_id, record.last_id, span
    )
    return FirstTransfers(meeting)


NamedKey = tuple[str, str]  # an authorization key naming an authorization


def _versions_by_key(
    connection: Connection,
) -> tuple[dict[NamedKey, list[AuthorizationVersion]], dict[NamedKey, Versions]]:
    reported = read.authorization_versions(connection)
    return reported, {key: Versions.of(found) for key, found in reported.items()}


def _quantity_given(versions: Versions) -> bool:
    return any(v.authorized_quantity is not None for v in versions.ordered)


class InlineAuthorizations:
    """The authorization rules judged action by action during the exhaustive sweep,
    which reads every action anyway: `check_key` per key, except for the keys judged
    whole (several versions, or first transfers that may exceed a quantity: they need
    the first transfers of the key), left to `finish`."""

    def __init__(self, connection: Connection) -> None:
        self.reported, self.versions = _versions_by_key(connection)
        self.whole: set[AuthKey] = {key for key, v in self.versions.items() if v.dated}
        self.whole |= {
            (ca, authorization_id)
            for ca, authorization_id, units in read.first_transfer_totals(connection)
            if may_exceed(self.versions.get((ca, authorization_id), NO_VERSIONS), units)
        }
        self.facts = {key: v.facts("") for key, v in self.versions.items()}

    def __call__(self, record: BlockRecord) -> list[Finding]:
        authorization_id = record.authorization_id
        if authorization_id is None:
            if record.action_type not in UNNAMED_ACTIONS:
                return []
            facts = NO_FACTS
        else:
            key = (record.cooperative_approach_id, authorization_id)
            if key in self.whole:
                return []
            facts = self.facts.get(key, NO_FACTS)
        return judge_action(record, facts)

    def finish(self, connection: Connection) -> Iterator[Finding]:
        """The keys judged whole, and the versions rules over every other key."""
        yield from keys_pass(connection, self.whole)
        for key, found in sorted(self.reported.items()):
            if key not in self.whole:
                yield from judge_versions(found)


def _judged(
    connection: Connection, statement: Any, params: dict[str, Any], facts: AuthorizationFacts
) -> Iterator[Finding]:
    make = BlockRecord._make
    for row in connection.execute(statement, params):
        yield from judge_action(make(row), facts)


def _judged_by_id(
    connection: Connection, statement: Any, params: dict[str, Any], facts: AuthorizationFacts
) -> Iterator[Finding]:
    """`_judged` of a filter that selects row ids (`prefilter.key_filter`): the ids
    first, from the index, then those actions by id."""
    ids = [row[0] for row in connection.execute(statement, params)]
    for record in read_blocks.blocks_by_id(connection, ids, ()):
        yield from judge_action(record, facts)


def _summed(
    connection: Connection, ca: str, authorization_id: str, totals: dict[NamedKey, int] | None
) -> int:
    total = read.first_transferred(connection, ca, authorization_id)
    if totals is not None:
        totals[(ca, authorization_id)] = total
    return total


def full_pass(
    connection: Connection,
    approaches: Collection[str] | None = None,
    totals: dict[NamedKey, int] | None = None,
) -> list[Finding]:
    """Every authorization-kind finding of the index (or of these cooperative
    approaches: a partition of a partitioned check), without reading every action:
    the same as `InlineAuthorizations` given every current action, then its `finish`
    (tests/detection/test_prefilter_authorizations.py). `totals`, when given, receives
    the all-time total of first transfers of each key the pass summed."""
    reported, versions_by_key = _versions_by_key(connection)
    if approaches is not None:
        reported = {key: found for key, found in reported.items() if key[0] in approaches}
    findings: list[Finding] = []
    whole: list[AuthKey] = []
    for ca in list(prefilter.approaches(connection)):
        if approaches is not None and ca not in approaches:
            continue
        findings.extend(_judged(connection, *prefilter.unnamed_filter(ca), NO_FACTS))
        missing: list[str] = []
        for aid in list(prefilter.authorization_ids(connection, ca)):
            versions = versions_by_key.get((ca, aid), NO_VERSIONS)
            if not versions:
                missing.append(aid)  # judged below, many keys per query
            elif versions.dated or (
                _quantity_given(versions)  # summed only where there is a quantity to exceed
                and may_exceed(versions, _summed(connection, ca, aid, totals))
            ):
                whole.append((ca, aid))
            else:
                found = prefilter.key_filter(ca, aid, versions)
                findings.extend(_judged_by_id(connection, *found, versions.facts("")))
        for chunk in batched(missing, prefilter.KEYS_CHUNK):
            findings.extend(
                _judged(connection, *prefilter.missing_filter(ca, list(chunk)), NO_FACTS)
            )
    findings.extend(keys_pass(connection, whole))
    judged = set(whole)
    for key, reported_versions in sorted(reported.items()):
        if key not in judged:
            findings.extend(judge_versions(reported_versions))
    return findings

"""The incremental finding: only what the changes since the last check can affect.

From the records changed since the watermark (`record_version` ids in (since, upto]),
the grace period's cutoff moving, Parties gaining or losing a synced registry,
registries gaining or losing their synced status (DC17), and registries whose
`acts_for` changed,
`read.changes` derives the block intervals, authorization keys and underlying
registries those changes can affect; this pass re-judges exactly those and says so
in its `JudgedScope`. Its findings there equal a full check's (tested with
hypothesis: tests/detection/test_incremental.py). The touched pairs' blocks are
independent of each other: after many changes the last pairs can be judged in another
process meanwhile (`elsewhere`, `split_pairs`; `checks.changed_reads`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from metareg.detection.passes import authorization, programmes, units
from metareg.detection.passes.scope import Detected, Interval, JudgedScope
from metareg.detection.passes.sweep import sweep_group
from metareg.detection.read import authorizations as read_authorizations
from metareg.detection.read import blocks as read_blocks
from metareg.detection.read import kept_totals
from metareg.detection.read.changes import (
    AuthKey,
    Touched,
    acting_changed,
    changed_since,
    crossed_grace,
    merge_intervals,
    originating_changed,
    parties_changed,
)
from metareg.detection.rules.kinds import CheckContext, authorization_scope, unit_scope
from metareg.detection.rules.terms import BlockRecord, party_of
from metareg.detection.rules.versions import Versions
from metareg.findings import Finding, Identity

NamedKey = tuple[str, str]
Pair = tuple[str, str]  # (cooperative approach, originating registry)
PairIntervals = list[tuple[Pair, list[Interval]]]  # per pair, sorted disjoint intervals
# Where some pairs' blocks can be judged meanwhile (`judge_blocks` on another process):
# given them, a wait for their findings (None: judge them here after all).
BlocksElsewhere = Callable[[PairIntervals, CheckContext], Callable[[], list[Finding] | None]]

# Handing pairs to another process costs a few milliseconds (its connection, the
# findings through a pipe). Measured on the 1M bench index (docs/benchmarks.md, stop
# 42): after 1,000 records (about 1,000 intervals) the check took 0.74 times as long;
# after 200 or 400 records no faster, within the machine's noise.
SPLIT_FROM_INTERVALS = 500
# The share of the touched intervals handed away: the check itself also judges the
# authorization and units rules meanwhile (with 0.6 it waited 3-26 ms for the answer
# after 1,000 records).
SHARE_ELSEWHERE = 0.6


@dataclass(frozen=True)
class Since:
    """What changed since the last check: the `record_version` ids in (watermark,
    upto], the grace cutoff it used, the Parties whose synced status changed, the
    registries whose `acts_for` changed, and the registries whose synced status
    changed."""

    watermark: int
    upto: int
    cutoff: date
    parties: frozenset[str]
    acting: frozenset[str] = frozenset()
    registries: frozenset[str] = frozenset()  # whose synced status changed

    @classmethod
    def between(
        cls,
        judged: Judged,
        upto: int,
        registries: Iterable[str],
        acting: dict[str, list[str]],
    ) -> Since:
        """What changed from what the last check judged to the index now (its last
        `record_version` id `upto`, its synced registries and their `acts_for`)."""
        before = frozenset(judged.registries)
        now = frozenset(registries)
        acted = judged.acting
        return cls(
            judged.watermark,
            upto,
            judged.cutoff,
            frozenset(party_of(r) for r in before).symmetric_difference(party_of(r) for r in now),
            frozenset(r for r in {*acted, *acting} if acted.get(r) != acting.get(r)),
            before.symmetric_difference(now),
        )


@dataclass(frozen=True)
class Judged:
    """What a check judged: the index up to `record_version` id `watermark`, with the
    grace period's `cutoff`, the synced registries and their `acts_for`."""

    watermark: int
    cutoff: date
    registries: tuple[str, ...]
    acting: dict[str, list[str]]


@dataclass(frozen=True)
class Within:
    """Part of the index (a partition of the checks): the cooperative approaches and
    the underlying registries (programmes) whose findings it owns."""

    approach: Callable[[str], bool]
    programme: Callable[[str], bool]


def meets(intervals: list[Interval], first: int | None, last: int | None) -> bool:
    """Whether [first, last] intersects one of the sorted, disjoint intervals."""
    if first is None or last is None:
        return False
    index = bisect.bisect_right(intervals, (last, float("inf"))) - 1
    return index >= 0 and intervals[index][1] >= first


def find_changed(
    connection: Connection,
    since: Since,
    context: CheckContext,
    within: Within | None = None,
    elsewhere: BlocksElsewhere | None = None,
) -> Detected:
    """The findings the changes since the last check can affect, and where they lie;
    `within`: only those of that part of the index (its scope lies there too);
    `elsewhere`: where the blocks of some touched pairs can be judged meanwhile when
    there are many (`split_pairs`)."""
    touched = changed_since(connection, since.watermark, since.upto)
    crossed_grace(connection, touched, since.cutoff, context.cutoff)
    parties_changed(connection, touched, since.parties)
    originating_changed(connection, touched, since.registries)
    acting_changed(connection, touched, since.acting)
    if within is not None:
        touched.keep_only(within.approach, within.programme)
    scope = JudgedScope()
    merged = sorted(touched.merged().items())
    mine, theirs = split_pairs(merged) if elsewhere is not None else (merged, [])
    # Their pairs judged elsewhere while the rest is judged here; then waited for.
    waiting = elsewhere(theirs, context) if elsewhere is not None and theirs else None
    blocks = judge_blocks(connection, mine, context)
    scope.block_ranges.update(merged)
    detected = Detected([], scope)
    if touched.unit_registries:
        detected.findings += units.find(connection, touched.unit_registries)
        detected.findings += programmes.find(connection, touched.unit_registries)
        scope.unit_scopes = {unit_scope(u) for u in touched.unit_registries}
    if touched.auth_keys:
        detected.findings += _authorizations(connection, touched, since.watermark, detected)
    if theirs:
        found = None if waiting is None else waiting()
        blocks += judge_blocks(connection, theirs, context) if found is None else found
    detected.findings = blocks + detected.findings
    return detected


def split_pairs(merged: PairIntervals) -> tuple[PairIntervals, PairIntervals]:
    """The touched pairs in two runs of their order: the first for the check itself,
    the second (`SHARE_ELSEWHERE` of the intervals) for another process; all in the
    first when there are fewer than `SPLIT_FROM_INTERVALS` intervals."""
    total = sum(len(intervals) for _, intervals in merged)
    if total < SPLIT_FROM_INTERVALS:
        return merged, []
    kept = 0
    for at, (_, intervals) in enumerate(merged):
        if kept >= total * (1 - SHARE_ELSEWHERE):
            return merged[:at], merged[at:]
        kept += len(intervals)
    return merged, []


def judge_blocks(
    connection: Connection, merged: PairIntervals, context: CheckContext
) -> list[Finding]:
    """The block findings meeting the pairs' touched intervals. Every block meeting a
    touched interval, and every block meeting those (their partners), is read: enough
    to judge any alert whose range meets the interval. All pairs' intervals are read
    together (`read.blocks.hulls_of_pairs`, `blocks_meeting_pairs`)."""
    if not merged:
        return []
    found_spans = read_blocks.max_spans(connection)
    wanted = [(ca, registry, *interval) for (ca, registry), found in merged for interval in found]
    reach = read_blocks.hulls_of_pairs(connection, wanted, found_spans)
    hulls = [
        (ca, registry, *hull)
        for (ca, registry), found in merged
        for hull in merge_intervals(reach[(ca, registry, *interval)] for interval in found)
    ]
    regions = read_blocks.blocks_meeting_pairs(connection, hulls, found_spans)
    findings: list[Finding] = []
    for (ca, registry), intervals in merged:
        region = regions.get((ca, registry), [])
        ordered = sorted(region, key=lambda r: (r.first_id, r.record_type, r.registry_id, r.uid))
        for finding in sweep_group(ordered, context):
            if meets(intervals, finding.first_id, finding.last_id):
                findings.append(finding)
    return findings


def _authorizations(
    connection: Connection, touched: Touched, watermark: int, detected: Detected
) -> list[Finding]:
    """The authorization rules over the touched keys: a key `judged_whole` is judged
    whole; for the others only what their changed actions can affect
    (`authorization.changed_pass`), and only the alerts naming a judged action are in
    scope. DC09's totals: a key's total kept as of the watermark is continued over its
    changed actions (`read.kept_totals`); the new totals, and the keys whose total may
    have changed, go to `detected`."""
    scope = detected.scope
    wanted = sorted(touched.auth_keys, key=lambda k: (k[0], k[1] or ""))
    reported = read_authorizations.authorization_versions(
        connection, _named(k for k in wanted if not touched.auth_changes[k].whole)
    )
    versions = {
        (ca, aid): Versions.of(reported.get((ca, aid), []) if aid else []) for ca, aid in wanted
    }
    whole = [
        key
        for key in wanted
        if authorization.judged_whole(versions[key], touched.auth_changes[key])
    ]
    findings: list[Finding] = list(authorization.keys_pass(connection, whole))
    for ca, authorization_id in whole:
        scope.authorization_scopes.setdefault(ca, set()).add(authorization_scope(authorization_id))
    judged_whole = set(whole)
    # The current actions among every changed one of the keys judged in part, read once.
    changed = {
        identity
        for key in wanted
        if key not in judged_whole
        for identity in touched.auth_changes[key].actions
    }
    current = {r.identity: r for r in read_authorizations.actions_with(connection, changed)}
    totals = _continued_totals(connection, touched, judged_whole, current, watermark)
    in_part = [key for key in wanted if key not in judged_whole]
    since = authorization.first_transfers_needed(
        connection, ((key, touched.auth_changes[key], versions[key]) for key in in_part)
    )
    for key in wanted:
        if key in judged_whole:
            continue
        ca, authorization_id = key
        found, judged, total = authorization.changed_pass(
            connection,
            key,
            touched.auth_changes[key],
            versions[key],
            current,
            totals.get((ca, authorization_id)) if authorization_id else None,
            since,
        )
        findings.extend(found)
        scope.authorization_actions[(ca, authorization_scope(authorization_id))] = judged
        if total is not None and authorization_id:
            detected.first_transferred[(ca, authorization_id)] = total
    # A first transfer of these keys changed: a total kept for one of them and not
    # continued above no longer holds.
    detected.totals_changed = {
        (ca, aid)
        for (ca, aid), changes in touched.auth_changes.items()
        if aid and changes.since is not None
    }
    return findings


def _continued_totals(
    connection: Connection,
    touched: Touched,
    judged_whole: set[AuthKey],
    current: dict[Identity, BlockRecord],
    watermark: int,
) -> dict[NamedKey, int]:
    """The all-time totals of first transfers, now, of the keys judged in part whose
    first transfers changed and whose total was kept as of the watermark: the kept
    total, less what their changed actions counted then, plus what they count now."""
    wanted = {
        key: touched.auth_changes[key]
        for key in touched.auth_keys
        if key not in judged_whole and key[1] and touched.auth_changes[key].since is not None
    }
    found = kept_totals.kept(connection, _named(wanted), watermark)
    if not found:
        return {}
    identities = {i for key in found for i in wanted[key].actions}
    then = kept_totals.counted_at(connection, identities, watermark)
    totals: dict[NamedKey, int] = {}
    for key, total in found.items():
        for identity in wanted[key].actions:
            before = then.get(identity)
            if before is not None and before[0] == key:
                total -= before[1]
            total += kept_totals.counted(current.get(identity), key)
        totals[key] = total
    return totals


def _named(keys: Iterable[tuple[str, str | None]]) -> list[tuple[str, str]]:
    return [(ca, aid) for ca, aid in keys if aid]

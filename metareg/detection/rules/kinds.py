"""The kinds of rule: what a pass must show a rule for it to decide, and which alerts
a later check re-judges together (the rule's alert scope).

Each rule module declares one `RULE`, an instance of its kind, holding its decision
functions and the record kinds it can flag. The passes take the rules of each kind
from `metareg.detection.rules.RULES` and call their decisions; what a pass computes
for the authorization rules (`AuthorizationFacts`: the version judging an action,
DC09's running total) it computes with `rules.versions` and DC09's own
`running_totals`.

| kind | decided on | alert scope |
|---|---|---|
| `RecordRule` | one block record alone (DC12) | block range |
| `PairRule` | two overlapping, distinct block records (DC01, DC02, DC05, DC06) | block range |
| `GroupRule` | overlapping records, once all are seen (DC04, DC10, DC11, DC17) | block range |
| `UnitsRule` | issuances, by their underlying units (DC03) | underlying registry |
| `ProgrammeRule` | an issuance and a status of its units (DC15, DC16) | underlying registry |
| `AuthorizationRule` | an action, against its authorization (DC07-DC09, DC13) | authorization |
| `VersionsRule` | every registry's versions of one authorization (DC14) | authorization |

The alert scope is how an incremental check finds the alerts that what it re-judged
can confirm or resolve: block-range alerts meeting a touched range of their
(cooperative approach, originating registry), `unit:<underlying registry>` alerts of
a touched underlying registry, `auth:<authorization id>` alerts of a touched
authorization. It follows from the kind (a pair is found where its blocks are), so
each kind fixes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Protocol

from metareg.detection.rules.programmes import UnitStatusRecord, resting, units_meet, units_of
from metareg.detection.rules.terms import (
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
    RecordKind,
    make_finding,
)
from metareg.findings import CATALOGUE, Finding, RuleInfo

BLOCK = "block"
UNITS = "units"
AUTHORIZATION = "authorization"


def unit_scope(underlying_registry_id: str) -> str:
    """The alert scope of a units rule's findings over one underlying registry."""
    return f"unit:{underlying_registry_id}"


def programme_finding(
    code: str, block: BlockRecord, status: UnitStatusRecord, sentence: str
) -> Finding | None:
    """A programme rule's finding on an ITMO issuance resting on units and one
    unit_status of them, when the two meet (`rules.programmes.units_meet`): its evidence
    the two records, its range the block's, its scope the underlying registry. `sentence`
    says what the rule found of the status."""
    if not resting(block) or not units_meet(units_of(block), status):
        return None
    return make_finding(
        code,
        f"{block.label()} rests on {block.underlying_registry_id} units "
        f"{block.first_unit_id} .. {block.last_unit_id or block.first_unit_id}{sentence}",
        (block.identity, status.identity),
        block=block,
        scope=unit_scope(block.underlying_registry_id or ""),
    )


def authorization_scope(authorization_id: str | None) -> str:
    """The alert scope of an authorization rule's findings under one authorization id."""
    return f"auth:{authorization_id or ''}"


def authorization_finding(
    rule: str,
    message: str,
    action: BlockRecord,
    authorization: AuthorizationVersion | None = None,
) -> Finding:
    """An authorization rule's finding: the action (and the authorization it was judged
    against, if any) as evidence, in the scope of the authorization id it names."""
    evidence = (
        (action.identity,)
        if authorization is None
        else (
            action.identity,
            authorization.identity,
        )
    )
    return make_finding(
        rule, message, evidence, block=action, scope=authorization_scope(action.authorization_id)
    )


def both_orders(
    firsts: Iterable[RecordKind], seconds: Iterable[RecordKind]
) -> frozenset[tuple[RecordKind, RecordKind]]:
    """Every (kind, kind) pair with one kind from each side, in either order."""
    return frozenset(pair for a in firsts for b in seconds for pair in ((a, b), (b, a)))


@dataclass(frozen=True)
class CheckContext:
    """What a check knows beside the records: "now" for the rules that wait for a
    counterpart (DC10/DC11), the Parties that have a synced registry, and the synced
    registries themselves (DC17 judges a block when its originating registry is)."""

    cutoff: date  # older than this is past the grace period
    grace_days: int
    synced_parties: frozenset[str]
    synced_registries: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Rule:
    code: str
    # What the authorization check says when a proposed action passes this rule (the
    # rules it judges: `metareg.detection.passes.proposed.JUDGED_RULES`).
    passed: str | None = None
    scope: ClassVar[str]

    @property
    def info(self) -> RuleInfo:
        return CATALOGUE[self.code]


@dataclass(frozen=True, kw_only=True)
class RecordRule(Rule):
    """Decided on one block record alone: the sweep shows it each record once."""

    scope: ClassVar[str] = BLOCK
    check: Callable[[BlockRecord], Finding | None]


@dataclass(frozen=True, kw_only=True)
class PairRule(Rule):
    """Decided on two overlapping, distinct block records: the sweep shows it each
    overlapping pair whose record kinds are among `kinds` (either order). `kinds` None:
    any pair, but only where the two records differ on one of `differ_on` (a necessary
    condition the rule states, so the sweep skips the pairs that agree)."""

    scope: ClassVar[str] = BLOCK
    check: Callable[[BlockRecord, BlockRecord], Finding | None]
    kinds: frozenset[tuple[RecordKind, RecordKind]] | None
    differ_on: tuple[str, ...] = ()


class GroupJudgement(Protocol):
    """A group rule's judgement over one group of overlapping records, in progress."""

    def see_record(self, record: BlockRecord) -> None: ...

    def see_pair(self, a: BlockRecord, b: BlockRecord) -> None: ...

    def findings(self) -> Iterator[Finding]: ...


@dataclass(frozen=True)
class Awaited:
    """Records a group rule flags when no counterpart is reported in time: their
    verdict changes as they age past the grace period, and when the Party named by
    `party_field` gains or loses a synced registry (the incremental check re-judges
    them then)."""

    kinds: frozenset[str]
    party_field: str


@dataclass(frozen=True, kw_only=True)
class GroupRule(Rule):
    """Decided once every record overlapping a record is known: the sweep starts one
    judgement per group of overlapping records (`start`), shows it the records of
    `record_kinds` and the overlapping pairs of `pair_kinds` (either order), then asks
    for its findings."""

    scope: ClassVar[str] = BLOCK
    start: Callable[[CheckContext], GroupJudgement]
    record_kinds: frozenset[RecordKind] = frozenset()
    pair_kinds: frozenset[tuple[RecordKind, RecordKind]] = frozenset()
    awaited: Awaited | None = None
    # Its verdict on a block changes when the block's originating registry gains or
    # loses its synced status (DC17): an incremental check then re-judges that
    # registry's blocks.
    originating_synced: bool = False


@dataclass(frozen=True, kw_only=True)
class UnitsRule(Rule):
    """Decided over issuances by their underlying units: `judged` says which records
    it concerns, `check_issuances` finds every conflict among the issuances given."""

    scope: ClassVar[str] = UNITS
    judged: Callable[[BlockRecord], bool]
    check_issuances: Callable[[Iterable[BlockRecord]], Iterator[Finding]]
    actions: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class AuthorizationRule(Rule):
    """Decided on one action against the authorization it names (`AuthorizationFacts`):
    `actions` are the action types it judges when they name an authorization,
    `unnamed_actions` those it judges when they name none."""

    scope: ClassVar[str] = AUTHORIZATION
    check: Callable[[BlockRecord, AuthorizationFacts], Finding | None]
    actions: frozenset[str]
    unnamed_actions: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class VersionsRule(Rule):
    """Decided on every registry's current versions of one authorization (cooperative
    approach, authorization id): `check` finds every conflict among them."""

    scope: ClassVar[str] = AUTHORIZATION
    check: Callable[[Sequence[AuthorizationVersion]], Iterator[Finding]]


@dataclass
class Unmatched:
    """The judgement of a rule that waits for a counterpart (DC10, DC11): the records
    it waits for (`waiting` says which; `kinds` are theirs), less those an overlapping
    counterpart matches (`matches(record, counterpart)`), are its findings."""

    context: CheckContext
    kinds: frozenset[str]
    waiting: Callable[[BlockRecord, CheckContext], bool]
    matches: Callable[[BlockRecord, BlockRecord], bool]
    finding: Callable[[BlockRecord, CheckContext], Finding]
    # By object id: the sweep shows the same record object in every pair of the group,
    # and this dict keeps each alive (an identity tuple per pair would cost more).
    unmatched: dict[int, BlockRecord] = field(default_factory=dict)

    def see_record(self, record: BlockRecord) -> None:
        if self.waiting(record, self.context):
            self.unmatched[id(record)] = record

    def see_pair(self, a: BlockRecord, b: BlockRecord) -> None:
        record, other = (a, b) if a.action_type in self.kinds else (b, a)
        if id(record) in self.unmatched and self.matches(record, other):
            del self.unmatched[id(record)]

    def findings(self) -> Iterator[Finding]:
        for record in self.unmatched.values():
            yield self.finding(record, self.context)


@dataclass(frozen=True, kw_only=True)
class ProgrammeRule(Rule):
    """Decided on an ITMO record resting on programme units and one status the
    programme reports for units they share (`rules.programmes.units_meet`): `judged`
    says which records it concerns, `narrows` a necessary condition on the statuses
    that can matter to it (column -> the values one of which it must hold; the
    prefilter reads only those, and never decides), `check` decides. Its alerts share
    the units rules' scope (`unit:<underlying registry>`)."""

    scope: ClassVar[str] = UNITS
    judged: Callable[[BlockRecord], bool]
    check: Callable[[BlockRecord, UnitStatusRecord], Finding | None]
    actions: frozenset[str]
    narrows: tuple[tuple[str, frozenset[str]], ...] = ()

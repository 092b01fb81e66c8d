"""The authorization terms DC07-DC09, DC13 and DC14 share: who may state an
authorization, which of its versions judges an action, and when an action's units
were first transferred. Pure: the passes give it the versions and first transfers.

RECORDS.md, "Who may state an authorization": "Only a registry that acts for the
`authorizing_party_id` is authoritative for it: a registry acts for the Party whose
alpha-3 code begins its id, and for the Parties listed in its `acts_for` entry in
`config/registries.toml` [...]. The same authorization reported by any other registry
is stored, shown and compared (rule DC14 of `RULES.md`), but never used to judge an
action." And: "A later `version` of the same `authorization_id` supersedes the
earlier one **from its own `authorization_date` on**, and never reaches back to ITMOs
already first transferred".

RULES.md, "Authorizations": "DC07-DC09 and DC13 judge an action against one version of
its authorization: for a `First transfer`, the version in force on its date; for a
`Use` or `Cancellation`, the version in force when its units were first transferred
(the latest `First transfer` in the index that covers its range and is dated on or
before it), or on its own date where the index holds none."

Decisions, where the spec leaves it open:

- "In force on D": of the authoritative versions dated on or before D
  (`authorization_date <= D`), the highest `version` (a later version supersedes the
  earlier ones from its own date on). Two authoritative registries reporting the same
  number (a Party's own registry and one acting for it): the Party's own registry
  wins, then the lowest registry id, so the choice is deterministic.
- "The first version" (DC13): the authoritative version with the earliest
  `authorization_date` (then the lowest number, then as above).
- An action dated before every version (DC13 flags it) is judged by DC07-DC09 against
  the first version: the authorization exists, so DC07 is silent, and its purposes,
  Parties, timeframe and quantity are those that came into force first.
- "When its units were first transferred": the first transfers that count are those
  naming the same authorization, of the same cooperative approach and originating
  registry, dated on or before the use, whose ranges overlap its range (a first
  transfer of the same units under another authorization is that authorization's
  business; the use is then judged on its own date). When together they cover its
  range (touching ranges join: 1-50 and 51-100 cover 1-100), its units were first
  transferred on the latest of their dates, the day its last units were; otherwise
  (some of its units have no such first transfer) it is judged on its own date. With
  one first transfer covering the range, that is RULES.md's "the latest First
  transfer [...] that covers its range".
- Dates are ISO text and compare as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from metareg.detection.rules.terms import (
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
    party_of,
)

FIRST_TRANSFER = "First transfer"
# Judged as of their units' first transfer; every other action on its own date.
AS_OF_FIRST_TRANSFER = frozenset({"Use", "Cancellation"})


def authoritative(version: AuthorizationVersion) -> bool:
    """RECORDS.md: the reporting registry acts for the authorizing Party (its own Party,
    or one of its `acts_for`)."""
    party = version.authorizing_party_id
    return party == party_of(version.registry_id) or party in (version.acts_for or ())


def _precedence(version: AuthorizationVersion) -> tuple[int, bool, list[int]]:
    return (
        version.version,
        party_of(version.registry_id) == version.authorizing_party_id,
        [-ord(c) for c in version.registry_id],
    )


@dataclass(frozen=True)
class Versions:
    """The authoritative versions of one authorization, highest precedence first."""

    ordered: tuple[AuthorizationVersion, ...]

    @classmethod
    def of(cls, reported: Iterable[AuthorizationVersion]) -> Versions:
        """From every registry's current versions: the authoritative ones."""
        found = [v for v in reported if authoritative(v)]
        return cls(tuple(sorted(found, key=_precedence, reverse=True)))

    def __bool__(self) -> bool:
        return bool(self.ordered)

    @cached_property
    def first(self) -> AuthorizationVersion | None:
        """The version that came into force first (DC13's "first version")."""
        if not self.ordered:
            return None
        _, found = min(
            enumerate(self.ordered),
            key=lambda item: (item[1].authorization_date, item[1].version, item[0]),
        )
        return found

    @property
    def dated(self) -> bool:
        """Whether the version judging an action can depend on its date (with a single
        version, every action is judged against it)."""
        return len(self.ordered) > 1

    def in_force(self, day: str) -> AuthorizationVersion | None:
        """The version in force on `day`; None before every version."""
        return next((v for v in self.ordered if v.authorization_date <= day), None)

    def judging(self, day: str) -> AuthorizationVersion | None:
        """The version that judges an action judged as of `day` (`judged_on`): the one
        in force then, or the first version for an action dated before every version."""
        return self.in_force(day) or self.first

    def facts(self, day: str, running_total: float | None = None) -> AuthorizationFacts:
        return AuthorizationFacts(self.judging(day), self.first, running_total)


def first_transferred_on(action: BlockRecord, first_transfers: Iterable[BlockRecord]) -> str | None:
    """The day the action's units were first transferred (the latest of the first
    transfers that together cover its range), or None when they do not cover it.
    `first_transfers` may hold others: only those that count are used."""
    day = action.action_date or ""
    spans = sorted(
        (ft.first_id, ft.last_id, ft.action_date or "")
        for ft in first_transfers
        if ft.action_type == FIRST_TRANSFER
        and ft.authorization_id == action.authorization_id
        and ft.cooperative_approach_id == action.cooperative_approach_id
        and ft.party_registry_id == action.party_registry_id
        and ft.first_id <= action.last_id
        and action.first_id <= ft.last_id
        and (ft.action_date or "") <= day
    )
    reached, latest = action.first_id - 1, ""
    for first, last, on in spans:
        if first > reached + 1:
            return None  # serials reached+1 .. first-1 were never first transferred
        reached, latest = max(reached, last), max(latest, on)
    return latest if reached >= action.last_id else None


def judged_on(action: BlockRecord, first_transfers: Iterable[BlockRecord] = ()) -> str:
    """The day whose version in force judges the action (`Versions.judging`): a use or
    cancellation's units' first transfer day where the index holds it, else its own."""
    if action.action_type in AS_OF_FIRST_TRANSFER:
        found = first_transferred_on(action, first_transfers)
        if found is not None:
            return found
    return action.action_date or ""

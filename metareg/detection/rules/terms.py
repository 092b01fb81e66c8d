"""What the rules judge, and the terms of RULES.md that several rules share.

`BlockRecord` is one current action or holding reduced to the columns the rules read.
It is a NamedTuple so a row streamed from the database becomes one with
`BlockRecord._make(row)` (no per-record ORM object), and so a proposed action given to
the authorization check can be one too. Dates are ISO strings: they compare correctly
as text and need no conversion per row. `AuthorizationVersion` is one registry's
current version of an authorization; `AuthorizationFacts` what an action is judged
against (which version, `rules.versions` decides).

The shared terms: "overlap", the Party a registry belongs to, a "transfer", and how a
rule states a finding. Everything here is pure: nothing reads the database.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from metareg.findings import CATALOGUE, Finding, Identity
from metareg.records.schemas import load_schema

# A record's kind as the passes dispatch on it: its action type, or HOLDING.
HOLDING = None
RecordKind = str | None

# RECORDS.md's action types, as the action schema lists them.
ACTION_TYPES = frozenset(load_schema("action")["properties"]["action_type"]["enum"])
# RULES.md's "First transfer or Transfer" (DC04's transfers out, DC10's transfers).
TRANSFERS = frozenset({"First transfer", "Transfer"})
ACQUISITION = "Acquisition"
# The registry of an action the authorization check proposes (never stored): messages
# call it "the proposed ..." rather than by the id the check made up for it.
PROPOSED = "(proposed)"


class BlockRecord(NamedTuple):
    """A current block record (action or holding): the columns the rules read."""

    record_type: str  # "action" | "holding"
    registry_id: str  # the reporting registry
    uid: str
    cooperative_approach_id: str
    party_registry_id: str
    first_id: int
    last_id: int
    first_transferring_party_id: str
    vintage: int
    metric: str
    mitigation_type: str | None
    quantity_tco2e: float | None
    action_type: str | None  # None (HOLDING) for holdings
    action_date: str | None  # ISO date (actions)
    authorization_id: str | None
    transferring_party_id: str | None
    acquiring_party_id: str | None
    purpose: str | None
    using_party_id: str | None
    using_entity_id: str | None
    as_of: str | None  # ISO date (holdings)
    account_id: str | None
    account_type: str | None
    underlying_registry_id: str | None
    first_unit_id: str | None
    last_unit_id: str | None

    @property
    def identity(self) -> Identity:
        return (self.registry_id, self.record_type, self.uid)

    @property
    def quantity(self) -> int:
        return self.last_id - self.first_id + 1

    def label(self) -> str:
        what = self.action_type or f"holding ({self.account_type} {self.account_id})"
        if self.registry_id == PROPOSED:
            return f"the proposed {what} [{self.first_id}-{self.last_id}]"
        return f"{what} {self.uid} of {self.registry_id} [{self.first_id}-{self.last_id}]"


BLOCK_FIELDS = BlockRecord._fields


def block_record(record: dict[str, Any], registry_id: str, uid: str) -> BlockRecord:
    """A canonical record (RECORDS.md field names) as a `BlockRecord`."""
    values: dict[str, Any] = {name: record.get(name) for name in BLOCK_FIELDS}
    values["record_type"] = record.get("record_type", "action")
    values["registry_id"] = registry_id
    values["uid"] = uid
    values["metric"] = record.get("metric") or "GHG"
    for name in ("action_date", "as_of"):
        if values[name] is not None:
            values[name] = str(values[name])[:10]
    return BlockRecord(**values)


class AuthorizationVersion(NamedTuple):
    """One registry's current version of an authorization: the columns DC07-DC09, DC13
    and DC14 read, and the Parties its reporting registry acts for (`acts_for`, from
    config/registries.toml through the index's registry table)."""

    registry_id: str
    uid: str
    cooperative_approach_id: str
    authorization_id: str
    version: int
    authorization_date: str  # ISO date
    authorizing_party_id: str
    authorized_quantity: float | None
    purposes: list[str] | None
    authorized_party_ids: list[str] | None
    authorized_entity_ids: list[str] | None
    timeframe_start: int | None
    timeframe_end: int | None
    status: str
    content_hash: str  # of the whole record (RECORDS.md normal form): "same content"
    acts_for: list[str] | None

    @property
    def identity(self) -> Identity:
        return (self.registry_id, "authorization", self.uid)


class AuthorizationFacts(NamedTuple):
    """What an action is judged against by the authorization rules: the version of the
    authorization it names that judges it (None: no authoritative registry reports the
    authorization), that authorization's first version (DC13), and, for a first
    transfer that takes the units first transferred under it past the quantity of the
    version judging it, the running total it reached (None otherwise).
    `rules.versions.Versions.facts` builds them."""

    authorization: AuthorizationVersion | None
    first: AuthorizationVersion | None = None
    running_total: float | None = None


def overlap(a: BlockRecord, b: BlockRecord) -> bool:
    """RULES.md "overlap": same cooperative approach and originating registry, and
    intersecting ranges. Touching ranges (one ends where the other starts - 1) do not."""
    return (
        a.cooperative_approach_id == b.cooperative_approach_id
        and a.party_registry_id == b.party_registry_id
        and a.first_id <= b.last_id
        and b.first_id <= a.last_id
    )


def party_of(registry_id: str) -> str:
    """RULES.md: a registry belongs to the Party whose alpha-3 code begins its id. A
    crediting programme's registry (VCS, CAR, ...) belongs to none: ""."""
    if len(registry_id) == 5 and registry_id[3:].isdigit():
        return registry_id[:3]
    return ""


def ordered(a: BlockRecord, b: BlockRecord) -> tuple[BlockRecord, BlockRecord]:
    """One order for a pair (by identity), so a finding's message does not depend on
    the order the pass met the two records in."""
    if (b.registry_id, b.record_type, b.uid) < (a.registry_id, a.record_type, a.uid):
        return b, a
    return a, b


def make_finding(
    rule: str,
    message: str,
    evidence: tuple[Identity, ...],
    block: BlockRecord | None = None,
    first_id: int | None = None,
    last_id: int | None = None,
    scope: str = "",
    cooperative_approach_id: str | None = None,
) -> Finding:
    """A finding on `block` (its approach, originating registry and range), or on no
    block (then only `cooperative_approach_id`, e.g. DC14 on an authorization)."""
    info = CATALOGUE[rule]
    return Finding(
        rule=rule,
        name=info.name,
        severity=info.severity,
        message=message,
        evidence=evidence,
        cooperative_approach_id=block.cooperative_approach_id if block else cooperative_approach_id,
        party_registry_id=block.party_registry_id if block else None,
        first_id=first_id if first_id is not None else (block.first_id if block else None),
        last_id=last_id if last_id is not None else (block.last_id if block else None),
        vintage=block.vintage if block else None,
        first_transferring_party_id=block.first_transferring_party_id if block else None,
        scope=scope,
    )


def pair_finding(rule: str, a: BlockRecord, b: BlockRecord, message: str) -> Finding:
    """A pair rule's finding: two evidence entries (in identity order), the
    intersection of the two blocks as its range."""
    first, second = sorted((a, b), key=lambda r: r.identity)
    return make_finding(
        rule,
        message,
        (first.identity, second.identity),
        block=a,
        first_id=max(a.first_id, b.first_id),
        last_id=min(a.last_id, b.last_id),
    )

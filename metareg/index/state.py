"""The state of ITMOs, derived from the action chain and holdings that cover them.

Registries report actions (issuance, first transfer, transfers, use, cancellation)
and holdings; nobody reports a unit's "state". We derive it: split the asked range
at every boundary of the records that cover it, and for each piece walk its actions
in date order. The state only moves forward (issued < authorized < first-transferred
< transferred < used / cancelled): a use or cancellation is final, so a later
transfer of the same units leaves the state "used" (that contradiction is what rule
DC06 flags, not something the state hides). The holder is whoever the most recent
holding snapshot covering the piece names; a tie between snapshots lists them all.

The API's /v1/itmos and /v1/blocks and the dashboard share this one derivation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Connection

from metareg.index import query

STATES = (
    "unknown",
    "held",
    "issued",
    "authorized",
    "first-transferred",
    "transferred",
    "used",
    "cancelled",
)
MIXED = "mixed"  # the pieces of a block are in different states

# How far each action type moves the state (higher = later in an ITMO's life).
_ACTION_STATE: dict[str, tuple[int, str]] = {
    "Issuance": (2, "issued"),
    "Authorization": (3, "authorized"),
    "First transfer": (4, "first-transferred"),
    "Transfer": (5, "transferred"),
    "Acquisition": (5, "transferred"),
    "Use": (6, "used"),
    "Cancellation": (6, "cancelled"),
    "Voluntary cancellation": (6, "cancelled"),
}
FINAL_TYPES = frozenset({"Use", "Cancellation", "Voluntary cancellation"})
_TYPE_ORDER = {name: rank for name, (rank, _state) in _ACTION_STATE.items()}


@dataclass(slots=True)
class Segment:
    """A run of serials whose covering records are the same, and what they make of it."""

    first_id: int
    last_id: int
    state: str
    vintage: int | None = None  # as the covering records give it (first by identity)
    first_transferring_party_id: str | None = None
    issued: dict[str, Any] | None = None
    first_transfer: dict[str, Any] | None = None
    last_transfer: dict[str, Any] | None = None
    use: dict[str, Any] | None = None  # the first use or cancellation
    holders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return self.last_id - self.first_id + 1

    def as_dict(self) -> dict[str, Any]:
        """The fields and the quantity; the events and holders are the segment's own
        dicts (fresh per derivation), not deep copies: `dataclasses.asdict` copied
        them again on every API answer."""
        data = {name: getattr(self, name) for name in _SEGMENT_FIELDS}
        data["holders"] = list(self.holders)
        data["quantity"] = self.quantity
        return data


_SEGMENT_FIELDS = tuple(f.name for f in fields(Segment))


def _event(item: dict[str, Any]) -> dict[str, Any]:
    record = item["record"]
    event = {
        "registry": item["registry"],
        "action_id": record.get("action_id"),
        "action_date": record.get("action_date"),
        "action_type": record.get("action_type"),
    }
    for key in (
        "authorization_id",
        "transferring_party_id",
        "acquiring_party_id",
        "purpose",
        "using_party_id",
        "using_entity_id",
        "ndc_use_year",
    ):
        if record.get(key) is not None:
            event[key] = record[key]
    return event


def _action_key(item: dict[str, Any]) -> tuple[str, int, str, str]:
    record = item["record"]
    return (
        str(record.get("action_date", "")),
        _TYPE_ORDER.get(record.get("action_type", ""), 0),
        item["registry"],
        item["record_id"],
    )


def _describe(first: int, last: int, covering: Sequence[dict[str, Any]]) -> Segment:
    actions = sorted(
        (item for item in covering if item["record_type"] == "action"), key=_action_key
    )
    holdings = [item for item in covering if item["record_type"] == "holding"]
    segment = Segment(first, last, "unknown")
    if covering:
        head = min(covering, key=lambda item: (item["registry"], item["record_id"]))["record"]
        segment.vintage = head.get("vintage")
        segment.first_transferring_party_id = head.get("first_transferring_party_id")
    rank = 0
    for item in actions:
        action_type = item["record"].get("action_type", "")
        step = _ACTION_STATE.get(action_type)
        if step is None:
            continue
        event = _event(item)
        if action_type == "Issuance" and segment.issued is None:
            segment.issued = event
        elif action_type == "First transfer" and segment.first_transfer is None:
            segment.first_transfer = event
        elif action_type in ("Transfer", "Acquisition"):
            segment.last_transfer = event
        elif action_type in FINAL_TYPES and segment.use is None:
            segment.use = event
        if step[0] > rank:
            rank, segment.state = step
    if holdings:
        latest = max(str(item["record"]["as_of"]) for item in holdings)
        segment.holders = [
            {
                "registry": item["registry"],
                "account_id": item["record"]["account_id"],
                "account_type": item["record"]["account_type"],
                "as_of": item["record"]["as_of"],
            }
            for item in sorted(holdings, key=lambda i: (i["registry"], i["record_id"]))
            if str(item["record"]["as_of"]) == latest
        ]
        if rank == 0:
            segment.state = "held"
    return segment


def _same(a: Segment, b: Segment) -> bool:
    return (
        a.state,
        a.vintage,
        a.first_transferring_party_id,
        a.issued,
        a.first_transfer,
        a.last_transfer,
        a.use,
        a.holders,
    ) == (
        b.state,
        b.vintage,
        b.first_transferring_party_id,
        b.issued,
        b.first_transfer,
        b.last_transfer,
        b.use,
        b.holders,
    )


def derive_segments(first: int, last: int, records: Iterable[dict[str, Any]]) -> list[Segment]:
    """The pieces of [first, last] and their state, from `query.intersecting` results.

    A sweep over the record boundaries: each piece is described by the records active
    over it, so the cost grows with the records, not with the serial range.
    """
    covering = sorted(
        (
            item
            for item in records
            if item["record"]["first_id"] <= last and item["record"]["last_id"] >= first
        ),
        key=lambda item: item["record"]["first_id"],
    )
    cuts = {first, last + 1}
    for item in covering:
        for cut in (item["record"]["first_id"], item["record"]["last_id"] + 1):
            if first < cut <= last:
                cuts.add(cut)
    edges = sorted(cuts)
    segments: list[Segment] = []
    active: list[dict[str, Any]] = []
    position = 0
    for start, stop in itertools.pairwise(edges):
        while position < len(covering) and covering[position]["record"]["first_id"] <= start:
            active.append(covering[position])
            position += 1
        active = [item for item in active if item["record"]["last_id"] >= start]
        segment = _describe(start, stop - 1, active)
        if segments and _same(segments[-1], segment):
            segments[-1].last_id = segment.last_id
        else:
            segments.append(segment)
    return segments


def overall_state(segments: Sequence[Segment]) -> str:
    states = {segment.state for segment in segments}
    return states.pop() if len(states) == 1 else MIXED


def quantity_by_state(segments: Sequence[Segment]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for segment in segments:
        totals[segment.state] = totals.get(segment.state, 0) + segment.quantity
    return totals


def block_state(
    connection: Connection, ca: str, registry: str, first: int, last: int
) -> dict[str, Any]:
    """The derived state of a block: overall, per state quantities, and the pieces."""
    records = query.intersecting(connection, ca, registry, first, last)
    segments = derive_segments(first, last, records)
    return {
        "state": overall_state(segments),
        "quantity_by_state": quantity_by_state(segments),
        "segments": [segment.as_dict() for segment in segments],
    }

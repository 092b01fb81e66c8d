"""The terms DC15 and DC16 share: what a crediting programme says about a range of its
units (`UnitStatusRecord`, one current RECORDS.md `unit_status`), the underlying units
of an ITMO block (`ProgrammeUnits`), and when the two meet (`units_meet`).

RULES.md (DC15, DC16): "the underlying units of an ITMO block (same
`underlying_registry_id`, unit ranges that intersect once parsed) overlap a
`unit_status`". Decisions, stated once here:

- The units of an ITMO block are those its `Issuance` names (`first_unit_id` ..
  `last_unit_id`, a missing last id: the first alone), parsed by the programme serial
  parsers exactly as DC03 parses them; later actions on the block rest on the same
  units.
- Both parsed: the same programme, the same batch (prefix) and blocks that intersect
  (`first <= other.last and other.first <= last`; touching blocks share no unit).
- Where one side cannot be parsed (a batch id: Cercarbono, Isometric, ARB, or the batch
  texts of exports that list no serials), the two meet when the unparsed side's text
  equals the other side's text or the other side's batch: the batch id matched exactly,
  never a guessed block.

Everything here is pure: nothing reads the database.
"""

from __future__ import annotations

from typing import NamedTuple

from metareg.detection.rules.terms import BlockRecord
from metareg.findings import Identity
from metareg.index.unitrange import parse_units

# RULES.md DC15: a retirement or cancellation "for a purpose other than `article6`".
CLAIMING_STATUSES = frozenset({"retired", "cancelled"})
ARTICLE6 = "article6"
NOT_AUTHORIZED = "not-authorized"


class UnitStatusRecord(NamedTuple):
    """A current `unit_status` with its range as the index parsed it when stored
    (`unit_prefix` None: a batch id or a serial no parser reads)."""

    registry_id: str  # the reporting source
    uid: str
    underlying_registry_id: str
    first_unit_id: str
    last_unit_id: str
    status: str
    status_date: str  # ISO date
    purpose: str
    article6_label: str
    unit_prefix: str | None
    unit_first: int | None
    unit_last: int | None
    quantity: float | None = None
    beneficiary: str | None = None

    @property
    def identity(self) -> Identity:
        return (self.registry_id, "unit_status", self.uid)

    def label(self) -> str:
        units = self.first_unit_id
        if self.last_unit_id != self.first_unit_id:
            units = f"{units} .. {self.last_unit_id}"
        return f"{self.underlying_registry_id} units {units}"


class ProgrammeUnits(NamedTuple):
    """A range of a programme's units: parsed (`prefix`, `first`, `last`) or not
    (`prefix` None), with the texts it was given."""

    programme: str
    prefix: str | None
    first: int
    last: int
    first_text: str
    last_text: str

    @property
    def texts(self) -> frozenset[str]:
        """The texts a batch-id status equal to one of them meets: the units' own text
        and, when parsed, their batch."""
        found = {self.first_text}
        if self.prefix is not None:
            found.add(self.prefix)
        return frozenset(found)


def programme_units(
    programme: str, first_unit_id: str, last_unit_id: str | None = None
) -> ProgrammeUnits:
    """A programme's serial (or first and last unit ids) as `ProgrammeUnits`."""
    last_text = last_unit_id or first_unit_id
    parsed = parse_units(first_unit_id, last_text, programme)
    if parsed is None:
        return ProgrammeUnits(programme, None, 0, -1, first_unit_id, last_text)
    return ProgrammeUnits(
        programme, parsed.prefix, parsed.first, parsed.last, first_unit_id, last_text
    )


def resting(record: BlockRecord) -> bool:
    """Whether an ITMO record rests on programme units DC15 and DC16 judge: an
    `Issuance` naming its underlying registry and units."""
    return (
        record.action_type == "Issuance"
        and bool(record.underlying_registry_id)
        and bool(record.first_unit_id)
    )


def units_of(record: BlockRecord) -> ProgrammeUnits:
    assert record.underlying_registry_id and record.first_unit_id
    return programme_units(record.underlying_registry_id, record.first_unit_id, record.last_unit_id)


def status_units(status: UnitStatusRecord) -> ProgrammeUnits:
    """A status's units as the index parsed them when it stored the status."""
    if status.unit_prefix is None or status.unit_first is None or status.unit_last is None:
        return ProgrammeUnits(
            status.underlying_registry_id, None, 0, -1, status.first_unit_id, status.last_unit_id
        )
    return ProgrammeUnits(
        status.underlying_registry_id,
        status.unit_prefix,
        status.unit_first,
        status.unit_last,
        status.first_unit_id,
        status.last_unit_id,
    )


def ranges_meet(a: ProgrammeUnits, b: ProgrammeUnits) -> bool:
    """Whether two ranges of programme units share a unit (this module's decisions)."""
    if a.programme != b.programme:
        return False
    if a.prefix is not None and b.prefix is not None:
        return a.prefix == b.prefix and a.first <= b.last and b.first <= a.last
    if b.prefix is None:
        return b.first_text in a.texts
    return a.first_text in b.texts


def units_meet(units: ProgrammeUnits, status: UnitStatusRecord) -> bool:
    """Whether an ITMO block's underlying units and a programme's status share a unit."""
    return ranges_meet(units, status_units(status))

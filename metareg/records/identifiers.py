"""The text form of an ITMO unique identifier (decision 6/CMA.4 annex I para 5).

One unit:  ``{CA}-{registry}-{first transferring Party}-{serial}-{vintage}``
A block:   ``{CA}-{registry}-{first transferring Party}-{first}-{last}-{vintage}``

``{CA}`` is a UNFCCC id (``CA0001``) or a provisional one (``CAP-RWA-SIQ``, RECORDS.md:
an approach the UNFCCC has not numbered yet); a provisional id holds '-' itself, so
the parts are read from the right (the third from the right is the first transferring
Party in the unit form, a serial in the block form).

e.g. ``CA0001-IDN01-IDN-1001-2000-2023``. The layout is our choice (see DOMAIN.md §2).

The parser is deliberately strict: an identifier is a key that joins records from
different registries, so two spellings of the same ITMO must not both be accepted.
The only leniency is stripping surrounding whitespace, which spreadsheets add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "APPROACH_ID_PATTERN",
    "MAX_IDENTIFIER_LENGTH",
    "MAX_SERIAL",
    "ITMOBlock",
    "IdentifierError",
    "format_itmo",
    "is_provisional",
    "parse_itmo",
]

# Part names used in errors; callers may match on IdentifierError.part.
PART_CA: Final = "cooperative approach"
PART_REGISTRY: Final = "originating registry"
PART_PARTY: Final = "first transferring Party"
PART_FIRST: Final = "first serial"
PART_LAST: Final = "last serial"
PART_RANGE: Final = "serial range"
PART_VINTAGE: Final = "vintage"
PART_FORMAT: Final = "format"

# The longest valid identifier is about 60 characters; the cap stops pathological input
# (e.g. a whole file pasted into a cell) before any splitting work.
MAX_IDENTIFIER_LENGTH: Final = 200
# Serials are at most 18 digits so they always fit a signed 64-bit database column.
MAX_SERIAL: Final = 10**18 - 1
MIN_VINTAGE: Final = 2000
MAX_VINTAGE: Final = 2100

# [0-9] rather than \d: \d also matches non-ASCII digits such as '١', which int() accepts.
_CA_RE: Final = re.compile(r"CA[0-9]{4}|CAP-[A-Z0-9][A-Z0-9-]{0,31}")
_PROVISIONAL_RE: Final = re.compile(r"CAP-[A-Z0-9][A-Z0-9-]{0,31}")
# A cooperative approach id as a whole (RECORDS.md), e.g. for an API parameter.
APPROACH_ID_PATTERN: Final = rf"^({_CA_RE.pattern})$"
_REGISTRY_RE: Final = re.compile(r"[A-Z]{3}[0-9]{2}")
_PARTY_RE: Final = re.compile(r"[A-Z]{3}")
# No leading zero, so every serial has exactly one spelling.
_SERIAL_RE: Final = re.compile(r"[1-9][0-9]{0,17}")
_VINTAGE_RE: Final = re.compile(r"[0-9]{4}")

_SHOWN_VALUE_CHARS: Final = 60

_EXPECT_CA: Final = (
    "expected 'CA' and 4 digits, e.g. CA0001, or a provisional id 'CAP-' and capitals, "
    "digits or '-', e.g. CAP-RWA-SIQ"
)
_EXPECT_REGISTRY: Final = "expected an ISO 3166 alpha-3 code and 2 digits, e.g. IDN01"
_EXPECT_PARTY: Final = "expected an ISO 3166 alpha-3 code in capitals, e.g. IDN"
_EXPECT_SERIAL: Final = "expected a whole number from 1 to 18 digits long, without a leading zero"
_EXPECT_VINTAGE: Final = f"expected a year from {MIN_VINTAGE} to {MAX_VINTAGE}"


class IdentifierError(ValueError):
    """Bad ITMO identifier text; names the wrong part."""

    def __init__(self, part: str, value: str, message: str) -> None:
        # Passing all three to ValueError keeps the exception picklable (args round-trip).
        super().__init__(part, value, message)
        self.part = part
        self.value = value
        self.message = message

    def __str__(self) -> str:
        shown = self.value
        if len(shown) > _SHOWN_VALUE_CHARS:
            shown = shown[:_SHOWN_VALUE_CHARS] + "..."
        return f"Invalid {self.part} in ITMO identifier ({shown!r}): {self.message}."


def _check_str(part: str, value: object, pattern: re.Pattern[str], expected: str) -> None:
    if not isinstance(value, str):
        raise IdentifierError(part, repr(value), f"expected text, got {type(value).__name__}")
    if pattern.fullmatch(value) is None:
        raise IdentifierError(part, value, expected)


def _check_int(part: str, value: object, low: int, high: int, expected: str) -> None:
    # bool is an int subclass; True as a serial is always a bug upstream.
    if not isinstance(value, int) or isinstance(value, bool):
        raise IdentifierError(part, repr(value), f"expected an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise IdentifierError(part, str(value), expected)


@dataclass(frozen=True, slots=True)
class ITMOBlock:
    """A block of consecutive ITMO serials; one unit when ``first_id == last_id``.

    Validated on construction, so ``parse_itmo(format_itmo(b)) == b`` for every instance.
    """

    cooperative_approach_id: str
    party_registry_id: str
    first_transferring_party_id: str
    first_id: int
    last_id: int
    vintage: int

    def __post_init__(self) -> None:
        _check_str(PART_CA, self.cooperative_approach_id, _CA_RE, _EXPECT_CA)
        _check_str(PART_REGISTRY, self.party_registry_id, _REGISTRY_RE, _EXPECT_REGISTRY)
        _check_str(PART_PARTY, self.first_transferring_party_id, _PARTY_RE, _EXPECT_PARTY)
        _check_int(PART_FIRST, self.first_id, 1, MAX_SERIAL, _EXPECT_SERIAL)
        _check_int(PART_LAST, self.last_id, 1, MAX_SERIAL, _EXPECT_SERIAL)
        if self.last_id < self.first_id:
            raise IdentifierError(
                PART_RANGE,
                f"{self.first_id}-{self.last_id}",
                "the last serial must not be smaller than the first",
            )
        _check_int(PART_VINTAGE, self.vintage, MIN_VINTAGE, MAX_VINTAGE, _EXPECT_VINTAGE)

    @property
    def quantity(self) -> int:
        """Number of ITMOs in the block (the range is inclusive)."""
        return self.last_id - self.first_id + 1

    @property
    def is_unit(self) -> bool:
        return self.first_id == self.last_id

    def text(self) -> str:
        """The unit form for one ITMO, the block form otherwise."""
        head = (
            f"{self.cooperative_approach_id}-{self.party_registry_id}-"
            f"{self.first_transferring_party_id}"
        )
        if self.is_unit:
            return f"{head}-{self.first_id}-{self.vintage}"
        return f"{head}-{self.first_id}-{self.last_id}-{self.vintage}"


def is_provisional(cooperative_approach_id: str | None) -> bool:
    """Whether a cooperative approach id is provisional (`CAP-...`, RECORDS.md): every
    output marks such an approach so."""
    return bool(cooperative_approach_id) and (
        _PROVISIONAL_RE.fullmatch(cooperative_approach_id or "") is not None
    )


def _split(text: str) -> list[str]:
    """The parts of the text form: a provisional approach id (with its own '-') joined
    back into the first part."""
    parts = text.split("-")
    if not text.startswith("CAP-") or len(parts) < 6:
        return parts
    # Unit form: ..., registry, Party (letters), serial, vintage; block: one more serial.
    tail = 4 if parts[-3].isalpha() else 5
    return ["-".join(parts[:-tail]), *parts[-tail:]]


def _serial(part: str, token: str) -> int:
    if _SERIAL_RE.fullmatch(token) is None:
        raise IdentifierError(part, token, _EXPECT_SERIAL)
    return int(token)


def _vintage(token: str) -> int:
    if _VINTAGE_RE.fullmatch(token) is None:
        raise IdentifierError(PART_VINTAGE, token, _EXPECT_VINTAGE)
    year = int(token)
    if not MIN_VINTAGE <= year <= MAX_VINTAGE:
        raise IdentifierError(PART_VINTAGE, token, _EXPECT_VINTAGE)
    return year


def parse_itmo(text: str) -> ITMOBlock:
    """Parse the unit (5 parts) or block (6 parts) text form.

    Raises IdentifierError, and nothing else, naming the first wrong part.
    """
    if not isinstance(text, str):
        raise IdentifierError(PART_FORMAT, repr(text), "expected text")
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise IdentifierError(PART_FORMAT, text, f"longer than {MAX_IDENTIFIER_LENGTH} characters")
    stripped = text.strip()
    if not stripped:
        raise IdentifierError(PART_FORMAT, text, "empty identifier")
    parts = _split(stripped)
    if len(parts) not in (5, 6):
        raise IdentifierError(
            PART_FORMAT,
            stripped,
            f"expected 5 parts (unit) or 6 parts (block) separated by '-', got {len(parts)}",
        )
    ca, registry, party = parts[0], parts[1], parts[2]
    # Check each part here (not only in __post_init__) so the error names the text token.
    _check_str(PART_CA, ca, _CA_RE, _EXPECT_CA)
    _check_str(PART_REGISTRY, registry, _REGISTRY_RE, _EXPECT_REGISTRY)
    _check_str(PART_PARTY, party, _PARTY_RE, _EXPECT_PARTY)
    first = _serial(PART_FIRST, parts[3])
    last = first if len(parts) == 5 else _serial(PART_LAST, parts[4])
    vintage = _vintage(parts[-1])
    return ITMOBlock(
        cooperative_approach_id=ca,
        party_registry_id=registry,
        first_transferring_party_id=party,
        first_id=first,
        last_id=last,
        vintage=vintage,
    )


def format_itmo(block: ITMOBlock) -> str:
    """The canonical text form; ``parse_itmo`` reads it back to an equal block."""
    return block.text()

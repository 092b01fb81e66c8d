"""Gold Standard serials: ``GS1-1-UG-GS11236-16-2024-30307-1-19149``.

Registry and unit type, country, project, a type code, vintage, issuance batch, then
block start and block end. Block numbers restart at 1 in every batch, so the batch
number must stay in the prefix.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import (
    NUMBER,
    SerialError,
    UnitRange,
    ascii_upper,
    clean,
    make_range,
    require_prefix,
)

NAME: Final = "Gold Standard"

_PREFIX: Final = r"GS[0-9]{1,4}-[0-9]{1,4}-[A-Z]{2}-GS[0-9]{1,10}-[0-9]{1,4}-[0-9]{4}-[0-9]{1,12}"
_SERIAL_RE: Final = re.compile(rf"(?P<prefix>{_PREFIX})-(?P<first>{NUMBER})-(?P<last>{NUMBER})")
_PREFIX_RE: Final = re.compile(_PREFIX)
_CLAIM_RE: Final = re.compile(r"GS[0-9]+-", re.IGNORECASE)


def claims(text: str) -> bool:
    return _CLAIM_RE.match(text) is not None


def parse_gold_standard(serial: str) -> UnitRange:
    text = ascii_upper(clean(serial, NAME), NAME)
    match = _SERIAL_RE.fullmatch(text)
    if match is None:
        raise SerialError(
            NAME, text, "expected GSn-n-country-GSproject-type-vintage-batch-start-end"
        )
    return make_range(NAME, text, match["prefix"], match["first"], match["last"])


def format_gold_standard(unit_range: UnitRange) -> str:
    require_prefix(NAME, unit_range, _PREFIX_RE)
    return f"{unit_range.prefix}-{unit_range.first}-{unit_range.last}"

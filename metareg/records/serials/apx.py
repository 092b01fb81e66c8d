"""Serials of the APX-hosted registries: ACR, CAR and ART TREES (incl. FCPF, ISFL).

They list a block as ``PREFIX-N to M``, e.g. ``ACR-FR-1129-2025-2917-30932 to 35143``,
``CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000``, ``FCPF-CI-130-2023-20-1 to 46404``.
A single unit (or the AEF's first/last unit ID) is ``PREFIX-N``.
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

NAME: Final = "APX (ACR/CAR/ART)"

# Programme tags that open an APX serial. ISFL is listed in DOMAIN.md and is issued on ART.
_TAGS: Final = r"(?:ACR|CAR|ART|FCPF|ISFL)"
_PREFIX: Final = rf"{_TAGS}(?:-[A-Z0-9]{{1,20}}){{1,15}}"
_SERIAL_RE: Final = re.compile(
    rf"(?P<prefix>{_PREFIX})-(?P<first>{NUMBER})(?: TO (?P<last>{NUMBER}))?"
)
_PREFIX_RE: Final = re.compile(_PREFIX)
_CLAIM_RE: Final = re.compile(rf"{_TAGS}-", re.IGNORECASE)


def claims(text: str) -> bool:
    return _CLAIM_RE.match(text) is not None


def parse_apx(serial: str) -> UnitRange:
    text = ascii_upper(clean(serial, NAME), NAME)
    match = _SERIAL_RE.fullmatch(text)
    if match is None:
        raise SerialError(NAME, text, "expected PROGRAMME-...-N or PROGRAMME-...-N to M")
    last = match["last"] if match["last"] is not None else match["first"]
    return make_range(NAME, text, match["prefix"], match["first"], last)


def format_apx(unit_range: UnitRange) -> str:
    require_prefix(NAME, unit_range, _PREFIX_RE)
    # The registries write ' to ' even for one unit ('...-1 to 1'); so do we.
    return f"{unit_range.prefix}-{unit_range.first} to {unit_range.last}"

"""Isometric record ids (``iss_1KP6EDZ8K1S036PY``, ``ret_...``): refused on purpose.

Isometric identifies issuances and retirements by opaque ids and measures them in kg
(fractional credits); there are no serial blocks. Many ids end in digits, which the
generic parser would misread as a one-unit block, so we claim and reject them.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import SerialError, UnitRange, clean

NAME: Final = "Isometric"

_ID_RE: Final = re.compile(r"[a-z]{2,4}_[0-9A-Z]{16}")


def claims(text: str) -> bool:
    return _ID_RE.fullmatch(text) is not None


def parse_isometric(serial: str) -> UnitRange:
    text = clean(serial, NAME)
    if claims(text):
        raise SerialError(
            NAME, text, "an Isometric record id names a batch measured in kg, not a serial block"
        )
    raise SerialError(NAME, text, "Isometric has no serial block format")

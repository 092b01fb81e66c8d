"""Cercarbono (EcoRegistry) serials.

EcoRegistry's ``serial`` (e.g. ``CDC_7_1_1_321_14_CO_1_1`` or ``..._2009_BF``) names an
issuance batch, not a block: retirements carry the block as separate ``from``/``to``
numbers, and those count from 0 in some batches and from 1 in others. We therefore
read a block only as ``BATCH N to M`` (or ``BATCH N``) and refuse a bare batch id, which
the generic parser would misread as one unit numbered by the batch's last part.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import NUMBER, SerialError, UnitRange
from metareg.records.serials.grammar import Grammar

NAME: Final = "Cercarbono"

_BATCH: Final = r"CDC(?:_[A-Z0-9]{1,20}){1,20}"
_BATCH_RE: Final = re.compile(_BATCH)
GRAMMAR: Final = Grammar(
    NAME,
    claim=re.compile(r"CDC_", re.IGNORECASE),
    serial=re.compile(rf"(?P<prefix>{_BATCH}) (?P<first>{NUMBER})(?: TO (?P<last>{NUMBER}))?"),
    shape="CDC_..._batch N to M",
    prefix=_BATCH_RE,
)


def parse_cercarbono(serial: str) -> UnitRange:
    text = GRAMMAR.text(serial)
    if _BATCH_RE.fullmatch(text) is not None:
        raise SerialError(
            NAME, text, "this is a batch id, not a block; append the block as ' FROM to TO'"
        )
    return GRAMMAR.block(text, GRAMMAR.fullmatch(text))


def format_cercarbono(unit_range: UnitRange) -> str:
    GRAMMAR.prefix_parts(unit_range)
    if unit_range.first == unit_range.last:
        return f"{unit_range.prefix} {unit_range.first}"
    return f"{unit_range.prefix} {unit_range.first} to {unit_range.last}"

"""UNDP National Carbon Registry serials.

v2 (undp-national-carbon-registry): ``CA0004-VU-CH-356-1-3000-2023`` = credit identifier
(the cooperative approach), originating Party, first transferring Party, project,
block start, block end, vintage.
v1 (undp/carbon-registry): ``VU-ITMO-11-356-2022-0-27-35`` = country (alpha-2), 'ITMO',
sectoral scope, programme, year, 0, block start, block end.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import NUMBER, SerialError, UnitRange
from metareg.records.serials.grammar import Grammar

NAME: Final = "UNDP National Carbon Registry"

_PARTY: Final = r"[A-Z]{2,3}"
_V2_HEAD: Final = rf"CA[0-9]{{4}}-{_PARTY}-{_PARTY}-[0-9]{{1,12}}"
# The vintage sits after the block, so the v2 prefix is head + vintage.
_V2_PREFIX_RE: Final = re.compile(rf"(?P<head>{_V2_HEAD})-(?P<vintage>[0-9]{{4}})")
_V1_HEAD: Final = r"[A-Z]{2}-ITMO-[0-9]{1,3}-[A-Z0-9]{1,20}-[0-9]{4}-[0-9]{1,3}"
_V1_RE: Final = re.compile(rf"(?P<prefix>{_V1_HEAD})-(?P<first>{NUMBER})-(?P<last>{NUMBER})")
_V1_PREFIX_RE: Final = re.compile(_V1_HEAD)
# The grammar's serial is the v2 shape; a v1 serial is tried first by its own pattern.
GRAMMAR: Final = Grammar(
    NAME,
    claim=re.compile(r"CA[0-9]{4}-|[A-Z]{2}-ITMO-", re.IGNORECASE),
    serial=re.compile(
        rf"(?P<head>{_V2_HEAD})-(?P<first>{NUMBER})-(?P<last>{NUMBER})-(?P<vintage>[0-9]{{4}})"
    ),
    shape="v2 CAnnnn-Party-Party-project-start-end-vintage "
    "or v1 CC-ITMO-scope-programme-year-0-start-end",
)


def parse_undp(serial: str) -> UnitRange:
    text = GRAMMAR.text(serial)
    v1 = _V1_RE.fullmatch(text)
    if v1 is not None:
        return GRAMMAR.block(text, v1)
    v2 = GRAMMAR.fullmatch(text)
    return GRAMMAR.block(text, v2, f"{v2['head']}-{v2['vintage']}")


def format_undp(unit_range: UnitRange) -> str:
    v2 = _V2_PREFIX_RE.fullmatch(unit_range.prefix)
    if v2 is not None:
        return f"{v2['head']}-{unit_range.first}-{unit_range.last}-{v2['vintage']}"
    if _V1_PREFIX_RE.fullmatch(unit_range.prefix) is not None:
        return f"{unit_range.prefix}-{unit_range.first}-{unit_range.last}"
    raise SerialError(NAME, unit_range.prefix, "the prefix has neither the v2 nor the v1 shape")

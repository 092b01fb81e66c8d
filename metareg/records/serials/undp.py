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

from metareg.records.serials._base import (
    NUMBER,
    SerialError,
    UnitRange,
    ascii_upper,
    clean,
    make_range,
)

NAME: Final = "UNDP National Carbon Registry"

_PARTY: Final = r"[A-Z]{2,3}"
_V2_HEAD: Final = rf"CA[0-9]{{4}}-{_PARTY}-{_PARTY}-[0-9]{{1,12}}"
_V2_RE: Final = re.compile(
    rf"(?P<head>{_V2_HEAD})-(?P<first>{NUMBER})-(?P<last>{NUMBER})-(?P<vintage>[0-9]{{4}})"
)
# The vintage sits after the block, so the v2 prefix is head + vintage.
_V2_PREFIX_RE: Final = re.compile(rf"(?P<head>{_V2_HEAD})-(?P<vintage>[0-9]{{4}})")
_V1_HEAD: Final = r"[A-Z]{2}-ITMO-[0-9]{1,3}-[A-Z0-9]{1,20}-[0-9]{4}-[0-9]{1,3}"
_V1_RE: Final = re.compile(rf"(?P<head>{_V1_HEAD})-(?P<first>{NUMBER})-(?P<last>{NUMBER})")
_V1_PREFIX_RE: Final = re.compile(_V1_HEAD)
_CLAIM_RE: Final = re.compile(r"CA[0-9]{4}-|[A-Z]{2}-ITMO-", re.IGNORECASE)


def claims(text: str) -> bool:
    return _CLAIM_RE.match(text) is not None


def parse_undp(serial: str) -> UnitRange:
    text = ascii_upper(clean(serial, NAME), NAME)
    v2 = _V2_RE.fullmatch(text)
    if v2 is not None:
        prefix = f"{v2['head']}-{v2['vintage']}"
        return make_range(NAME, text, prefix, v2["first"], v2["last"])
    v1 = _V1_RE.fullmatch(text)
    if v1 is not None:
        return make_range(NAME, text, v1["head"], v1["first"], v1["last"])
    raise SerialError(
        NAME,
        text,
        "expected v2 CAnnnn-Party-Party-project-start-end-vintage "
        "or v1 CC-ITMO-scope-programme-year-0-start-end",
    )


def format_undp(unit_range: UnitRange) -> str:
    v2 = _V2_PREFIX_RE.fullmatch(unit_range.prefix)
    if v2 is not None:
        return f"{v2['head']}-{unit_range.first}-{unit_range.last}-{v2['vintage']}"
    if _V1_PREFIX_RE.fullmatch(unit_range.prefix) is not None:
        return f"{unit_range.prefix}-{unit_range.first}-{unit_range.last}"
    raise SerialError(NAME, unit_range.prefix, "the prefix has neither the v2 nor the v1 shape")

"""Verra VCU serials.

Current (13 parts):
``19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1``
batch, block start, block end, programme, unit type, ..., registry, country, sectoral
scope, project id, vintage start (ddmmyyyy), vintage end, flag.
Older (12 parts) lack the programme part: ``...-VCU-034-APX-BR-14-1113-...``.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import NUMBER, UnitRange
from metareg.records.serials.grammar import Grammar

NAME: Final = "Verra VCU"

# Everything after the block numbers, in the 12-part layout; the 13-part layout adds the
# programme ('VCS') in front. Part lengths are bounded so matching stays linear.
_TAIL_12: Final = (
    r"[A-Z]{1,10}-[0-9]{1,10}-[A-Z]{1,10}-[A-Z]{2}-[0-9]{1,4}-[0-9]{1,10}"
    r"-[0-9]{8}-[0-9]{8}-[0-9]{1,2}"
)
_TAIL: Final = rf"(?:[A-Z]{{1,10}}-)?{_TAIL_12}"
# Three numbers then a word: nothing else looks like this, so a malformed one is an
# error rather than a case for the generic parser (which would take the flag as serial).
GRAMMAR: Final = Grammar(
    NAME,
    claim=re.compile(r"[0-9]+-[0-9]+-[0-9]+-[A-Za-z]"),
    serial=re.compile(
        rf"(?P<batch>{NUMBER})-(?P<first>{NUMBER})-(?P<last>{NUMBER})-(?P<tail>{_TAIL})"
    ),
    shape="batch-start-end-[VCS-]VCU-...-country-scope-project-ddmmyyyy-ddmmyyyy-flag",
    prefix=re.compile(rf"{NUMBER}-{_TAIL}"),
)


def parse_verra(serial: str) -> UnitRange:
    text = GRAMMAR.text(serial)
    match = GRAMMAR.fullmatch(text)
    # The batch id stays in the prefix: it is what ties a retired piece to its issuance.
    return GRAMMAR.block(text, match, f"{match['batch']}-{match['tail']}")


def format_verra(unit_range: UnitRange) -> str:
    batch, *tail = GRAMMAR.prefix_parts(unit_range)
    return f"{batch}-{unit_range.first}-{unit_range.last}-{'-'.join(tail)}"

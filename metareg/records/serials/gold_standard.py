"""Gold Standard serials: ``GS1-1-UG-GS11236-16-2024-30307-1-19149``.

Registry and unit type, country, project, a type code, vintage, issuance batch, then
block start and block end. Block numbers restart at 1 in every batch, so the batch
number must stay in the prefix.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import NUMBER
from metareg.records.serials.grammar import Grammar

NAME: Final = "Gold Standard"

_PREFIX: Final = r"GS[0-9]{1,4}-[0-9]{1,4}-[A-Z]{2}-GS[0-9]{1,10}-[0-9]{1,4}-[0-9]{4}-[0-9]{1,12}"
GRAMMAR: Final = Grammar(
    NAME,
    claim=re.compile(r"GS[0-9]+-", re.IGNORECASE),
    serial=re.compile(rf"(?P<prefix>{_PREFIX})-(?P<first>{NUMBER})-(?P<last>{NUMBER})"),
    shape="GSn-n-country-GSproject-type-vintage-batch-start-end",
    prefix=re.compile(_PREFIX),
    written="{prefix}-{first}-{last}",
)
parse_gold_standard: Final = GRAMMAR.parse
format_gold_standard: Final = GRAMMAR.format

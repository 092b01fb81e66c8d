"""Serials of the APX-hosted registries: ACR, CAR and ART TREES (incl. FCPF, ISFL).

They list a block as ``PREFIX-N to M``, e.g. ``ACR-FR-1129-2025-2917-30932 to 35143``,
``CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000``, ``FCPF-CI-130-2023-20-1 to 46404``.
A single unit (or the AEF's first/last unit ID) is ``PREFIX-N``.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import NUMBER
from metareg.records.serials.grammar import Grammar

NAME: Final = "APX (ACR/CAR/ART)"

# Programme tags that open an APX serial. ISFL is listed in DOMAIN.md and is issued on ART.
_TAGS: Final = r"(?:ACR|CAR|ART|FCPF|ISFL)"
_PREFIX: Final = rf"{_TAGS}(?:-[A-Z0-9]{{1,20}}){{1,15}}"
GRAMMAR: Final = Grammar(
    NAME,
    claim=re.compile(rf"{_TAGS}-", re.IGNORECASE),
    serial=re.compile(rf"(?P<prefix>{_PREFIX})-(?P<first>{NUMBER})(?: TO (?P<last>{NUMBER}))?"),
    shape="PROGRAMME-...-N or PROGRAMME-...-N to M",
    prefix=re.compile(_PREFIX),
    # The registries write ' to ' even for one unit ('...-1 to 1'); so do we.
    written="{prefix}-{first} to {last}",
)
parse_apx: Final = GRAMMAR.parse
format_apx: Final = GRAMMAR.format

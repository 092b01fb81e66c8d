"""What one detection run hands to the checks: its findings, and the part of the index
it judged (so the alerts there that no finding confirms can be resolved).

The scope is stated in the terms of the rules' alert scopes (`rules.kinds`): block
ranges for the block-scope rules, underlying registries for the units rules,
authorization keys for the authorization rules. Reading the alerts that lie there is
the checks' business (`metareg.checks`), not detection's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metareg.findings import Finding, Identity

Interval = tuple[int, int]


@dataclass
class JudgedScope:
    """Where a run judged. `everything`: the whole index (a full check). Otherwise:

    - `block_ranges`: per (cooperative approach, originating registry), sorted
      disjoint intervals: the block-scope alerts whose range meets one;
    - `unit_scopes`: the alert scopes (`unit:<id>`) of the units rules judged whole;
    - `authorization_scopes`: per cooperative approach, the alert scopes
      (`auth:<id>`) of the authorization keys judged whole;
    - `authorization_actions`: per (cooperative approach, alert scope) of a key judged
      in part, the actions judged: its alerts whose evidence names one of them.
    """

    everything: bool = False
    block_ranges: dict[tuple[str, str], list[Interval]] = field(default_factory=dict)
    unit_scopes: set[str] = field(default_factory=set)
    authorization_scopes: dict[str, set[str]] = field(default_factory=dict)
    authorization_actions: dict[tuple[str, str], set[Identity]] = field(default_factory=dict)


@dataclass
class Detected:
    """A run's findings and where it judged; and, for the checks to keep
    (`checks.first_transfer_totals`), DC09's all-time total of first transfers per
    named authorization key that the run knows as of the index it read, and the keys
    whose kept total may have changed without the run knowing the new one."""

    findings: list[Finding]
    scope: JudgedScope
    first_transferred: dict[tuple[str, str], int] = field(default_factory=dict)
    totals_changed: set[tuple[str, str]] = field(default_factory=set)

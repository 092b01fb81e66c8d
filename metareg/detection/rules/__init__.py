"""The rules of RULES.md, one module each: the only place a rule is decided.

Each `dcNN_*.py` quotes its rule, states the decisions the spec leaves open, and
declares `CODE` and `RULE`: an instance of its kind (`kinds.py`) holding the functions
that decide it and the record kinds it can flag. `RULES` lists them in code order;
the passes take the rules of each kind from it, so a new rule plugs in by being listed
here (and, for speed, by a necessary condition in the prefilter of its kind: without
one the prefilter lets every candidate of that kind through).
"""

from __future__ import annotations

from typing import TypeVar

from metareg.detection.rules import (
    dc01_double_issuance,
    dc02_identifier_conflict,
    dc03_underlying_unit_reuse,
    dc04_multiple_holders,
    dc05_double_use,
    dc06_activity_after_use,
    dc07_missing_authorization,
    dc08_purpose_not_authorized,
    dc09_authorization_exceeded,
    dc10_unmatched_transfer,
    dc11_unmatched_acquisition,
    dc12_quantity_mismatch,
    dc13_action_before_authorization,
    dc14_foreign_authorization,
    dc15_underlying_units_claimed_elsewhere,
    dc16_underlying_units_not_authorized,
    dc17_untraced_block,
)
from metareg.detection.rules.kinds import AUTHORIZATION, BLOCK, UNITS, AuthorizationRule, Rule

RULES: tuple[Rule, ...] = (
    dc01_double_issuance.RULE,
    dc02_identifier_conflict.RULE,
    dc03_underlying_unit_reuse.RULE,
    dc04_multiple_holders.RULE,
    dc05_double_use.RULE,
    dc06_activity_after_use.RULE,
    dc07_missing_authorization.RULE,
    dc08_purpose_not_authorized.RULE,
    dc09_authorization_exceeded.RULE,
    dc10_unmatched_transfer.RULE,
    dc11_unmatched_acquisition.RULE,
    dc12_quantity_mismatch.RULE,
    dc13_action_before_authorization.RULE,
    dc14_foreign_authorization.RULE,
    dc15_underlying_units_claimed_elsewhere.RULE,
    dc16_underlying_units_not_authorized.RULE,
    dc17_untraced_block.RULE,
)

R = TypeVar("R", bound=Rule)


def of_kind(kind: type[R]) -> tuple[R, ...]:
    """The rules of one kind, in code order."""
    return tuple(rule for rule in RULES if isinstance(rule, kind))


def codes_with_scope(scope: str) -> tuple[str, ...]:
    """The codes of the rules whose alerts share one alert scope (`kinds`)."""
    return tuple(rule.code for rule in RULES if rule.scope == scope)


# The rules whose alerts are re-judged by block range, by underlying registry
# ("unit:<id>"), by authorization ("auth:<id>").
BLOCK_RULES = codes_with_scope(BLOCK)
UNIT_RULES = codes_with_scope(UNITS)
AUTHORIZATION_RULES = codes_with_scope(AUTHORIZATION)
# The action types some authorization rule judges when they name no authorization:
# the actions of the key (cooperative approach, None).
UNNAMED_ACTIONS = frozenset(
    kind for rule in of_kind(AuthorizationRule) for kind in rule.unnamed_actions
)

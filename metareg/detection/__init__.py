"""Double-counting detection: the rules of RULES.md over the unified index.

- `run_checks(engine, *, full=False, as_of=None, grace_days=30) -> CheckSummary`:
  full or incremental checks, reconciling the alert store.
- `evaluate_action(connection, action, *, as_of) -> list[Finding]`: one (possibly
  hypothetical) action against the current index, with the same rule predicates.
- `authorization_status(connection, ca, authorization_id) -> dict | None`.
"""

from metareg.detection.evaluate import authorization_status, evaluate_action
from metareg.detection.model import CATALOGUE, Finding
from metareg.detection.runner import (
    DEFAULT_GRACE_DAYS,
    CheckSummary,
    run_checks,
    serialize_with_checks,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_GRACE_DAYS",
    "CheckSummary",
    "Finding",
    "authorization_status",
    "evaluate_action",
    "run_checks",
    "serialize_with_checks",
]

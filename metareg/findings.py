"""Findings and the rule catalogue: what detection produces and alerts store.

`Finding` is one conflict as a rule states it; the alert store turns findings into
alerts (fingerprint, lifecycle). `CATALOGUE` is RULES.md's table of codes, names and
severities (detection and operational rules alike); `fingerprint` is an alert's
identity. Shared by detection, checks and alerts, and importing nothing of theirs:
alerts never need detection to read or write a finding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RuleInfo:
    code: str
    name: str
    severity: str


CATALOGUE: dict[str, RuleInfo] = {
    info.code: info
    for info in (
        RuleInfo("DC01", "double-issuance", "critical"),
        RuleInfo("DC02", "identifier-conflict", "critical"),
        RuleInfo("DC03", "underlying-unit-reuse", "critical"),
        RuleInfo("DC04", "multiple-holders", "critical"),
        RuleInfo("DC05", "double-use", "critical"),
        RuleInfo("DC06", "activity-after-use", "critical"),
        RuleInfo("DC07", "missing-authorization", "high"),
        RuleInfo("DC08", "purpose-not-authorized", "high"),
        RuleInfo("DC09", "authorization-exceeded", "high"),
        RuleInfo("DC10", "unmatched-transfer", "warning"),
        RuleInfo("DC11", "unmatched-acquisition", "warning"),
        RuleInfo("DC12", "quantity-mismatch", "low"),
        RuleInfo("DC13", "action-before-authorization", "high"),
        RuleInfo("DC14", "foreign-authorization", "high"),
        RuleInfo("DC15", "underlying-units-claimed-elsewhere", "critical"),
        RuleInfo("DC16", "underlying-units-not-authorized", "high"),
        RuleInfo("DC17", "untraced-block", "high"),
        RuleInfo("SY01", "registry-unreachable", "high"),
        RuleInfo("SY02", "reconciliation-mismatch", "high"),
        RuleInfo("SY03", "records-quarantined", "warning"),
        # Not in RULES.md (silent on it; proposed in issue 16): a complete listing that
        # would withdraw more than the registry's allowed share, held back.
        RuleInfo("SY04", "withdrawals-held", "high"),
    )
}
# The double-counting rules (RULES.md's first table; the others are operational).
DETECTION_RULES = tuple(code for code in CATALOGUE if code.startswith("DC"))

Identity = tuple[str, str, str]  # (registry, record_type, record_id)


@dataclass(frozen=True, slots=True)
class Finding:
    """One conflict found by a rule: `(rule, name, severity, message, evidence)` plus
    where it lies. `evidence` is a tuple of (registry, record_type, record_id)."""

    rule: str
    name: str
    severity: str
    message: str
    evidence: tuple[Identity, ...]
    cooperative_approach_id: str | None = None
    party_registry_id: str | None = None
    first_id: int | None = None
    last_id: int | None = None
    vintage: int | None = None
    first_transferring_party_id: str | None = None
    scope: str = ""
    details: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule, self.evidence)

    @property
    def registries(self) -> list[str]:
        return sorted({registry for registry, _, _ in self.evidence})

    def evidence_dicts(self) -> list[dict[str, str]]:
        return [
            {"registry": registry, "record_type": record_type, "record_id": record_id}
            for registry, record_type, record_id in self.evidence
        ]


HOLDING = "holding"


def evidence_identity(item: Identity) -> Identity:
    """RULES.md: "a holding's evidence identity leaves out `as_of`": a holding row's
    identity is `as_of|account|block`, and a newer snapshot of the same account and
    block carries the same conflict, not a new one."""
    registry, record_type, record_id = item
    if record_type == HOLDING and "|" in record_id:
        return (registry, record_type, record_id.split("|", 1)[1])
    return item


def fingerprint(rule: str, evidence: tuple[Identity, ...] | list[Identity]) -> str:
    """RULES.md: an alert's identity is its rule plus its evidence identities (in any
    order, a holding's without its `as_of`), so re-running the checks finds the same
    alert again."""
    parts = [rule, *sorted("\x1f".join(evidence_identity(item)) for item in evidence)]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()

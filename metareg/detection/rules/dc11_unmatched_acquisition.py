"""DC11 unmatched-acquisition (warning).

RULES.md: "an `Acquisition` from Party A, more than the grace period old, with no
`First transfer` or `Transfer` of an overlapping range to the acquiring Party
reported by a synced registry of Party A (only raised when that Party has a synced
registry)".

The acquiring Party is the Party of the registry that reported the acquisition; the
match is DC10's `matches` seen from the other side, so the two rules never disagree
on what a matching pair is.
"""

from __future__ import annotations

from datetime import date

from metareg.detection.rules.dc10_unmatched_transfer import matches
from metareg.detection.rules.terms import Rec, make_finding
from metareg.findings import Finding

CODE = "DC11"

__all__ = ["CODE", "finding", "is_candidate", "matches"]


def is_candidate(acquisition: Rec, cutoff: date, synced_parties: frozenset[str]) -> bool:
    return (
        acquisition.action_type == "Acquisition"
        and acquisition.transferring_party_id is not None
        and acquisition.transferring_party_id in synced_parties
        and (acquisition.action_date or "9999") < cutoff.isoformat()
    )


def finding(acquisition: Rec, grace_days: int) -> Finding:
    return make_finding(
        CODE,
        f"{acquisition.label()} from {acquisition.transferring_party_id} on "
        f"{acquisition.action_date} has no matching transfer reported by a registry of "
        f"{acquisition.transferring_party_id} after {grace_days} days",
        (acquisition.identity,),
        block=acquisition,
    )

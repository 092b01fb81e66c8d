"""DC10 unmatched-transfer (warning).

RULES.md: "a `First transfer` or `Transfer` to Party B, more than the grace period
old, with no `Acquisition` of an overlapping range from the transferring Party
reported by a synced registry of Party B (only raised when that Party has a synced
registry)".

Decisions: the transferring Party is the Party of the registry that reported the
transfer (RULES.md: a registry belongs to the Party whose code begins its id);
"more than the grace period old" means `action_date < now - grace` (strictly older);
any overlapping acquisition matches (a partial acquisition is a match: the parties
agree the transfer happened, DC02 and holdings catch quantity disputes).
"""

from __future__ import annotations

from datetime import date

from metareg.detection.rules.terms import TRANSFER_TYPES, Rec, make_finding, overlap, party_of
from metareg.findings import Finding

CODE = "DC10"


def matches(transfer: Rec, acquisition: Rec) -> bool:
    """Whether `acquisition` is the receiving side of `transfer` (shared with DC11)."""
    return (
        transfer.action_type in TRANSFER_TYPES
        and acquisition.action_type == "Acquisition"
        and transfer.acquiring_party_id == party_of(acquisition.registry_id)
        and acquisition.transferring_party_id == party_of(transfer.registry_id)
        and overlap(transfer, acquisition)
    )


def is_candidate(transfer: Rec, cutoff: date, synced_parties: frozenset[str]) -> bool:
    """A transfer old enough to expect its acquisition, to a Party that reports to us."""
    return (
        transfer.action_type in TRANSFER_TYPES
        and transfer.acquiring_party_id is not None
        and transfer.acquiring_party_id in synced_parties
        and (transfer.action_date or "9999") < cutoff.isoformat()
    )


def finding(transfer: Rec, grace_days: int) -> Finding:
    return make_finding(
        CODE,
        f"{transfer.label()} to {transfer.acquiring_party_id} on {transfer.action_date} has "
        f"no matching acquisition reported by a registry of {transfer.acquiring_party_id} "
        f"after {grace_days} days",
        (transfer.identity,),
        block=transfer,
    )

"""The operational alerts (RULES.md SY01-SY03), judged from what the sync side committed.

Run by every check, in its transaction (after a round of syncs, and by `metareg
check`): for each registry the sync side has tried to sync it reads the health its last
sync committed (`sync_state`), its unreviewed quarantine and its last reconciliation,
and opens, refreshes or resolves its alert of each code (one per code and registry):

- SY01 registry-unreachable: open while the last sync failed and there has been no
  successful one for longer than the staleness limit the registry was synced with;
  resolved once a sync succeeds.
- SY02 reconciliation-mismatch: open while the last reconciliation found differences;
  resolved by a clean one.
- SY03 records-quarantined: open while quarantined records await review, counting them;
  resolved when none remain.
- SY04 withdrawals-held (proposed; RULES.md has no code for it): open while a complete
  listing's withdrawals are held back because they exceed the registry's allowed share
  of its current records (`metareg.sync.holds`); resolved once they are confirmed,
  repeated by the registry, or cleared by a listing that withdraws less.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from metareg.alerts.operational import raise_operational, resolve_operational
from metareg.sync import holds, state

SY01 = "SY01"  # registry-unreachable
SY02 = "SY02"  # reconciliation-mismatch
SY03 = "SY03"  # records-quarantined
SY04 = "SY04"  # withdrawals-held


def judge_operational(connection: Connection, now: datetime) -> None:
    """Bring the SY alerts in line with the sync state, in the caller's transaction."""
    unreviewed = state.unreviewed_quarantine(connection)
    held: dict[str, list[holds.Hold]] = {}
    for hold in holds.pending(connection):
        held.setdefault(hold.registry_id, []).append(hold)
    for registry_id, waiting_holds in held.items():
        what = "; ".join(
            f"{h.scope}: {h.withdraw_count} of {h.current_count} current records"
            for h in waiting_holds
        )
        raise_operational(
            connection,
            SY04,
            registry_id,
            f"{registry_id}: a complete listing would withdraw more than "
            f"{waiting_holds[0].share_limit:.0%} of its records ({what}); held back until "
            f"an admin confirms (metareg sync confirm {registry_id}) or the registry "
            "repeats the listing",
            details={"holds": [h.as_dict() for h in waiting_holds]},
            now=now,
        )
    for health in state.health(connection):
        registry_id = health.registry_id
        if health.stale(now):
            since = health.last_success_at.isoformat() if health.last_success_at else None
            raise_operational(
                connection,
                SY01,
                registry_id,
                f"{registry_id}: no successful sync since {since or 'never'} (limit "
                f"{health.staleness_limit}); last error: {health.last_error}",
                details={
                    "last_success_at": since,
                    "consecutive_failures": health.consecutive_failures,
                    "error_kind": health.last_error_kind,
                    "last_error": health.last_error,
                },
                now=now,
            )
        elif health.consecutive_failures == 0 and health.last_success_at is not None:
            resolve_operational(connection, SY01, registry_id, now=now)
        waiting = unreviewed.get(registry_id, 0)
        if waiting:
            raise_operational(
                connection,
                SY03,
                registry_id,
                f"{waiting} quarantined record(s) from {registry_id} await review",
                details={"unreviewed": waiting},
                now=now,
            )
        else:
            resolve_operational(connection, SY03, registry_id, now=now)
        if registry_id not in held:
            resolve_operational(connection, SY04, registry_id, now=now)
    for outcome in state.reconciliations(connection):
        if outcome.status == "mismatch":
            totals = outcome.summary.get("totals", [])
            raise_operational(
                connection,
                SY02,
                outcome.registry_id,
                f"{outcome.registry_id}: reconciliation found {len(totals)} total(s) and "
                f"{outcome.summary.get('block_differences', 0)} block(s) differing from the "
                "index",
                details=outcome.summary,
                now=now,
            )
        elif outcome.status == "ok":
            resolve_operational(connection, SY02, outcome.registry_id, now=now)

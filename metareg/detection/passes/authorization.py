"""The authorization-level pass: DC07, DC08 and DC09 over the actions of each
authorization key (cooperative approach, authorization id).

Each key is judged on its own, against the current authorization of that key
(`choose_current`), so an incremental check re-judges exactly the keys whose actions
or authorizations changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection

from metareg.detection.read import blocks as loading
from metareg.detection.read.changes import KeyChanges
from metareg.detection.rules import (
    dc07_missing_authorization,
    dc08_purpose_not_authorized,
    dc09_authorization_exceeded,
)
from metareg.detection.rules.terms import AuthRec, Rec, choose_current
from metareg.findings import Finding, Identity

AuthKey = tuple[str, str | None]  # (cooperative approach, authorization id or None)


def check_key(actions: list[Rec], authorization: AuthRec | None) -> list[Finding]:
    """Every DC07-DC09 finding among the actions of one authorization key."""
    findings: list[Finding] = []
    for record in actions:
        for rule in (dc07_missing_authorization, dc08_purpose_not_authorized):
            finding = rule.check(record, authorization)
            if finding is not None:
                findings.append(finding)
    if authorization is not None:
        findings += dc09_authorization_exceeded.check_authorization(authorization, actions)
    return findings


def keys_pass(connection: Connection, keys: Iterable[AuthKey]) -> Iterator[Finding]:
    wanted = sorted(set(keys), key=lambda k: (k[0], k[1] or ""))
    versions = loading.authorization_versions(connection, [(ca, aid) for ca, aid in wanted if aid])
    for ca, authorization_id in wanted:
        actions = loading.actions_naming(connection, ca, authorization_id)
        current = (
            choose_current(versions.get((ca, authorization_id), [])) if authorization_id else None
        )
        yield from check_key(actions, current)


def _in_key(record: Rec, ca: str, authorization_id: str | None) -> bool:
    """Whether `loading.actions_naming(ca, authorization_id)` would return the record."""
    if record.cooperative_approach_id != ca:
        return False
    if authorization_id:
        return record.authorization_id == authorization_id
    return (
        record.authorization_id is None
        and record.action_type in dc07_missing_authorization.NEEDS_AUTHORIZATION
    )


def changed_pass(
    connection: Connection, key: AuthKey, changes: KeyChanges, current: AuthRec | None
) -> tuple[list[Finding], set[Identity]]:
    """The findings of one key that its changes can affect, and the actions judged
    (the alerts of the key whose evidence names one of them, or a changed action, are
    the ones to reconcile). Equal, on those actions, to `check_key` over the whole key:
    DC07/DC08 and DC09's per-action reasons read only the action and `current`; DC09's
    running total is the SQL sum of the first transfers dated before `changes.since`
    (unchanged) continued over those from `since` on, in `transfer_order`."""
    ca, authorization_id = key
    judged: dict[Identity, Rec] = {
        r.identity: r
        for r in loading.actions_with(connection, changes.actions)
        if _in_key(r, ca, authorization_id)
    }
    totals: dict[Identity, float] = {}
    limit = current.authorized_quantity if current is not None else None
    if authorization_id and limit is not None and changes.since is not None:
        later = loading.first_transfers_from(connection, ca, authorization_id, changes.since)
        judged.update((r.identity, r) for r in later)
        total = 0.0 + loading.first_transferred(connection, ca, authorization_id, changes.since)
        for record in sorted(later, key=dc09_authorization_exceeded.transfer_order):
            total += record.quantity
            if total > limit:
                totals[record.identity] = total
    findings: list[Finding] = []
    for record in judged.values():
        findings += judge_action(record, current, totals.get(record.identity))
    return findings, {*judged, *changes.actions}


class InlineAuthorizations:
    """DC07-DC09 judged record by record during the full sweep, which reads every
    action anyway, instead of a second sorted pass over them.

    Equivalent to `check_key` per key: DC07 and DC08 are per record; DC09 is per
    record too except for the running total, so the keys whose first transfers
    exceed their authorized quantity (summed in SQL) are left to `keys_pass`.
    """

    def __init__(self, connection: Connection) -> None:
        versions = loading.authorization_versions(connection)
        self.current = {key: choose_current(found) for key, found in versions.items()}
        self.exceeded: set[AuthKey] = set()
        for ca, authorization_id, total in loading.first_transfer_totals(connection):
            current = self.current.get((ca, authorization_id))
            limit = current.authorized_quantity if current is not None else None
            if limit is not None and total > limit:
                self.exceeded.add((ca, authorization_id))

    def __call__(self, record: Rec) -> list[Finding]:
        authorization_id = record.authorization_id
        if authorization_id is None:
            if record.action_type not in dc07_missing_authorization.NEEDS_AUTHORIZATION:
                return []
            current = None
        else:
            key = (record.cooperative_approach_id, authorization_id)
            if key in self.exceeded:
                return []
            current = self.current.get(key)
        return judge_action(record, current)


def judge_action(
    record: Rec, current: AuthRec | None, running_total: float | None = None
) -> list[Finding]:
    """DC07, DC08 and DC09 on one action against `current` (its key's current
    authorization); `running_total`: the first transfers' total this action took past
    the authorized quantity, if it did (None: not past it, or not a first transfer)."""
    findings: list[Finding] = []
    for rule in (dc07_missing_authorization, dc08_purpose_not_authorized):
        finding = rule.check(record, current)
        if finding is not None:
            findings.append(finding)
    if current is not None:
        why = dc09_authorization_exceeded.reasons(record, current, running_total)
        if why:
            findings.append(dc09_authorization_exceeded.make(record, current, why))
    return findings


def full_pass(connection: Connection) -> list[Finding]:
    """Every DC07-DC09 finding of the index, without reading every action: exactly
    `InlineAuthorizations` on every current action plus `keys_pass` over its exceeded
    keys (see `authscreen`)."""
    from metareg.detection.prefilter import authorizations as authscreen

    return authscreen.full_pass(connection)

"""The authorization pass: the authorization rules (DC07-DC09) over the actions of
each authorization key (cooperative approach, authorization id).

Every rule of the kind decides one action against `AuthorizationFacts`: the key's
current authorization, and for a first transfer the running total DC09 computes
(`dc09.running_totals`) when it passes the authorized quantity. Each key is judged on
its own, so an incremental check re-judges exactly the keys whose actions or
authorizations changed. Three ways over the keys, with equal findings:

- `keys_pass`: every action of the given keys (the reference, and the keys whose
  first transfers exceed their quantity);
- `full_pass`: every key, reading only the actions the SQL filters of
  `prefilter.authorizations` let through, plus `keys_pass` over the exceeded keys;
- `InlineAuthorizations`: every action, one at a time, as the exhaustive sweep reads
  them (plus `keys_pass` over its exceeded keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection

from metareg.db.upsert import batched
from metareg.detection.prefilter import authorizations as prefilter
from metareg.detection.read import authorizations as read
from metareg.detection.read.changes import AuthKey, KeyChanges
from metareg.detection.rules import UNNAMED_ACTIONS, of_kind
from metareg.detection.rules.dc09_authorization_exceeded import exceeded, running_totals
from metareg.detection.rules.kinds import AuthorizationRule
from metareg.detection.rules.terms import (
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
    current_authorization,
)
from metareg.findings import Finding, Identity

RULES = of_kind(AuthorizationRule)


def judge_action(record: BlockRecord, facts: AuthorizationFacts) -> list[Finding]:
    """Every authorization rule on one action."""
    findings: list[Finding] = []
    for rule in RULES:
        finding = rule.check(record, facts)
        if finding is not None:
            findings.append(finding)
    return findings


def check_key(actions: list[BlockRecord], current: AuthorizationVersion | None) -> list[Finding]:
    """Every authorization-rule finding among the actions of one key."""
    totals = running_totals(current, actions) if current is not None else {}
    findings: list[Finding] = []
    for record in actions:
        findings += judge_action(record, AuthorizationFacts(current, totals.get(record.identity)))
    return findings


def keys_pass(connection: Connection, keys: Iterable[AuthKey]) -> Iterator[Finding]:
    wanted = sorted(set(keys), key=lambda k: (k[0], k[1] or ""))
    versions = read.authorization_versions(connection, [(ca, aid) for ca, aid in wanted if aid])
    for ca, authorization_id in wanted:
        actions = read.actions_naming(connection, ca, authorization_id)
        current = (
            current_authorization(versions.get((ca, authorization_id), []))
            if authorization_id
            else None
        )
        yield from check_key(actions, current)


def _in_key(record: BlockRecord, ca: str, authorization_id: str | None) -> bool:
    """Whether `read.actions_naming(ca, authorization_id)` would return the record."""
    if record.cooperative_approach_id != ca:
        return False
    if authorization_id:
        return record.authorization_id == authorization_id
    return record.authorization_id is None and record.action_type in UNNAMED_ACTIONS


def changed_pass(
    connection: Connection,
    key: AuthKey,
    changes: KeyChanges,
    current: AuthorizationVersion | None,
) -> tuple[list[Finding], set[Identity]]:
    """The findings of one key that its changes can affect, and the actions judged
    (the alerts of the key whose evidence names one of them, or a changed action, are
    the ones to reconcile). Equal, on those actions, to `check_key` over the whole key:
    a rule reads only the action and its facts, and DC09's running total is the SQL
    sum of the first transfers dated before `changes.since` (unchanged), continued over
    those from `since` on."""
    ca, authorization_id = key
    judged: dict[Identity, BlockRecord] = {
        r.identity: r
        for r in read.actions_with(connection, changes.actions)
        if _in_key(r, ca, authorization_id)
    }
    totals: dict[Identity, float] = {}
    limit = current.authorized_quantity if current is not None else None
    if authorization_id and limit is not None and changes.since is not None:
        assert current is not None
        later = read.first_transfers_from(connection, ca, authorization_id, changes.since)
        judged.update((r.identity, r) for r in later)
        before = read.first_transferred(connection, ca, authorization_id, changes.since)
        totals = running_totals(current, later, start=before)
    findings: list[Finding] = []
    for record in judged.values():
        findings += judge_action(record, AuthorizationFacts(current, totals.get(record.identity)))
    return findings, {*judged, *changes.actions}


def _current_by_key(connection: Connection) -> dict[AuthKey, AuthorizationVersion | None]:
    return {
        key: current_authorization(found)
        for key, found in read.authorization_versions(connection).items()
    }


class InlineAuthorizations:
    """The authorization rules judged action by action during the exhaustive sweep,
    which reads every action anyway: `check_key` per key, except for the keys whose
    first transfers exceed their authorized quantity (`exceeded`: they need the
    running total over all their first transfers), left to `keys_pass`."""

    def __init__(self, connection: Connection) -> None:
        self.current = _current_by_key(connection)
        self.exceeded: set[AuthKey] = {
            (ca, authorization_id)
            for ca, authorization_id, units in read.first_transfer_totals(connection)
            if exceeded(self.current.get((ca, authorization_id)), units)
        }

    def __call__(self, record: BlockRecord) -> list[Finding]:
        authorization_id = record.authorization_id
        if authorization_id is None:
            if record.action_type not in UNNAMED_ACTIONS:
                return []
            current = None
        else:
            key = (record.cooperative_approach_id, authorization_id)
            if key in self.exceeded:
                return []
            current = self.current.get(key)
        return judge_action(record, AuthorizationFacts(current))


def _judged(
    connection: Connection,
    statement: Any,
    params: dict[str, Any],
    current: AuthorizationVersion | None,
) -> Iterator[Finding]:
    make = BlockRecord._make
    facts = AuthorizationFacts(current)
    for row in connection.execute(statement, params):
        yield from judge_action(make(row), facts)


def full_pass(connection: Connection) -> list[Finding]:
    """Every authorization-rule finding of the index, without reading every action:
    the same as `InlineAuthorizations` given every current action plus `keys_pass`
    over its exceeded keys (tests/detection/test_prefilter_authorizations.py)."""
    current = _current_by_key(connection)
    findings: list[Finding] = []
    exceeded_keys: list[AuthKey] = []
    for ca in list(prefilter.approaches(connection)):
        findings.extend(_judged(connection, *prefilter.unnamed_filter(ca), None))
        missing: list[str] = []
        for aid in list(prefilter.authorization_ids(connection, ca)):
            authorization = current.get((ca, aid))
            if authorization is None:
                missing.append(aid)  # judged below, many keys per query
            elif authorization.authorized_quantity is not None and exceeded(
                authorization, read.first_transferred(connection, ca, aid)
            ):  # summed only where there is a quantity to exceed
                exceeded_keys.append((ca, aid))
            else:
                found = prefilter.key_filter(ca, aid, authorization)
                if found is not None:
                    findings.extend(_judged(connection, *found, authorization))
        for chunk in batched(missing, prefilter.KEYS_CHUNK):
            findings.extend(_judged(connection, *prefilter.missing_filter(ca, list(chunk)), None))
    findings.extend(keys_pass(connection, exceeded_keys))
    return findings

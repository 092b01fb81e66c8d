"""The alert store and its lifecycle (RULES.md "Alerts").

An alert is identified by its fingerprint (rule plus evidence identities), its `id`
is a short stable digest of that fingerprint. A check hands `reconcile` the findings
it made over some part of the index together with the alerts that part already had:

- a finding without an alert opens one (`opened`);
- a finding whose alert was resolved reopens it (`reopened`), the same id;
- a finding whose alert is open or acknowledged only refreshes `last_seen` and the
  message (an acknowledged alert stays acknowledged until resolved);
- an open or acknowledged alert of that part that no finding confirms any more is
  `resolved` (a registry corrected or withdrew a record).

Every status change is an event (`metareg.alerts.events`). Writes are bulk (the one
upsert helper); no per-alert query. New alerts (a first check writes thousands) go
straight to its fast path as tuples, their JSON serialized once by orjson, and their
`opened` events carry the alert objects built alongside (no read back). The caller
owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    select,
    update,
)

from metareg.alerts.events import EventItem, record_events, serialize_writers
from metareg.db.collector import collector_paused
from metareg.db.driver import DriverSelect
from metareg.db.json_params import json_values
from metareg.db.tables.alerts import Alert
from metareg.db.upsert import batched, json_text, write_rows
from metareg.findings import CATALOGUE, Finding
from metareg.index.query import lowest_first

ALERT_FIELDS = (
    "id",
    "rule",
    "name",
    "severity",
    "status",
    "cooperative_approach_id",
    "party_registry_id",
    "first_id",
    "last_id",
    "vintage",
    "first_transferring_party_id",
    "registries",
    "evidence",
    "message",
    "first_seen",
    "last_seen",
    "resolved_at",
)
STATUSES = ("open", "acknowledged", "resolved")
UNRESOLVED = ("open", "acknowledged")
LOOKUP_CHUNK = 2_000

alerts_table = Alert


class AlertError(ValueError):
    """A request about an alert that cannot be honoured (unknown id, bad status)."""


def alert_id(fingerprint: str) -> str:
    """A short, stable id derived from the fingerprint (64 bits of it)."""
    return fingerprint[:16]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; they were stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat().replace("+00:00", "Z")


def to_dict(row: Any) -> dict[str, Any]:
    """An alert row as the RULES.md alert object: exactly its field names."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    alert = {name: mapping[name] for name in ALERT_FIELDS}
    for name in ("first_seen", "last_seen", "resolved_at"):
        alert[name] = _iso(alert[name])
    alert["registries"] = list(alert["registries"] or [])
    alert["evidence"] = list(alert["evidence"] or [])
    alert["identifier"] = identifier(alert)
    return alert


def identifier(alert: dict[str, Any]) -> str | None:
    """RULES.md: the ITMO text form of the alert's range (DOMAIN.md section 2), or None
    where the alert has no block (an authorization's, an operational alert)."""
    parts = (
        alert.get("cooperative_approach_id"),
        alert.get("party_registry_id"),
        alert.get("first_transferring_party_id"),
        alert.get("first_id"),
        alert.get("last_id"),
        alert.get("vintage"),
    )
    if None in parts:
        return None
    ca, registry, party, first, last, vintage = parts
    # A provisional approach (CAP-...) has no ITMO id grammar yet: same layout.
    return f"{ca}-{registry}-{party}-{first}-{last}-{vintage}"


def registry_keys(registries: Iterable[str], party_registry_id: str | None) -> str:
    keys = sorted({*registries, *([party_registry_id] if party_registry_id else [])})
    return "|" + "|".join(keys) + "|" if keys else ""


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# -- reading ---------------------------------------------------------------------------


def _filters(
    status: str | None,
    rule: str | None,
    registry: str | None,
    cooperative_approach_id: str | None,
) -> list[Any]:
    conditions: list[Any] = []
    if status is not None:
        if status not in STATUSES:
            raise AlertError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        conditions.append(alerts_table.c.status == status)
    if rule is not None:
        if rule.upper() not in CATALOGUE:
            raise AlertError(f"unknown rule {rule!r}; the rules are {', '.join(CATALOGUE)}")
        conditions.append(alerts_table.c.rule == rule.upper())
    if registry is not None:
        conditions.append(alerts_table.c.registry_keys.contains(f"|{registry}|"))
    if cooperative_approach_id is not None:
        conditions.append(alerts_table.c.cooperative_approach_id == cooperative_approach_id)
    return conditions


def list_alerts(
    connection: Connection,
    *,
    status: str | None = None,
    rule: str | None = None,
    registry: str | None = None,
    cooperative_approach_id: str | None = None,
    limit: int = 100,
    after_id: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts in id order (stable for paging with `after_id`). `registry` matches the
    originating registry or any reporting registry involved."""
    conditions = _filters(status, rule, registry, cooperative_approach_id)
    if after_id is not None:
        conditions.append(alerts_table.c.id > after_id)
    rows = connection.execute(
        select(alerts_table).where(*conditions).order_by(alerts_table.c.id).limit(max(limit, 0))
    )
    return [to_dict(row) for row in rows]


def count_alerts(
    connection: Connection,
    *,
    status: str | None = None,
    rule: str | None = None,
    registry: str | None = None,
    cooperative_approach_id: str | None = None,
) -> dict[str, Any]:
    """{"total": n, "by_status": {...}, "by_rule": {rule: {status: n}}, "by_severity": {...}}."""
    conditions = _filters(status, rule, registry, cooperative_approach_id)
    rows = connection.execute(
        select(alerts_table.c.rule, alerts_table.c.severity, alerts_table.c.status, func.count())
        .where(*conditions)
        .group_by(alerts_table.c.rule, alerts_table.c.severity, alerts_table.c.status)
    )
    total = 0
    by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)
    by_rule: dict[str, dict[str, int]] = {}
    by_severity: dict[str, int] = {}
    for rule_code, severity, state, count in rows:
        total += count
        by_status[state] = by_status.get(state, 0) + count
        by_rule.setdefault(rule_code, dict.fromkeys(STATUSES, 0))[state] += count
        by_severity[severity] = by_severity.get(severity, 0) + count
    return {"total": total, "by_status": by_status, "by_rule": by_rule, "by_severity": by_severity}


# Read from the (rule, status) index alone: no row of the table is visited.
_BY_RULE = select(alerts_table.c.rule, alerts_table.c.status, func.count()).group_by(
    alerts_table.c.rule, alerts_table.c.status
)


def count_by_rule(connection: Connection) -> dict[str, dict[str, int]]:
    """{rule: {status: n}} over every alert: `count_alerts(connection)["by_rule"]`,
    without the severity, so SQLite counts from the `(rule, status)` index instead of
    reading every alert (a check's summary, after every check)."""
    by_rule: dict[str, dict[str, int]] = {}
    for rule_code, state, count in connection.execute(_BY_RULE):
        by_rule.setdefault(rule_code, dict.fromkeys(STATUSES, 0))[state] += count
    return by_rule


def get_alert(connection: Connection, alert_id: str) -> dict[str, Any] | None:
    row = connection.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).first()
    return to_dict(row) if row else None


def get_acknowledgement(connection: Connection, alert_id: str) -> dict[str, Any] | None:
    """Who acknowledged an alert, when, and their note (not part of the alert object)."""
    row = connection.execute(
        select(
            alerts_table.c.acknowledged_at, alerts_table.c.acknowledged_by, alerts_table.c.note
        ).where(alerts_table.c.id == alert_id)
    ).first()
    if row is None or row.acknowledged_at is None:
        return None
    return {"at": _iso(row.acknowledged_at), "by": row.acknowledged_by, "note": row.note}


def _touching_statement(status: str | None) -> Any:
    conditions = [
        alerts_table.c.cooperative_approach_id == bindparam("ca"),
        alerts_table.c.party_registry_id == bindparam("registry"),
        # An alert's range lies within a block of its pair, so the scan of the
        # (approach, registry, first_id) index starts at the pair's longest block before
        # the range, not at the pair's first alert (a GET of an ITMO read every alert of
        # its pair up to its range: 0.049 of its 0.187 ms on the 1M bench index).
        alerts_table.c.first_id >= lowest_first(bindparam("first_id")),
        alerts_table.c.first_id <= bindparam("last_id"),
        alerts_table.c.last_id >= bindparam("first_id"),
    ]
    if status == "open":
        # One bound parameter per status (not an expanding IN, re-rendered per call).
        conditions.append(alerts_table.c.status.in_([bindparam(s) for s in UNRESOLVED]))
    elif status is not None:
        conditions.append(alerts_table.c.status == bindparam("status"))
    return (
        select(alerts_table).where(*conditions).order_by(alerts_table.c.first_id, alerts_table.c.id)
    )


# Built once: the API's hottest reads (`GET /v1/itmos/{id}`, the authorization check)
# ask for the unresolved alerts on their units on every request.
_TOUCHING = {
    "open": DriverSelect(_touching_statement("open")),
    None: DriverSelect(_touching_statement(None)),
}
_TOUCHING_STATUS = DriverSelect(_touching_statement("resolved"))


def alerts_touching(
    connection: Connection,
    ca: str,
    registry: str,
    first_id: int,
    last_id: int,
    status: str | None = "open",
) -> list[dict[str, Any]]:
    """Alerts of (ca, originating registry) whose range intersects [first_id, last_id].
    `status="open"` means unresolved (open or acknowledged); None means any."""
    params: dict[str, Any] = {
        "ca": ca,
        "registry": registry,
        "first_id": first_id,
        "last_id": last_id,
    }
    statement = _TOUCHING.get(status)
    if statement is None:
        statement, params["status"] = _TOUCHING_STATUS, status
    elif status == "open":
        params.update((s, s) for s in UNRESOLVED)
    columns = statement.columns
    return [
        to_dict(dict(zip(columns, row, strict=True))) for row in statement.rows(connection, params)
    ]


# -- acknowledging ---------------------------------------------------------------------


def acknowledge(
    connection: Connection,
    alert_id: str,
    note: str,
    by: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A person has seen the alert: it stays `acknowledged` (with their note) until a
    check resolves it. Acknowledging a resolved alert is refused."""
    if not note or not note.strip():
        raise AlertError("an acknowledgement needs a note saying what was done or decided")
    # Take the event lock before touching the row, as checks do: no lock-order deadlock.
    serialize_writers(connection)
    row = connection.execute(select(alerts_table).where(alerts_table.c.id == alert_id)).first()
    if row is None:
        raise AlertError(f"no alert with id {alert_id!r}")
    if row.status == "resolved":
        raise AlertError(f"alert {alert_id} is resolved; there is nothing to acknowledge")
    at = _now(now)
    connection.execute(
        update(alerts_table)
        .where(alerts_table.c.id == alert_id)
        .values(status="acknowledged", acknowledged_at=at, acknowledged_by=by, note=note.strip())
    )
    alert = get_alert(connection, alert_id)
    assert alert is not None
    record_events(connection, [("acknowledged", alert, {"note": note.strip(), "by": by})], at)
    return alert


# -- reconciling findings ----------------------------------------------------------------


@dataclass(slots=True)
class Existing:
    id: str
    status: str
    rule: str
    # What a refresh would rewrite (None: not read; `reconcile` reads it if a finding
    # confirms the alert).
    content: tuple[Any, ...] | None = None


# The stored fields a finding determines beyond its fingerprint (evidence) and rule.
CONTENT = (
    "message",
    "cooperative_approach_id",
    "party_registry_id",
    "first_id",
    "last_id",
    "vintage",
    "first_transferring_party_id",
    "evidence",  # a newer holding snapshot keeps the alert, with the new evidence
    "scope",
    "details",
)


_EXISTING = select(
    alerts_table.c.fingerprint,
    alerts_table.c.id,
    alerts_table.c.status,
    alerts_table.c.rule,
    *(alerts_table.c[name] for name in CONTENT),
)


def existing_in(connection: Connection, *conditions: Any) -> dict[str, Existing]:
    """fingerprint -> (id, status, rule, content) of the alerts matching the conditions."""
    return _existing(connection.execute(_EXISTING.where(*conditions)))


def _existing(rows: Iterable[Any]) -> dict[str, Existing]:
    return {row[0]: Existing(row[1], row[2], row[3], tuple(row[4:])) for row in rows}


# Each fingerprint one look-up in the unique index; the statement is small and built once.
_LOOKUP = {
    postgres: _EXISTING.where(alerts_table.c.fingerprint.in_(json_values("fingerprints", postgres)))
    for postgres in (False, True)
}


def _lookup(connection: Connection, fingerprints: list[str]) -> dict[str, Existing]:
    statement = _LOOKUP[connection.dialect.name == "postgresql"]
    found: dict[str, Existing] = {}
    for chunk in batched(fingerprints, LOOKUP_CHUNK):
        found.update(_existing(connection.execute(statement, {"fingerprints": json_text(chunk)})))
    return found


def _finding_content(finding: Finding) -> tuple[Any, ...]:
    """The `CONTENT` its alert's row (`_row`) would be written with."""
    return tuple(
        finding.evidence_dicts() if name == "evidence" else getattr(finding, name)
        for name in CONTENT
    )


def _row(finding: Finding, fingerprint: str, now: datetime) -> dict[str, Any]:
    registries = finding.registries
    return {
        "id": alert_id(fingerprint),
        "fingerprint": fingerprint,
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity,
        "status": "open",
        "cooperative_approach_id": finding.cooperative_approach_id,
        "party_registry_id": finding.party_registry_id,
        "first_id": finding.first_id,
        "last_id": finding.last_id,
        "vintage": finding.vintage,
        "first_transferring_party_id": finding.first_transferring_party_id,
        "registries": registries,
        "evidence": finding.evidence_dicts(),
        "message": finding.message,
        "first_seen": now,
        "last_seen": now,
        "resolved_at": None,
        "scope": finding.scope,
        "registry_keys": registry_keys(registries, finding.party_registry_id),
        "details": finding.details,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "note": None,
    }


REFRESHED = (
    "last_seen",
    "message",
    "cooperative_approach_id",
    "party_registry_id",
    "first_id",
    "last_id",
    "vintage",
    "first_transferring_party_id",
    "registries",
    "evidence",
    "scope",
    "registry_keys",
    "details",
)
REOPENED = (*REFRESHED, "status", "resolved_at", "acknowledged_at", "acknowledged_by", "note")


@dataclass
class Reconciled:
    opened: dict[str, int]
    reopened: dict[str, int]
    resolved: dict[str, int]


@collector_paused()
def reconcile(
    connection: Connection,
    findings: Iterable[Finding],
    in_scope: dict[str, Existing],
    now: datetime | None = None,
) -> Reconciled:
    """Make the alerts of one part of the index agree with the findings made over it.

    `in_scope`: the alerts that part already had (fingerprint -> Existing); any of them
    not confirmed by a finding is resolved. Findings are de-duplicated by fingerprint.
    """
    at = _now(now)
    by_fp: dict[str, Finding] = {}
    for finding in findings:
        by_fp.setdefault(finding.fingerprint, finding)
    # The stored alerts of the findings not in scope, and the content of those in scope
    # read without it (an incremental check's reads): each one look-up by fingerprint.
    unknown = [
        fp for fp in by_fp if (current := in_scope.get(fp)) is None or current.content is None
    ]
    known = {**in_scope, **_lookup(connection, unknown)} if unknown else in_scope

    result = Reconciled({}, {}, {})
    new: list[tuple[str, Finding]] = []
    refreshed, reopened, seen = [], [], []
    for fp, finding in by_fp.items():
        current = known.get(fp)
        if current is None:
            new.append((fp, finding))
            result.opened[finding.rule] = result.opened.get(finding.rule, 0) + 1
            continue
        if current.status == "resolved":
            reopened.append(_row(finding, fp, at))
            result.reopened[finding.rule] = result.reopened.get(finding.rule, 0) + 1
        elif current.content == _finding_content(finding):
            seen.append(current.id)  # confirmed as it stands: only last_seen moves
        else:
            refreshed.append(_row(finding, fp, at))
    gone: list[str] = []
    for fp, existing in in_scope.items():
        if fp not in by_fp and existing.status != "resolved":
            gone.append(existing.id)
            result.resolved[existing.rule] = result.resolved.get(existing.rule, 0) + 1

    opened = _open(connection, new, at)
    _rewrite(connection, refreshed, REFRESHED)
    _rewrite(connection, reopened, REOPENED)
    for chunk in batched(seen, LOOKUP_CHUNK):
        connection.execute(
            update(alerts_table).where(alerts_table.c.id.in_(chunk)).values(last_seen=at)
        )
    for chunk in batched(gone, LOOKUP_CHUNK):
        connection.execute(
            update(alerts_table)
            .where(alerts_table.c.id.in_(chunk), alerts_table.c.status.in_(UNRESOLVED))
            .values(status="resolved", resolved_at=at)
        )
    # A new alert's snapshot is the alert just written (no read back); a reopened or
    # resolved one keeps stored fields this check did not write, so it is read.
    changed = [("reopened", r["id"]) for r in reopened] + [("resolved", aid) for aid in gone]
    snapshots = _snapshots(connection, [aid for _, aid in changed])
    events: list[EventItem] = [("opened", alert, None) for alert in opened]
    events += [(kind, snapshots[aid], None) for kind, aid in changed]
    if events:
        record_events(connection, events, at)
    return result


# The columns a new alert's row is written with (what `_row` gives, in this order).
OPENED_COLUMNS = (
    *ALERT_FIELDS,
    "fingerprint",
    "scope",
    "registry_keys",
    "details",
    "acknowledged_at",
    "acknowledged_by",
    "note",
)
JSON_COLUMNS = ("registries", "evidence", "details")


def _open(
    connection: Connection, new: list[tuple[str, Finding]], at: datetime
) -> list[dict[str, Any]]:
    """Write the new alerts (fingerprint, finding) in one bulk insert, their JSON
    serialized once; returns their alert objects (`to_dict` of the rows written)."""
    stamp = _iso(at)
    no_details = json_text(None)
    alerts: list[dict[str, Any]] = []
    rows: list[tuple[Any, ...]] = []
    for fp, finding in new:
        aid = alert_id(fp)
        registries = finding.registries
        evidence = finding.evidence_dicts()
        ca, registry = finding.cooperative_approach_id, finding.party_registry_id
        first, last, vintage = finding.first_id, finding.last_id, finding.vintage
        party = finding.first_transferring_party_id
        alert = {
            "id": aid,
            "rule": finding.rule,
            "name": finding.name,
            "severity": finding.severity,
            "status": "open",
            "cooperative_approach_id": ca,
            "party_registry_id": registry,
            "first_id": first,
            "last_id": last,
            "vintage": vintage,
            "first_transferring_party_id": party,
            "registries": registries,
            "evidence": evidence,
            "message": finding.message,
            "first_seen": stamp,
            "last_seen": stamp,
            "resolved_at": None,
        }
        alert["identifier"] = identifier(alert)
        alerts.append(alert)
        details = finding.details
        rows.append(
            (
                aid,
                finding.rule,
                finding.name,
                finding.severity,
                "open",
                ca,
                registry,
                first,
                last,
                vintage,
                party,
                json_text(registries),
                json_text(evidence),
                finding.message,
                at,
                at,
                None,
                fp,
                finding.scope,
                registry_keys(registries, registry),
                no_details if details is None else json_text(details),
                None,
                None,
                None,
            )
        )
    write_rows(
        connection,
        alerts_table,
        OPENED_COLUMNS,
        rows,
        key=("fingerprint",),
        json_columns=JSON_COLUMNS,
    )
    return alerts


def _rewrite(connection: Connection, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Update these `columns` of the stored alerts of the rows (`_row`, by fingerprint),
    on the fast path: their JSON serialized once by orjson, as `_open` writes it."""
    write_rows(
        connection,
        alerts_table,
        OPENED_COLUMNS,
        [tuple(_stored(row, name) for name in OPENED_COLUMNS) for row in rows],
        key=("fingerprint",),
        update=columns,
        json_columns=JSON_COLUMNS,
    )


def _stored(row: dict[str, Any], name: str) -> Any:
    return json_text(row[name]) if name in JSON_COLUMNS else row[name]


def _snapshots(connection: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in batched(sorted(set(ids)), LOOKUP_CHUNK):
        for row in connection.execute(select(alerts_table).where(alerts_table.c.id.in_(chunk))):
            found[row.id] = to_dict(row)
    return found

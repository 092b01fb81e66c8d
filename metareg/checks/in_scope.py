"""The alerts a detection run can confirm or resolve: those lying in the scope it judged.

Detection says where it judged (`JudgedScope`, in the terms of the rules' alert
scopes); this reads the alert store's rows there, so `alerts.store.reconcile` resolves
exactly the alerts of that part of the index that no finding confirms.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, String, Text, and_, bindparam, cast, select

from metareg.alerts import store
from metareg.db.json_params import json_rows
from metareg.db.tables.alerts import Alert
from metareg.db.upsert import batched, json_text
from metareg.detection.passes.incremental import meets
from metareg.detection.passes.scope import Interval, JudgedScope
from metareg.detection.read import blocks as read_blocks
from metareg.detection.rules import AUTHORIZATION_RULES, BLOCK_RULES, UNIT_RULES
from metareg.findings import DETECTION_RULES, Identity

SCOPE_CHUNK = 100  # scopes per query (SQLite expression depth)

alerts_table = Alert
Existing = dict[str, store.Existing]  # fingerprint -> the stored alert


def alerts_in(connection: Connection, scope: JudgedScope) -> Existing:
    """The detection alerts lying in `scope`."""
    if scope.everything:
        return store.existing_in(connection, alerts_table.c.rule.in_(DETECTION_RULES))
    existing: Existing = {}
    if scope.block_ranges:
        existing.update(_block_alerts_meeting_pairs(connection, scope.block_ranges))
    for chunk in batched(sorted(scope.unit_scopes), SCOPE_CHUNK):
        existing.update(
            store.existing_in(
                connection, alerts_table.c.rule.in_(UNIT_RULES), alerts_table.c.scope.in_(chunk)
            )
        )
    for ca, scopes in scope.authorization_scopes.items():
        for chunk in batched(sorted(scopes), SCOPE_CHUNK):
            existing.update(
                store.existing_in(
                    connection,
                    alerts_table.c.rule.in_(AUTHORIZATION_RULES),
                    alerts_table.c.cooperative_approach_id == ca,
                    alerts_table.c.scope.in_(chunk),
                )
            )
    if scope.authorization_actions:
        existing.update(_alerts_naming(connection, scope.authorization_actions))
    return existing


def _alerts(*columns: Any) -> Any:
    """(fingerprint, id, status, rule, *columns) of alerts, to be narrowed down."""
    t = alerts_table.c
    return select(t.fingerprint, t.id, t.status, t.rule, *columns)


_BLOCK_ALERTS = _alerts(alerts_table.c.first_id, alerts_table.c.last_id).where(
    alerts_table.c.rule.in_(BLOCK_RULES),
    alerts_table.c.cooperative_approach_id == bindparam("ca"),
    alerts_table.c.party_registry_id == bindparam("registry"),
    alerts_table.c.first_id <= bindparam("last"),
    alerts_table.c.last_id >= bindparam("first"),
)


def _block_alerts_meeting(
    connection: Connection, ca: str, registry: str, intervals: list[Interval]
) -> Existing:
    """The block-scope alerts of (ca, registry) whose range meets one of the sorted,
    disjoint intervals (one prepared statement over their hull, the intervals applied
    here)."""
    found: Existing = {}
    params = {"ca": ca, "registry": registry, "first": intervals[0][0], "last": intervals[-1][1]}
    for fp, aid, status, rule, first, last in connection.execute(_BLOCK_ALERTS, params):
        if meets(intervals, first, last):
            found[fp] = store.Existing(aid, status, rule)
    return found


# A block rule's alert lies within a block of its pair (the block, or the intersection
# of two), and `block_span` holds the longest block a pair ever had: an alert meeting
# [first, last] starts within [first - max span, last], like a block (`read.blocks`).
_ALERTS_MEETING = {
    lateral: read_blocks.pair_meeting_statement(
        alerts_table,
        [
            *(alerts_table.c[n] for n in ("fingerprint", "id", "status", "rule", "first_id")),
            alerts_table.c.last_id,
            alerts_table.c.cooperative_approach_id,
            alerts_table.c.party_registry_id,
        ],
        lateral,
    )
    for lateral in (False, True)
}


def _block_alerts_meeting_pairs(
    connection: Connection, block_ranges: dict[tuple[str, str], list[Interval]]
) -> Existing:
    """The block-scope alerts whose range meets one of the intervals of their pair,
    every pair's intervals read together (a pair that never held a block: its hull)."""
    found_spans = read_blocks.max_spans(connection)
    found: Existing = {}
    wanted = [
        (ca, registry, first, last)
        for (ca, registry), intervals in sorted(block_ranges.items())
        if (ca, registry) in found_spans
        for first, last in intervals
    ]
    rows = read_blocks.rows_meeting_pairs(
        connection, "alerts meeting", _ALERTS_MEETING, wanted, found_spans
    )
    for fp, aid, status, rule, _first, _last, _ca, _registry in rows:
        if rule in BLOCK_RULES:
            found[fp] = store.Existing(aid, status, rule)
    for (ca, registry), intervals in sorted(block_ranges.items()):
        if (ca, registry) not in found_spans:
            found.update(_block_alerts_meeting(connection, ca, registry, intervals))
    return found


KEY_CHUNK = 2_000  # authorization keys per query


def _naming_statement(postgres: bool) -> Any:
    """The alerts of a chunk of (rule, ca, alert scope) rows given as JSON (`alert_keys`),
    with their evidence as JSON text: each row one look-up in the (rule, ca, scope)
    index."""
    keys = json_rows("alert_keys", [("rule", String), ("ca", String), ("scope", String)], postgres)
    t = alerts_table.c
    return (
        _alerts(t.cooperative_approach_id, t.scope, cast(t.evidence, Text))
        .select_from(keys)
        .join(
            alerts_table,
            and_(
                t.rule == keys.c.rule,
                t.cooperative_approach_id == keys.c.ca,
                t.scope == keys.c.scope,
            ),
        )
    )


_NAMING = {postgres: _naming_statement(postgres) for postgres in (False, True)}


def _alerts_naming(
    connection: Connection, judged_by_key: dict[tuple[str, str], set[Identity]]
) -> Existing:
    """The authorization-rule alerts of the keys (ca, alert scope) whose evidence names
    one of the key's judged actions: every key's alerts read together."""
    statement = _NAMING[connection.dialect.name == "postgresql"]
    found: Existing = {}
    wanted = [(rule, *key) for key in sorted(judged_by_key) for rule in AUTHORIZATION_RULES]
    for chunk in batched(wanted, KEY_CHUNK):
        rows = read_blocks.execute_chunk(
            connection, "alerts naming", statement, {"alert_keys": json_text(chunk)}
        )
        for fp, aid, status, rule, ca, alert_scope, evidence in rows:
            judged = judged_by_key[(ca, alert_scope)]
            if any(
                (item["registry"], item["record_type"], item["record_id"]) in judged
                for item in (orjson.loads(evidence) if evidence else None) or ()
            ):
                found[fp] = store.Existing(aid, status, rule)
    return found

"""The authorization rules over the whole index without reading every action: per
authorization key, an SQL filter returning a superset of the actions a rule can flag.

Almost every action names an authorization it respects, so the full check need not
judge them all: per authorization key (cooperative approach, authorization id) with
one authoritative version, that version judges every action of the key and is known
in Python before any action is read, and from it we build an SQL filter returning a
SUPERSET of the actions of the key that DC07, DC08, DC13 or DC09's per-action reasons
(no running total) can flag. The authorization pass judges
the rows it returns with the rules (`passes.authorization.judge_action`): the SQL
only narrows, the rules decide. A filter that is too wide costs time, never a wrong
finding; one that is too narrow would lose findings, so each clause below names the
rule condition it covers, is built from the constants that rule declares, and is at
least as wide as it. An authorization rule with no clause here (`COVERED`) makes
every filter return every action of its key.

Keys whose first transfers may exceed the authorized quantity need the running total
over all their first transfers, and keys with several authoritative versions judge a
use by the version in force when its units were first transferred: the pass judges
both whole (`keys_pass`).

The queries run on the (ca, authorization_id, action_type, action_date, first_id,
last_id, vintage, purpose, acquiring_party_id, using_party_id) index
(`ix_action_authorization_chain`, migrations 0007 and 0023): finding the keys is a skip
scan of its prefix, one seek per key (at 1M blocks, 878 keys: 0.015 s of CPU, where a
GROUP BY over the index took 0.16 s); the sums and the filters scan only the entries of
one key. A key filter selects the ids of the rows that pass, which the pass then reads
by id: the index holds the id (SQLite: every index; PostgreSQL: included, 0023), so
the filter is answered from the index alone, where PostgreSQL reads the table for every
row an index scan returns before a filter that is not an index condition (at 10M
blocks, one key's filter read 125,000 table pages in 991 ms; from the index, 73 ms).
On PostgreSQL an index-only scan skips the table only on pages the visibility map
marks all-visible, which VACUUM sets (`metareg.index.statistics`). DC09's entity
clause reads `using_entity_id`, which is not in the index: a key whose authorization
lists entities is filtered through the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select, true

from metareg.detection.read.columns import action_columns, actions
from metareg.detection.rules import UNNAMED_ACTIONS, of_kind
from metareg.detection.rules import dc07_missing_authorization as dc07
from metareg.detection.rules import dc08_purpose_not_authorized as dc08
from metareg.detection.rules import dc09_authorization_exceeded as dc09
from metareg.detection.rules import dc13_action_before_authorization as dc13
from metareg.detection.rules.kinds import AuthorizationRule
from metareg.detection.rules.versions import Versions

_ca, _aid, _type = (
    actions.c.cooperative_approach_id,
    actions.c.authorization_id,
    actions.c.action_type,
)
COVERED = (dc07.RULE, dc08.RULE, dc09.RULE, dc13.RULE)
# A rule with no clause here could flag any action: then every filter lets all through.
EVERY_ACTION = any(rule not in COVERED for rule in of_kind(AuthorizationRule))
KEYS_CHUNK = 500  # authorization ids per query over the keys with no authorization

# -- the keys ------------------------------------------------------------------------------

_FIRST_CA = select(_ca).order_by(_ca).limit(1)
_NEXT_CA = select(_ca).where(_ca > bindparam("ca")).order_by(_ca).limit(1)
_FIRST_AID = select(_aid).where(_ca == bindparam("ca"), _aid.is_not(None)).order_by(_aid).limit(1)
_NEXT_AID = (
    select(_aid).where(_ca == bindparam("ca"), _aid > bindparam("aid")).order_by(_aid).limit(1)
)


def approaches(connection: Connection) -> Iterator[str]:
    """Every cooperative approach with actions: a skip scan, one index seek each."""
    ca = connection.execute(_FIRST_CA).scalar()
    while ca is not None:
        yield ca
        ca = connection.execute(_NEXT_CA, {"ca": ca}).scalar()


def authorization_ids(connection: Connection, ca: str) -> Iterator[str]:
    """Every authorization id (not null) named by an action of `ca`: a skip scan."""
    aid = connection.execute(_FIRST_AID, {"ca": ca}).scalar()
    while aid is not None:
        yield aid
        aid = connection.execute(_NEXT_AID, {"ca": ca, "aid": aid}).scalar()


# -- the filters ----------------------------------------------------------------------------

Filter = tuple[Any, dict[str, Any]]  # a statement (rows of `action_columns()`, or ids), parameters

# Actions naming no authorization (rules with `unnamed_actions`: DC07).
_UNNAMED = select(*action_columns()).where(
    _ca == bindparam("ca"), _aid.is_(None), _type.in_(sorted(UNNAMED_ACTIONS))
)
# Actions naming an authorization no registry reports: DC07 on the types it needs one.
_MISSING_KEYS = select(*action_columns()).where(
    _ca == bindparam("ca"),
    _aid.in_(bindparam("aids", expanding=True)),
    _type.in_(sorted(dc07.NEEDS_AUTHORIZATION)) if not EVERY_ACTION else true(),
)
_EVERY_ACTION_OF_KEY = select(actions.c.id).where(_ca == bindparam("ca"), _aid == bindparam("aid"))


def unnamed_filter(ca: str) -> Filter:
    return _UNNAMED, {"ca": ca}


def missing_filter(ca: str, aids: list[str]) -> Filter:
    return _MISSING_KEYS, {"ca": ca, "aids": aids}


Shape = tuple[bool, bool, bool, bool, bool, bool, bool]


@cache
def _filter(shape: Shape) -> Any:
    """The statement of one filter shape, built once (executing it again reuses the
    compiled form). The shape says which clauses apply; values are parameters.

    Every action of the key is read (the timeframe concerns them all), so the clause
    order is chosen for SQLite's cost per index entry: the vintage first, as one NOT
    BETWEEN where both bounds are given (measured: a third faster than the same
    clauses in rule order); the entity clause last (its column is not in the index)."""
    needs, revoked, purposes, start, end, parties, entities = shape
    clauses: list[ColumnElement[bool]] = []
    # DC09: a vintage outside the timeframe. A null vintage is never outside (nor is
    # it in SQL); with start > end every vintage is outside, as in Python.
    if start and end:
        clauses.append(~actions.c.vintage.between(bindparam("start"), bindparam("end")))
    elif start:
        clauses.append(actions.c.vintage < bindparam("start"))
    elif end:
        clauses.append(actions.c.vintage > bindparam("end"))
    allowed: Any = bindparam("parties", expanding=True)
    # DC09: the Party an action names is not named (a null one never is); in
    # PARTY_FIELDS order: first transfers here, uses after the DC07/DC08 clauses.
    first_party, *other_parties = (
        and_(_type == action_type, actions.c[field].not_in(allowed))
        for action_type, field in dc09.PARTY_FIELDS.items()
    )
    if parties:
        clauses.append(first_party)
    # DC13: dated before the first version (the only one: its date is a parameter).
    clauses.append(
        and_(_type.in_(sorted(dc13.JUDGED)), actions.c.action_date < bindparam("first_date"))
    )
    if needs:  # DC07: an empty authorization id
        clauses.append(_type.in_(sorted(dc07.NEEDS_AUTHORIZATION)))
    if revoked:  # DC08: a revoked version flags every action it judges
        clauses.append(_type.in_(sorted(dc08.REVOCATION_JUDGED)))
    elif purposes:  # DC08: a purpose (NDC, OIMP) its purposes do not cover
        clauses.append(
            and_(
                _type.in_(sorted(dc08.JUDGED)),
                actions.c.purpose.in_(bindparam("purposes", expanding=True)),
            )
        )
    if parties:
        clauses.extend(other_parties)
    if entities:  # DC09: a using entity not named (a null one never is)
        clauses.append(
            and_(
                _type.in_(sorted(dc09.ENTITY_JUDGED)),
                actions.c.using_entity_id.not_in(bindparam("entities", expanding=True)),
            )
        )
    return select(actions.c.id).where(
        _ca == bindparam("ca"), _aid == bindparam("aid"), or_(*clauses)
    )


def key_filter(ca: str, aid: str, versions: Versions) -> Filter:
    """The statement and parameters returning the row ids of a superset of the actions
    of (ca, aid) that the authorization rules can flag (no running total), for a key
    with one authoritative version (`versions.dated` false: it judges every action)."""
    assert not versions.dated and versions.first is not None
    current = versions.first
    params: dict[str, Any] = {"ca": ca, "aid": aid}
    if EVERY_ACTION:
        return _EVERY_ACTION_OF_KEY, params
    uncovered = [
        purpose
        for purpose, covering in dc08.COVERING.items()
        if not covering.intersection(current.purposes or ())
    ]
    shape: Shape = (
        not aid,
        current.status == dc08.REVOKED,
        bool(uncovered),
        current.timeframe_start is not None,
        current.timeframe_end is not None,
        bool(current.authorized_party_ids),
        bool(current.authorized_entity_ids),
    )
    params.update(
        purposes=uncovered,
        start=current.timeframe_start,
        end=current.timeframe_end,
        # Fewer allowed values only widen the filter: drop what SQL cannot compare.
        parties=[p for p in current.authorized_party_ids or () if isinstance(p, str)],
        entities=[e for e in current.authorized_entity_ids or () if isinstance(e, str)],
        first_date=date.fromisoformat(current.authorization_date),
    )
    return _filter(shape), params

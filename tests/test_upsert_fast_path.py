"""The bulk upsert's driver-level fast path writes what SQLAlchemy would have written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from metareg.db.tables.index import Authorization, BlockSpan
from metareg.db.upsert import upsert, write_rows

_auth = Authorization
_spans = BlockSpan


def _row(uid: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "registry_id": "IDN01",
        "uid": uid,
        "content_hash": "h" + uid,
        "authorization_id": uid,
        "authorization_date": date(2024, 1, 2),
        "authorizing_party_id": "IDN",
        "cooperative_approach_id": "CA0001",
        "purposes": ["NDC", "OIMP"],
        "authorized_party_ids": None,
        "authorized_quantity": 5,
    }
    row.update(extra)
    return row


def test_fast_path_keeps_types_defaults_and_conflict_rules(engine: Engine) -> None:
    with engine.begin() as connection:
        upsert(connection, _auth, [_row("A#v1"), _row("B#v1")], key=("registry_id", "uid"))
        # A correction of one row and a new one: ON CONFLICT updates only the first.
        upsert(
            connection,
            _auth,
            [_row("A#v1", purposes=["NDC"], authorized_quantity=7.5), _row("C#v1")],
            key=("registry_id", "uid"),
        )
        rows = {r.uid: r for r in connection.execute(select(_auth).order_by(_auth.c.uid)).all()}
    assert sorted(rows) == ["A#v1", "B#v1", "C#v1"]
    assert rows["A#v1"].purposes == ["NDC"] and rows["A#v1"].authorized_quantity == 7.5
    assert rows["B#v1"].purposes == ["NDC", "OIMP"]
    assert rows["B#v1"].authorization_date == date(2024, 1, 2)
    assert rows["B#v1"].authorized_party_ids is None
    # Column defaults the rows do not give are applied, as SQLAlchemy would.
    assert (rows["C#v1"].version, rows["C#v1"].metric, rows["C#v1"].status) == (
        1,
        "GHG",
        "active",
    )


def test_keep_greatest_and_tuples(engine: Engine) -> None:
    columns = ("cooperative_approach_id", "party_registry_id", "max_span")
    key = ("cooperative_approach_id", "party_registry_id")
    with engine.begin() as connection:
        write_rows(connection, _spans, columns, [("CA0001", "IDN01", 10)], key=key, update=())
        write_rows(
            connection,
            _spans,
            columns,
            [("CA0001", "IDN01", 4), ("CA0002", "IDN01", 3)],
            key=key,
            update=(),
            keep_greatest=("max_span",),
        )
        write_rows(
            connection, _spans, columns, [("CA0002", "IDN01", 9)], key=key, update=(),
            keep_greatest=("max_span",),
        )  # fmt: skip
        spans = dict(
            connection.execute(select(_spans.c.cooperative_approach_id, _spans.c.max_span)).all()
        )
    assert spans == {"CA0001": 10, "CA0002": 9}

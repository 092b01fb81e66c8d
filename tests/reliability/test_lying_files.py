"""A registry's file that lies in its values or its order: a number no column can hold,
serials a float would round, a date centuries ahead, a record and its tombstone far
apart. Each costs at most its own record (quarantined with the reason), never the
records beside it, and a re-ingest changes nothing (issue 16, items 3-6)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from metareg.db.tables.index import Action, Authorization, Holding, Quarantine
from metareg.records.cells import cell_integer
from metareg.records.validate import RecordValidator
from metareg.sync.ingest import ingest_files
from tests.connectors.test_aef import ACTION, HOLDING
from tests.sync.index_state import current, history

AUTHORIZATION = {
    "record_type": "authorization",
    "authorization_id": "IDN-2023-0001",
    "version": 1,
    "authorization_date": "2023-06-01",
    "authorizing_party_id": "IDN",
    "cooperative_approach_id": "CA0001",
    "purposes": ["NDC"],
    "authorized_party_ids": ["JPN"],
}


def action(n: int, **changes: Any) -> dict[str, Any]:
    return {
        **ACTION,
        "action_id": f"A-{n}",
        "first_id": 100 * n + 1,
        "last_id": 100 * n + 100,
        "quantity_tco2e": 100,
        **changes,
    }


def jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def quarantined(engine: Engine) -> dict[str, str]:
    """location -> its reasons, as text."""
    table = Quarantine
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.location, table.c.reasons)).all()
    return {location: str(reasons) for location, reasons in rows}


def rows(engine: Engine, model: Any, column: str) -> list[Any]:
    table = model
    with engine.connect() as connection:
        return sorted(v for (v,) in connection.execute(select(table.c[column])))


# -- 4: a value that cannot be stored quarantines its record, never its batch ----------


def test_unstorable_values_quarantine_their_record_only(engine: Engine, tmp_path: Path) -> None:
    good = [action(n) for n in range(1, 6)]
    poison = [
        action(90, quantity_tco2e=1e20),  # an int past 64 bits: orjson refuses it
        action(91, quantity_tco2e=2**63),  # past every 64-bit integer column
        {**AUTHORIZATION, "authorization_id": "IDN-X", "version": 2**40},  # INTEGER column
        action(92, action_subtype="a\x00b"),  # PostgreSQL refuses NUL in text
    ]
    edge = [  # the largest values the columns hold are stored
        {**AUTHORIZATION, "authorization_id": "IDN-MAX", "version": 2**31 - 1},
        action(93, quantity_tco2e=2**63 - 1),
    ]
    file = jsonl(tmp_path / "poison.jsonl", [*good[:2], *poison, *good[2:], AUTHORIZATION, *edge])
    report = ingest_files(engine, [file], "IDN01", batch_size=3)
    assert rows(engine, Action, "action_id") == sorted([*(r["action_id"] for r in good), "A-93"])
    assert rows(engine, Authorization, "authorization_id") == ["IDN-2023-0001", "IDN-MAX"]
    reasons = quarantined(engine)
    assert sorted(reasons) == ["line 3", "line 4", "line 5", "line 6"]
    assert "quantity_tco2e" in reasons["line 3"] and "quantity_tco2e" in reasons["line 4"]
    assert "version" in reasons["line 5"] and "action_subtype" in reasons["line 6"]
    assert report.counts.quarantined == 4 and report.counts.accepted == 8


# -- 5: CSV integers are read exactly -------------------------------------------------


def test_csv_serials_are_exact_and_odd_integers_refused(engine: Engine, tmp_path: Path) -> None:
    columns = ["record_type", *[k for k in HOLDING if k != "record_type"]]
    lines = [",".join(columns)]

    def row(account: str, first: str, last: str) -> None:
        values = {**HOLDING, "account_id": account, "first_id": first, "last_id": last}
        lines.append(",".join(str(values[c]) for c in columns))

    row("exact-1", "123456789012345678.0", "123456789012345678")
    row("exact-2", "123456789012345679.0", "123456789012345679")
    row("underscore", "1_000", "2000")
    row("fullwidth", "１２", "20")
    row("exponent", "1e3", "2000")
    row("fraction", "12.5", "20")
    (tmp_path / "h.csv").write_text("\n".join(lines) + "\n")
    ingest_files(engine, [tmp_path / "h.csv"], "IDN01")
    assert rows(engine, Holding, "first_id") == [123456789012345678, 123456789012345679]
    reasons = quarantined(engine)
    assert sorted(reasons) == ["line 4", "line 5", "line 6", "line 7"]
    assert all("first_id" in text for text in reasons.values())


def test_cell_integer_reads_plain_ascii_digits_only() -> None:
    assert cell_integer("123456789012345679.0") == 123456789012345679
    assert cell_integer("-12") == -12 and cell_integer("12.000") == 12
    for text in ("1_000", "１２", "١٢", "1e3", "12.5", "0x10", "", "+", "12."):
        assert cell_integer(text) == text


# -- 6: a date beyond the horizon is quarantined, for every date field -----------------


def test_dates_beyond_the_horizon_are_quarantined(
    engine: Engine, tmp_path: Path, monkeypatch: Any
) -> None:
    far = "2204-12-31"
    file = jsonl(
        tmp_path / "future.jsonl",
        [
            {**HOLDING, "as_of": far},
            action(1, action_date=far),
            {**AUTHORIZATION, "authorization_date": far},
            HOLDING,  # the real snapshot
        ],
    )
    ingest_files(engine, [file], "IDN01")
    reasons = quarantined(engine)
    assert sorted(reasons) == ["line 1", "line 2", "line 3"]
    for line, field in (
        ("line 1", "as_of"),
        ("line 2", "action_date"),
        ("line 3", "authorization_date"),
    ):
        assert field in reasons[line] and far in reasons[line]
    assert [str(d) for d in rows(engine, Holding, "as_of")] == [HOLDING["as_of"]]
    # The horizon is configurable: with 100,000 days the far date is accepted.
    monkeypatch.setenv("METAREG_DATE_HORIZON_DAYS", "100000")
    ingest_files(engine, [jsonl(tmp_path / "later.jsonl", [action(2, action_date=far)])], "IDN01")
    assert "A-2" in rows(engine, Action, "action_id")


def test_the_horizon_is_inclusive_to_the_day(engine: Engine, tmp_path: Path) -> None:
    """A date on the last day the horizon allows is accepted, the day after is not,
    whichever date field carries it."""
    last = RecordValidator().latest_date()
    after = last + timedelta(days=1)
    file = jsonl(
        tmp_path / "edge.jsonl",
        [
            action(1, action_date=last.isoformat()),
            action(2, action_date=after.isoformat()),
            {**HOLDING, "as_of": after.isoformat()},
            {**AUTHORIZATION, "authorization_date": last.isoformat()},
        ],
    )
    ingest_files(engine, [file], "IDN01")
    reasons = quarantined(engine)
    assert sorted(reasons) == ["line 2", "line 3"]
    assert after.isoformat() in reasons["line 2"] and "as_of" in reasons["line 3"]
    assert rows(engine, Action, "action_id") == ["A-1"]
    assert rows(engine, Authorization, "authorization_id") == ["IDN-2023-0001"]


# -- 3: re-ingesting a file is idempotent across batches -------------------------------


def test_reingest_is_idempotent_across_batches(engine: Engine, tmp_path: Path) -> None:
    """A record and its tombstone 5,100 lines apart, and one identity with two contents
    far apart: the second ingest adds no history, and the withdrawn record is never
    current while the file is being written."""
    filler = [action(n) for n in range(10, 5110)]
    doomed = action(1)
    tombstone = {
        "record_type": "withdrawal",
        "of": {k: doomed[k] for k in ("record_type", "action_id")},
    }
    file = jsonl(
        tmp_path / "big.jsonl",
        [doomed, action(2), *filler, tombstone, action(2, quantity_tco2e=7)],
    )
    seen_current: list[bool] = []
    calls = [0]

    def watch(_: int) -> None:  # called for each line read: look now and then
        calls[0] += 1
        if calls[0] % 250:
            return
        with engine.connect() as connection:
            table = Action
            found = connection.execute(
                select(table.c.uid).where(table.c.action_id == "A-1")
            ).first()
        seen_current.append(found is not None)

    ingest_files(engine, [file], "IDN01", batch_size=1000, progress=watch)
    first_history, first_current = history(engine), current(engine)
    assert not any(seen_current)
    assert "A-1" not in {uid for _, _, uid, _ in first_current}
    ingest_files(engine, [file], "IDN01", batch_size=1000)
    assert history(engine) == first_history
    assert current(engine) == first_current


def test_profile_reingest_is_idempotent_across_batches(engine: Engine, tmp_path: Path) -> None:
    """The same through a source profile: one identity with two contents far apart."""
    from metareg.connectors.mapping import load_profile
    from metareg.sync.profile_ingest import ingest_with_profile
    from tests.connectors.mapping.test_ingest_quarantine import PROFILE

    (tmp_path / "registry-export.toml").write_text(PROFILE.lstrip(), "utf-8")
    profile = load_profile(str(tmp_path / "registry-export.toml"))
    header = "ID,Date,Type,Registry,Country,Serial,Vintage"
    rows_ = [f"I-{n},2024-02-01,Issuance,IDN01,Indonesia,X-{n}00-{n}99,2023" for n in range(1, 30)]
    rows_.append("I-1,2024-02-09,Issuance,IDN01,Indonesia,X-100-199,2023")  # I-1 corrected
    export = tmp_path / "export.csv"
    export.write_text("\n".join([header, *rows_]) + "\n", "utf-8")
    ingest_with_profile(engine, [export], profile, {}, batch_size=5)
    first_history, first_current = history(engine), current(engine)
    ingest_with_profile(engine, [export], profile, {}, batch_size=5)
    assert history(engine) == first_history
    assert current(engine) == first_current

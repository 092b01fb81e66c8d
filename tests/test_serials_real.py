"""Every real serial in /work/shared/data/real parses, and its block size matches the file.

The files are public exports (see SOURCES.md there); they are read in place, never
copied into the repository. Where a serial cannot be read as a block, the test pins
the exact known cases so a new failure cannot hide among them.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from metareg.records.serials import SerialError, UnitRange, parse_serial, parse_serial_range

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real public data files not found at {REAL}"
)


@dataclass(frozen=True)
class Row:
    where: str  # file:row, for failure messages
    serial: str
    registry: str
    quantity: int


def _csv(relative: str) -> list[dict[str, str]]:
    with (REAL / relative).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _int(text: str) -> int:
    # Verra writes thousands separators ('1,454,054'); other exports write '85847.0'.
    value = float(text.replace(",", ""))
    assert value == int(value), text
    return int(value)


# (file, serial column, quantity column, registry id)
CSV_SOURCES = [
    ("verra/transactions.csv", "Serial Number", "Quantity Issued", "VCS"),
    ("gold-standard/issuances.csv", "Serial Number", "Quantity", "GS"),
    ("gold-standard/retirements.csv", "Serial Number", "Quantity", "GS"),
    ("apx/acr-retirements.csv", "Credit Serial Numbers", "Quantity of Credits", "ACR"),
    ("apx/acr-cancellations.csv", "Credit Serial Numbers", "Quantity of Credits", "ACR"),
    (
        "apx/car-retirements.csv",
        "Offset Credit Serial Numbers",
        "Quantity of Offset Credits",
        "CAR",
    ),
    (
        "apx/car-cancellations.csv",
        "Offset Credit Serial Numbers",
        "Quantity of Offset Credits",
        "CAR",
    ),
    ("apx/art-trees-retirements.csv", "Credit Serial Numbers", "Quantity of Credits", "ART"),
    ("apx/art-trees-cancellations.csv", "Credit Serial Numbers", "Quantity of Credits", "ART"),
]
EXPECTED_CSV_ROWS = 200 + 100 + 100 + 100 + 50 + 100 + 50 + 8 + 3

SNAPSHOT = "article6/sustainable-iq-article6.2-tool/snapshot-2026-08-14.json"
SNAPSHOT_REGISTRY = {"GS": "GS", "Verra": "VCS"}


def csv_rows() -> Iterator[Row]:
    for relative, serial_column, quantity_column, registry in CSV_SOURCES:
        for number, record in enumerate(_csv(relative), start=2):
            yield Row(
                f"{relative}:{number}",
                record[serial_column],
                registry,
                _int(record[quantity_column]),
            )


def _snapshot() -> dict[str, object]:
    with (REAL / SNAPSHOT).open(encoding="utf-8") as handle:
        data = json.load(handle)
    assert isinstance(data, dict)
    return data


def snapshot_rows() -> Iterator[tuple[Row, str, int]]:
    """Rows of the columnar snapshot: ``d`` holds lookup tables, ``c`` parallel arrays."""
    data = _snapshot()
    lookups, columns = data["d"], data["c"]
    assert isinstance(lookups, dict) and isinstance(columns, dict)
    programmes = lookups["prog"]
    for index, serial in enumerate(columns["sn"]):
        programme = programmes[columns["prog"][index]]
        row = Row(
            f"{SNAPSHOT}:{index}",
            serial,
            SNAPSHOT_REGISTRY[programme],
            columns["vol"][index],
        )
        yield row, str(columns["pid"][index]), columns["vin"][index]


def _failures(rows: Iterator[Row]) -> list[str]:
    failures = []
    for row in rows:
        try:
            by_registry = parse_serial(row.serial, row.registry)
            by_shape = parse_serial(row.serial)
        except SerialError as error:
            failures.append(f"{row.where}: {error}")
            continue
        if by_registry != by_shape:
            failures.append(f"{row.where}: registry and shape disagree")
        if by_registry.quantity != row.quantity:
            failures.append(f"{row.where}: quantity {by_registry.quantity} != {row.quantity}")
    return failures


def test_every_csv_serial_parses_with_its_quantity() -> None:
    rows = list(csv_rows())
    assert len(rows) == EXPECTED_CSV_ROWS
    # No real serial in these files defeats the parsers; the known-failure list is empty.
    assert _failures(iter(rows)) == []


def test_every_snapshot_block_parses_with_its_volume() -> None:
    rows = list(snapshot_rows())
    assert len(rows) == 601
    assert sum(1 for row, _, _ in rows if row.registry == "GS") == 244
    assert sum(1 for row, _, _ in rows if row.registry == "VCS") == 357
    assert _failures(row for row, _, _ in rows) == []


def test_snapshot_prefix_carries_project_and_vintage() -> None:
    # The prefix must keep what identifies the batch; the snapshot's own columns say what.
    for row, project, vintage in snapshot_rows():
        parts = parse_serial(row.serial, row.registry).prefix.split("-")
        if row.registry == "GS":
            assert parts[3] == f"GS{project}", row.where
            assert parts[5] == str(vintage), row.where
        else:
            assert parts[-4] == project, row.where
            assert parts[-3][4:] == str(vintage), row.where


def test_real_blocks_of_one_batch_do_not_overlap() -> None:
    # Pieces of a batch listed in one export are disjoint; an overlap would mean the
    # prefix lost part of the batch identity.
    seen: dict[str, list[UnitRange]] = {}
    for row in csv_rows():
        if "retirements" not in row.where and "cancellations" not in row.where:
            continue
        unit_range = parse_serial(row.serial, row.registry)
        seen.setdefault(unit_range.prefix, []).append(unit_range)
    for ranges in seen.values():
        ordered = sorted(ranges, key=lambda r: r.first)
        for left, right in itertools.pairwise(ordered):
            assert left.last < right.first or left == right, (left, right)


def test_apx_aef_unit_ids_rebuild_the_block() -> None:
    # The AEF gives first and last unit IDs; split the APX range into those and rejoin.
    for row in csv_rows():
        if not row.where.startswith("apx/"):
            continue
        unit_range = parse_serial(row.serial, row.registry)
        first_id = f"{unit_range.prefix}-{unit_range.first}"
        last_id = f"{unit_range.prefix}-{unit_range.last}"
        assert parse_serial_range(first_id, last_id, row.registry) == unit_range


# --- files whose serial-like columns are not blocks ----------------------------------


def test_cercarbono_blocks_parse_from_serial_plus_from_to() -> None:
    # EcoRegistry's 'serial' is a batch id; retirements give the block as from/to.
    records = _csv("cercarbono/retirements.csv")
    assert len(records) == 100
    for record in records:
        text = f"{record['serial']} {record['from']} to {record['to']}"
        unit_range = parse_serial(text, "Cercarbono")
        assert unit_range.prefix == record["serial"]
        assert unit_range.quantity == int(record["quantity"])


def test_cercarbono_bare_batch_ids_are_refused() -> None:
    serials = [r["serial"] for r in _csv("cercarbono/issuances.csv")]
    serials += [r["serial"] for r in _csv("cercarbono/retirements.csv")]
    assert len(serials) == 200
    for serial in serials:
        for registry in ("Cercarbono", None):
            with pytest.raises(SerialError, match="batch id"):
                parse_serial(serial, registry)


def test_isometric_record_ids_are_refused() -> None:
    ids = [r["id"] for r in _csv("isometric/issuances.csv")]
    ids += [r["retirement_id"] for r in _csv("isometric/retirements.csv")]
    assert len(ids) == 200
    for record_id in ids:
        with pytest.raises(SerialError, match="Isometric"):
            parse_serial(record_id)


def test_arb_issuance_ids_are_not_blocks() -> None:
    ids = [r["CARB Issuance ID"] for r in _csv("arb/nc-arboc_issuance_sheet3.csv")]
    assert len(ids) == 100
    for issuance_id in ids:
        with pytest.raises(SerialError):
            parse_serial(issuance_id)


def test_cadt_demo_blocks_parse_but_unit_count_is_off_by_one() -> None:
    # CADT v1 demo data: blocks like AXJJFSLGHSHEJ1000..AXJJFSLGHSHEJ1010 hold 11 units
    # inclusive, but the demo says unitCount 10. Pinned so a change is noticed.
    checked = 0
    for name in ("createUnits.csv", "updateUnits.csv"):
        for record in _csv(f"cadt/v1-postman-csv/{name}"):
            block = parse_serial(record["serialNumberBlock"])
            ends = parse_serial_range(record["unitBlockStart"], record["unitBlockEnd"], None)
            assert block == ends
            assert block.quantity == int(record["unitCount"]) + 1
            checked += 1
    for name in ("new-unit.json", "update-unit.json"):
        with (REAL / "cadt" / "v1-test-data" / name).open(encoding="utf-8") as handle:
            unit = json.load(handle)
        ends = parse_serial_range(unit["unitBlockStart"], unit["unitBlockEnd"], None)
        assert ends.quantity == unit["unitCount"] + 1
        checked += 1
    assert checked == 12

"""The Agreed Electronic Format built from the index, for one Party and reported year.

What goes in (our reading where the AEF leaves it open):
- table 2: the authorizations the Party gave (`authorizing_party_id`) dated in the year,
  every current version;
- table 3: the actions the Party's registries reported (a registry belongs to the
  Party whose code begins its id) dated in the year, each with the codes of the
  rules whose unresolved alerts name it, in "Result of the consistency checks";
- table 4: the holdings of the Party's registries at 31 December of the year: the
  current snapshot if it is that day's, else that day's snapshot from history.

Column labels and order come from `metareg.connectors.aef.columns` (shared with the AEF
reader, so a CSV export reads back into the same records). Three renderings:
JSON, a zip of one CSV per table, and an XLSX workbook with one sheet per table.
Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
`@`, or a tab or carriage return) are prefixed with `'` in CSV and XLSX.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select

from metareg.connectors.aef.columns import (
    ACTIONS,
    AUTHORIZATIONS,
    HOLDINGS,
    AefTable,
    record_to_row,
)
from metareg.db.tables.index import Action, Authorization, Holding, RecordVersion, Registry
from metareg.index.query import canonical

RESULT_LABEL = "Result of the consistency checks"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_actions = Action.__table__  # type: ignore[attr-defined]
_holdings = Holding.__table__  # type: ignore[attr-defined]
_authorizations = Authorization.__table__  # type: ignore[attr-defined]
_history = RecordVersion.__table__  # type: ignore[attr-defined]
_registry = Registry.__table__  # type: ignore[attr-defined]

# (registry, record_type, record_id) -> rule codes of the unresolved alerts naming it.
ChecksLookup = Callable[[Connection, Sequence[str]], dict[tuple[str, str, str], list[str]]]


@dataclass
class AefSheet:
    table: AefTable
    labels: list[str]
    rows: list[list[Any]]
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"table{self.table.number}_{self.table.sheet.lower()}"


@dataclass
class AefReport:
    party_id: str
    reported_year: int
    sheets: list[AefSheet]

    def as_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "reported_year": self.reported_year,
            "tables": [
                {
                    "table": sheet.table.number,
                    "name": sheet.table.sheet,
                    "title": sheet.table.title,
                    "columns": sheet.labels,
                    "rows": sheet.rows,
                }
                for sheet in self.sheets
            ],
        }


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate, made inert with a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def party_registries(connection: Connection, party_id: str) -> list[str]:
    """The Party's registries: those in the index whose id begins with its code."""
    ids = {row.id for row in connection.execute(select(_registry.c.id))}
    for table in (_actions, _holdings, _authorizations):
        ids |= {row[0] for row in connection.execute(select(table.c.registry_id).distinct())}
    return sorted(i for i in ids if i[:3] == party_id)


def _in_year(column: Any, year: int) -> list[Any]:
    return [column >= date(year, 1, 1), column <= date(year, 12, 31)]


def _authorization_records(connection: Connection, party: str, year: int) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(_authorizations)
        .where(
            _authorizations.c.authorizing_party_id == party,
            *_in_year(_authorizations.c.authorization_date, year),
        )
        .order_by(
            _authorizations.c.authorization_date,
            _authorizations.c.authorization_id,
            _authorizations.c.version,
            _authorizations.c.registry_id,
        )
    )
    return [canonical("authorization", row) for row in rows]


def _action_rows(connection: Connection, registries: Sequence[str], year: int) -> list[Any]:
    if not registries:
        return []
    return list(
        connection.execute(
            select(_actions)
            .where(_actions.c.registry_id.in_(registries), *_in_year(_actions.c.action_date, year))
            .order_by(
                _actions.c.action_date,
                _actions.c.registry_id,
                _actions.c.cooperative_approach_id,
                _actions.c.party_registry_id,
                _actions.c.first_id,
                _actions.c.uid,
            )
        )
    )


def _holding_records(
    connection: Connection, registries: Sequence[str], year: int
) -> list[dict[str, Any]]:
    day = date(year, 12, 31)
    records: list[dict[str, Any]] = []
    for registry in registries:
        rows = connection.execute(
            select(_holdings).where(_holdings.c.registry_id == registry, _holdings.c.as_of == day)
        ).all()
        if rows:
            records += [canonical("holding", row) for row in rows]
            continue
        records += _holdings_from_history(connection, registry, day)
    records.sort(
        key=lambda r: (
            r["cooperative_approach_id"],
            r["party_registry_id"],
            r["first_id"],
            r["account_id"],
        )
    )
    return records


def _holdings_from_history(
    connection: Connection, registry: str, day: date
) -> list[dict[str, Any]]:
    """That day's snapshot of a registry whose current snapshot is a later one."""
    content: dict[str, Any] = {}  # uid -> the last version that carries the record
    last_change: dict[str, str] = {}
    rows = connection.execute(
        select(_history)
        .where(
            _history.c.registry_id == registry,
            _history.c.record_type == "holding",
            _history.c.uid.like(f"{day.isoformat()}|%"),
        )
        .order_by(_history.c.id)
    )
    for row in rows:
        last_change[row.uid] = row.change
        if row.payload:
            content[row.uid] = row.payload
    # A row the registry withdrew was never its holding; one a newer snapshot
    # superseded was, on that day.
    out = []
    for uid, payload in content.items():
        if last_change[uid] == "withdrawal":
            continue
        record = orjson.loads(payload)
        record["record_type"] = "holding"
        out.append(record)
    return out


def build_aef(
    connection: Connection,
    party_id: str,
    year: int,
    checks: ChecksLookup | None = None,
) -> AefReport:
    """Tables 2, 3 and 4 for `party_id` and `year`; `checks` finds the rule codes per action
    (the API passes `metareg.oversight.alerts.rule_codes_by_record`; None leaves the
    column empty)."""
    registries = party_registries(connection, party_id)
    authorizations = _authorization_records(connection, party_id, year)
    action_rows = _action_rows(connection, registries, year)
    codes = checks(connection, registries) if checks and action_rows else {}
    action_records = [canonical("action", row) for row in action_rows]
    holdings = _holding_records(connection, registries, year)

    action_labels = ACTIONS.labels()
    with_result = RESULT_LABEL not in action_labels
    if with_result:
        action_labels = [*action_labels, RESULT_LABEL]
    result_index = action_labels.index(RESULT_LABEL)
    rows: list[list[Any]] = []
    for row, record in zip(action_rows, action_records, strict=True):
        cells = record_to_row(ACTIONS, record)
        if with_result:
            cells.append(None)
        found = codes.get((row.registry_id, "action", row.uid), [])
        cells[result_index] = ", ".join(sorted(set(found))) or None
        rows.append(cells)
    return AefReport(
        party_id,
        year,
        [
            AefSheet(
                AUTHORIZATIONS,
                AUTHORIZATIONS.labels(),
                [record_to_row(AUTHORIZATIONS, r) for r in authorizations],
                authorizations,
            ),
            AefSheet(ACTIONS, action_labels, rows, action_records),
            AefSheet(
                HOLDINGS,
                HOLDINGS.labels(),
                [record_to_row(HOLDINGS, r) for r in holdings],
                holdings,
            ),
        ],
    )


def _group_rows(sheet: AefSheet) -> list[list[Any]]:
    width = len(sheet.labels)
    rows: list[list[Any]] = []
    for number in (1, 2):
        groups = [g for g in sheet.table.groups if g.row == number]
        if not groups:
            continue
        row: list[Any] = [None] * width
        for group in groups:
            if group.first < width:
                row[group.first] = group.label
        rows.append(row)
    return rows


def sheet_lines(report: AefReport, sheet: AefSheet) -> list[list[Any]]:
    """Every line of one table as laid out in the templates: heading, title, group rows,
    labels, data."""
    return [
        *sheet.table.heading_rows(report.party_id, report.reported_year),
        [],
        [sheet.table.title],
        *_group_rows(sheet),
        list(sheet.labels),
        *sheet.rows,
    ]


def _csv_text(lines: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in lines:
        writer.writerow(["" if value is None else neutralise(value) for value in line])
    return buffer.getvalue()


def to_csv_zip(report: AefReport) -> bytes:
    """A zip of one UTF-8 CSV (with BOM, so spreadsheets read it as UTF-8) per table."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in report.sheets:
            name = f"aef_{report.party_id}_{report.reported_year}_{sheet.name}.csv"
            archive.writestr(name, "\ufeff" + _csv_text(sheet_lines(report, sheet)))
    return buffer.getvalue()


def to_xlsx(report: AefReport) -> bytes:
    """One worksheet per table; every text cell is stored as text, never as a formula."""
    # Here, not at module level: the simulator's AEF face puts this module on the CLI's
    # start-up path, and only an XLSX export needs openpyxl.
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    workbook = Workbook()
    if workbook.active is not None:
        workbook.remove(workbook.active)
    for sheet in report.sheets:
        worksheet = workbook.create_sheet(sheet.table.sheet)
        for line in sheet_lines(report, sheet):
            worksheet.append([neutralise(value) for value in line] or [None])
        for row in worksheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = TYPE_STRING  # belt and braces: never a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

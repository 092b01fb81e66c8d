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
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select

from metareg.connectors.aef.columns import (
    ACTIONS,
    AUTHORIZATIONS,
    HOLDINGS,
    RECORD_ID_LABEL,
    AefTable,
    normalize_label,
    record_to_row,
)
from metareg.db.tables.index import Action, Authorization, Holding, RecordVersion, Registry
from metareg.index.query import canonical
from metareg.records.identifiers import is_provisional

RESULT_LABEL = "Result of the consistency checks"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_actions = Action
_holdings = Holding
_authorizations = Authorization
_history = RecordVersion
_registry = Registry

# (registry, record_type, record_id) -> rule codes of the unresolved alerts naming it.
ChecksLookup = Callable[[Connection, Sequence[str]], dict[tuple[str, str, str], list[str]]]


@dataclass
class AefSheet:
    table: AefTable
    labels: list[str]
    rows: list[list[Any]]
    records: list[dict[str, Any]] = field(default_factory=list)
    # per record: its reporting registry, and the row as the Party supplied it in an AEF
    # template (label -> value, from the record's history), None when it came otherwise
    registries: list[str] = field(default_factory=list)
    supplied: list[dict[str, Any] | None] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"table{self.table.number}_{self.table.sheet.lower()}"


@dataclass
class AefReport:
    party_id: str
    reported_year: int
    sheets: list[AefSheet]

    def provisional_approaches(self) -> list[str]:
        """The provisional cooperative approaches (CAP-..., RECORDS.md) its tables name:
        every output marks them."""
        return sorted(
            {
                str(record["cooperative_approach_id"])
                for sheet in self.sheets
                for record in sheet.records
                if is_provisional(record.get("cooperative_approach_id"))
            }
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "reported_year": self.reported_year,
            "provisional_cooperative_approaches": self.provisional_approaches(),
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
) -> list[tuple[dict[str, Any], str, str]]:
    """(record, reporting registry, uid) of each holding at 31 December."""
    day = date(year, 12, 31)
    records: list[tuple[dict[str, Any], str, str]] = []
    for registry in registries:
        rows = connection.execute(
            select(_holdings).where(_holdings.c.registry_id == registry, _holdings.c.as_of == day)
        ).all()
        if rows:
            records += [(canonical("holding", row), registry, row.uid) for row in rows]
            continue
        records += [
            (record, registry, uid)
            for uid, record in _holdings_from_history(connection, registry, day)
        ]
    records.sort(
        key=lambda r: (
            r[0]["cooperative_approach_id"],
            r[0]["party_registry_id"],
            r[0]["first_id"],
            r[0]["account_id"],
        )
    )
    return records


def _holdings_from_history(
    connection: Connection, registry: str, day: date
) -> list[tuple[str, dict[str, Any]]]:
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
        out.append((uid, record))
    return out


_TEMPLATE_KEYS = {normalize_label("First unique identifier"), normalize_label(RECORD_ID_LABEL)}
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def _supplied_rows(
    connection: Connection, record_type: str, keys: Sequence[tuple[str, str]]
) -> list[dict[str, Any] | None]:
    """For each (registry, uid): the row the Party supplied in an AEF template (its
    labels and values, as the history keeps the raw input), or None when the record came
    in another shape (canonical records, another source)."""
    found: dict[tuple[str, str], str | None] = {}
    wanted = set(keys)
    by_registry: dict[str, list[str]] = {}
    for registry, uid in wanted:
        by_registry.setdefault(registry, []).append(uid)
    for registry, uids in by_registry.items():
        for start in range(0, len(uids), 500):
            rows = connection.execute(
                select(_history.c.uid, _history.c.raw, _history.c.change)
                .where(
                    _history.c.registry_id == registry,
                    _history.c.record_type == record_type,
                    _history.c.uid.in_(uids[start : start + 500]),
                )
                .order_by(_history.c.id)
            )
            for row in rows:
                if row.change != "withdrawal" and row.raw:
                    found[(registry, row.uid)] = row.raw
    out: list[dict[str, Any] | None] = []
    for key in keys:
        raw = found.get(key)
        try:
            value = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict) and {normalize_label(k) for k in value} & _TEMPLATE_KEYS:
            out.append(value)
        else:
            out.append(None)
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
    held = _holding_records(connection, registries, year)
    holdings = [record for record, _, _ in held]
    supplied = _supplied_rows(
        connection,
        "action",
        [(row.registry_id, row.uid) for row in action_rows],
    )
    supplied_holdings = _supplied_rows(
        connection, "holding", [(registry, uid) for _, registry, uid in held]
    )

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
            AefSheet(
                ACTIONS,
                action_labels,
                rows,
                action_records,
                [row.registry_id for row in action_rows],
                supplied,
            ),
            AefSheet(
                HOLDINGS,
                HOLDINGS.labels(),
                [record_to_row(HOLDINGS, r) for r in holdings],
                holdings,
                [registry for _, registry, _ in held],
                supplied_holdings,
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


# -- XLSX in the layout of the UNDP templates (shared/data/real/aef/undp/) ---------------

HEADING_NOTE = "The annual period from 1 January to 31 December during which actions occurred."
REPORTING_REGISTRY = "Reporting registry"


@dataclass(frozen=True)
class _Layout:
    """Where a table sits on its sheet, as in the template: its title row, and the first
    of its two group rows (the labels are the row after them)."""

    title_row: int
    heading: bool  # the Table 1 heading block above it (Actions only)

    @property
    def label_row(self) -> int:
        return self.title_row + 3


_LAYOUTS = {ACTIONS.number: _Layout(7, True), HOLDINGS.number: _Layout(3, False)}


def _template_cell(value: Any) -> Any:
    """A supplied value as the workbook had it: the history keeps a date cell as ISO text."""
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        return datetime.fromisoformat(value)
    if isinstance(value, str) and value.startswith("="):
        return "'" + value
    return value


def _template_columns(sheet: AefSheet) -> tuple[list[str], list[str], list[str]]:
    """The template's own columns, the Party's additional columns (labels of supplied rows
    the template does not have, in the order first met), and metareg's additions."""
    own = [c.label for c in sheet.table.columns if not c.extra]
    known = {normalize_label(label) for label in sheet.labels}
    party: list[str] = []
    seen: set[str] = set()
    for row in sheet.supplied:
        for label in row or {}:
            key = normalize_label(label)
            if key not in known and key not in seen:
                seen.add(key)
                party.append(label)
    extras = [label for label in sheet.labels if label not in own]
    return own, party, [*extras, REPORTING_REGISTRY]


def _template_rows(sheet: AefSheet, own: list[str], party: list[str]) -> list[list[Any]]:
    index = {label: n for n, label in enumerate(sheet.labels)}
    extras = [label for label in sheet.labels if label not in own]
    rows = []
    for n, cells in enumerate(sheet.rows):
        supplied = sheet.supplied[n] if n < len(sheet.supplied) else None
        if supplied is not None:
            # Every cell the Party supplied, as supplied (a blank stays blank).
            given = {normalize_label(k): v for k, v in supplied.items()}
            line = [_template_cell(given.get(normalize_label(label))) for label in own]
            line += [_template_cell(given.get(normalize_label(label))) for label in party]
        else:
            line = [neutralise(cells[index[label]]) for label in own]
            line += [None] * len(party)
        line += [neutralise(cells[index[label]]) for label in extras]
        line.append(sheet.registries[n] if n < len(sheet.registries) else None)
        rows.append(line)
    return rows


def _party_name(party_id: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_3=party_id)
    return str(country.name) if country is not None else party_id


def _write_template_sheet(workbook: Any, report: AefReport, sheet: AefSheet) -> None:
    layout = _LAYOUTS[sheet.table.number]
    worksheet = workbook.create_sheet(sheet.table.sheet)
    if layout.heading:
        worksheet["A2"] = "Table 1: Heading"
        worksheet["A3"], worksheet["B3"] = "Party", _party_name(report.party_id)
        worksheet["A4"], worksheet["B4"] = "Reported year", report.reported_year
        worksheet["A5"] = HEADING_NOTE
    worksheet.cell(layout.title_row, 1, sheet.table.title)
    own, party, extras = _template_columns(sheet)
    top, second, labels = layout.title_row + 1, layout.title_row + 2, layout.label_row
    below = {c for g in sheet.table.groups if g.row == 2 for c in range(g.first, g.last + 1)}
    width = len(own)
    for group in sheet.table.groups:
        if group.first >= width:
            continue  # metareg's additions have no group in the template
        row = top if group.row == 1 else second
        worksheet.cell(row, group.first + 1, group.label)
        if group.row == 1 and group.first == group.last and group.first not in below:
            # A column of its own: its label merged down over the group rows.
            worksheet.merge_cells(
                start_row=top,
                start_column=group.first + 1,
                end_row=labels,
                end_column=group.first + 1,
            )
        elif group.first < group.last:
            worksheet.merge_cells(
                start_row=row,
                start_column=group.first + 1,
                end_row=row,
                end_column=min(group.last, width - 1) + 1,
            )
    merged_down = {
        g.first
        for g in sheet.table.groups
        if g.row == 1 and g.first == g.last and g.first not in below and g.first < width
    }
    for column, label in enumerate([*own, *party, *extras]):
        if column not in merged_down:
            worksheet.cell(labels, column + 1, label)
    for offset, line in enumerate(_template_rows(sheet, own, party), start=1):
        for column, value in enumerate(line, start=1):
            if value is not None:
                worksheet.cell(labels + offset, column, value)


def _write_plain_sheet(workbook: Any, name: str, lines: list[list[Any]]) -> None:
    worksheet = workbook.create_sheet(name)
    for line in lines:
        worksheet.append([neutralise(value) for value in line] or [None])


def submission_lines(report: AefReport) -> list[list[Any]]:
    """AEF table 1: the submission and the NDC period. metareg knows the Party and the
    reported year; the NDC period is the span of the authorized timeframes the Party's
    authorizations of the year state (empty when none states one)."""
    authorizations = report.sheets[0].records if report.sheets else []
    starts = [r["timeframe_start"] for r in authorizations if r.get("timeframe_start")]
    ends = [r["timeframe_end"] for r in authorizations if r.get("timeframe_end")]
    return [
        ["Table 1: Submission"],
        ["Party", report.party_id],
        ["Party name", _party_name(report.party_id)],
        ["Reported year", report.reported_year],
        ["First year of the NDC period", min(starts) if starts else None],
        ["Last year of the NDC period", max(ends) if ends else None],
    ]


def entity_lines(report: AefReport) -> list[list[Any]]:
    """AEF table 5: the entities the Party authorized (its authorizations' entity lists,
    and the entities its actions name as users), each with the authorizations naming it."""
    named: dict[str, set[str]] = {}
    for sheet in report.sheets:
        for record in sheet.records:
            for entity in record.get("authorized_entity_ids") or []:
                named.setdefault(entity, set()).add(str(record.get("authorization_id")))
            entity = record.get("using_entity_id")
            if entity:
                found = named.setdefault(entity, set())
                if record.get("authorization_id"):
                    found.add(str(record["authorization_id"]))
    return [
        ["Table 5: Authorized entities"],
        ["Authorized entity ID", "Authorization ID(s)"],
        *([entity, "; ".join(sorted(ids)) or None] for entity, ids in sorted(named.items())),
    ]


def to_xlsx(report: AefReport) -> bytes:
    """The workbook in the layout of the UNDP templates and the CMA's tables: sheet
    "Submission" (table 1), "Authorizations" (table 2), "Actions" (the template's Table 1
    heading and Table 2: Actions, i.e. the AEF's table 3) and "Holdings" (table 4) with
    the templates' header rows and merged group cells at the templates' places, and
    "Authorized entities" (table 5). A row the Party supplied in a template is written
    back cell for cell, its additional columns after the template's; metareg's columns
    (block fields, the reporting registry, the consistency checks) follow. Every text
    cell is stored as text, never as a formula."""
    # Here, not at module level: the simulator's AEF face puts this module on the CLI's
    # start-up path, and only an XLSX export needs openpyxl.
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    workbook = Workbook()
    if workbook.active is not None:
        workbook.remove(workbook.active)
    _write_plain_sheet(workbook, "Submission", submission_lines(report))
    for sheet in report.sheets:
        if sheet.table.number in _LAYOUTS:
            _write_template_sheet(workbook, report, sheet)
        else:
            _write_plain_sheet(workbook, sheet.table.sheet, sheet_lines(report, sheet))
    _write_plain_sheet(workbook, "Authorized entities", entity_lines(report))
    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = TYPE_STRING  # belt and braces: never a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

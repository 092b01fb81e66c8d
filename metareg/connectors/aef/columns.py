"""The Agreed Electronic Format (AEF) tables 2-4: column labels, order, and canonical mapping.

One definition serves both directions, so an export written with these columns reads back
to the same canonical records (`record_to_row` then `row_to_record` is the identity on
every field the table carries):

- the AEF **reader** (`metareg.connectors.aef.reader`) finds the header row by its labels and turns
  each data row into a canonical record with `row_to_record`;
- the AEF **writer** (`metareg.oversight.aef`) lays out `AefTable.heading_rows()`, the group
  rows and `AefTable.labels()`, then one `record_to_row` per record.

Layout. Tables 3 (actions) and 4 (holdings) follow the real UNDP National Carbon Registry
templates (`shared/data/real/aef/undp/`) column for column: the same labels in the same
order (columns A..Z of "Table 2: Actions" and A..S of "Table3: Holdings"), with the same
two group-header rows above them. Those templates identify a block by its first and last
*unique identifier* (the ITMO text form, `CA0001-IDN01-IDN-1001-2023`) and have no column
for what the canonical record needs besides (action subtype, mitigation type, the
underlying registry, holding account and snapshot date), so metareg appends those as
extra columns labelled as in the UNFCCC AEF (DOMAIN.md section 3). The templates have no
authorizations sheet: table 2 uses the UNFCCC AEF labels of DOMAIN.md, plus the
authorizing Party and status that a meta-registry must keep.

Labels are matched after `normalize_label` (case, non-breaking spaces, runs of blanks and
a trailing `*` ignored), and each column may have aliases, so a workbook typed by hand or
laid out in the UNFCCC wording reads too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from metareg.records.cells import cell_integer, cell_list, cell_number
from metareg.records.identifiers import IdentifierError, ITMOBlock, parse_itmo

# --- cell kinds: how one cell maps to canonical fields ---------------------------------
TEXT = "text"
INTEGER = "integer"
NUMBER = "number"
DATE = "date"
LIST = "list"  # ';'-separated list of strings
PURPOSES = "purposes"  # "NDC and OIMP" <-> ["NDC", "OIMP"]
TIMEFRAME = "timeframe"  # "2023 - 2030" <-> timeframe_start, timeframe_end
FIRST_IDENTIFIER = "first_identifier"  # ITMO unit text of the block's first unit
LAST_IDENTIFIER = "last_identifier"  # ITMO unit text of the block's last unit
USING = "using"  # "JPN; ENTITY-1" <-> using_party_id, using_entity_id
INFO = "info"  # shown in the AEF but not part of the canonical record: ignored on read

LIST_SEPARATOR = "; "
_PARTY_RE = re.compile(r"^[A-Z]{3}$")
_TIMEFRAME_RE = re.compile(r"^\s*(\d{4})?\s*[-–]\s*(\d{4})?\s*$")
_PURPOSE_SPLIT_RE = re.compile(r"\s+and\s+|\s*[;,]\s*", re.IGNORECASE)


def normalize_label(text: object) -> str:
    """A header label in comparable form: lower case, single spaces, no trailing '*'."""
    value = str(text).replace("\xa0", " ").strip().rstrip("*").strip()
    return re.sub(r"\s+", " ", value).lower()


@dataclass(frozen=True, slots=True)
class AefColumn:
    """One column: its header label, the canonical field it carries and how."""

    label: str
    field: str | None  # canonical field; None for INFO and multi-field kinds
    kind: str = TEXT
    aliases: tuple[str, ...] = ()
    extra: bool = False  # metareg's addition to the real template layout

    def matches(self, label: object) -> bool:
        wanted = normalize_label(label)
        return wanted == normalize_label(self.label) or any(
            wanted == normalize_label(alias) for alias in self.aliases
        )


@dataclass(frozen=True, slots=True)
class ColumnGroup:
    """A merged group header above the labels (row 1 = top group row, row 2 = second)."""

    row: int
    label: str
    first: int  # 0-based column index, inclusive
    last: int


@dataclass(frozen=True, slots=True)
class AefTable:
    number: int  # the UNFCCC AEF table number
    record_type: str
    sheet: str  # worksheet name the writer uses and the reader looks for first
    title: str  # the table title cell above the group rows, as in the templates
    columns: tuple[AefColumn, ...]
    groups: tuple[ColumnGroup, ...] = field(default=())

    def labels(self) -> list[str]:
        return [column.label for column in self.columns]

    def heading_rows(self, party_id: str | None, reported_year: int | None) -> list[list[Any]]:
        """The 'Table 1: Heading' block of the templates (reader takes defaults from it)."""
        return [
            ["Table 1: Heading"],
            ["Party", party_id],
            ["Reported year", reported_year],
        ]


@dataclass(frozen=True, slots=True)
class AefContext:
    """What a row may leave to the workbook heading or the registry configuration."""

    party_id: str | None = None  # 'Party' in Table 1: the reporting (authorizing) Party
    reported_year: int | None = None  # 'Reported year': holdings are as of 31 December


class AefRowError(ValueError):
    """A row whose cells contradict each other or cannot be read; every reason is kept."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# --- the columns -------------------------------------------------------------------------

_RECORD_ID = "Article 6 database record ID"
RECORD_ID_LABEL = _RECORD_ID  # the first column of both templates

# The ITMO block of the templates: columns B..S of both real templates, in order.
_ITMO_BLOCK: tuple[AefColumn, ...] = (
    AefColumn(
        "Cooperative approach", "cooperative_approach_id", aliases=("Cooperative approach ID",)
    ),
    AefColumn("First unique identifier", None, FIRST_IDENTIFIER),
    AefColumn("Last unique identifier", None, LAST_IDENTIFIER),
    AefColumn("Underlying unit block start ID", "first_unit_id", aliases=("First unit ID",)),
    AefColumn("Underlying unit block last ID", "last_unit_id", aliases=("Last unit ID",)),
    AefColumn("Metric", "metric"),
    AefColumn("Quantity (expressed in metric)", None, INFO),
    AefColumn("Quantity (t CO2 eq)", "quantity_tco2e", NUMBER),
    AefColumn("Conversion factor (reporting Party)", None, INFO),
    AefColumn(
        "First transferring participating Party",
        "first_transferring_party_id",
        aliases=("First transferring participating Party ID",),
    ),
    AefColumn("Vintage", "vintage", INTEGER),
    AefColumn("Sector(s)", "sectors", LIST),
    AefColumn("Activity type(s)", "activity_types", LIST),
    AefColumn("Date of authorization", None, INFO),
    AefColumn("Authorization ID", "authorization_id"),
    AefColumn("Purposes for authorization", None, INFO),
    AefColumn("OIMP authorized by the Party", None, INFO),
    AefColumn("First transfer definition", None, INFO),
)

# Block fields the templates only carry inside the unique identifiers: explicit columns
# (UNFCCC AEF wording) so a hand-made table can give them directly.
_BLOCK_EXTRAS: tuple[AefColumn, ...] = (
    AefColumn("Party ITMO registry ID", "party_registry_id", extra=True),
    AefColumn("First ID", "first_id", INTEGER, extra=True),
    AefColumn("Last ID", "last_id", INTEGER, extra=True),
    AefColumn("Underlying unit registry ID", "underlying_registry_id", extra=True),
    AefColumn("Mitigation type", "mitigation_type", extra=True),
)

ACTIONS = AefTable(
    number=3,
    record_type="action",
    sheet="Actions",
    title="Table 2: Actions",  # the template's own numbering (its table 1 is the heading)
    columns=(
        AefColumn(_RECORD_ID, "action_id", aliases=("Action ID",)),
        *_ITMO_BLOCK,
        AefColumn("Action date", "action_date", DATE),
        AefColumn("Action type", "action_type"),
        AefColumn(
            "Transferring participating Party",
            "transferring_party_id",
            aliases=("Transferring participating Party ID",),
        ),
        AefColumn(
            "Acquiring participating Party",
            "acquiring_party_id",
            aliases=("Acquiring participating Party ID",),
        ),
        AefColumn(
            "Purposes for cancellation",
            "purpose",
            aliases=("Purpose for which the ITMO has been used towards or cancelled for OIMP",),
        ),
        AefColumn("Using participating Party or authorized entity or entities", None, USING),
        AefColumn("First transfer", None, INFO),
        AefColumn("Action subtype", "action_subtype", extra=True),
        *_BLOCK_EXTRAS,
        AefColumn(
            "Calendar year for which the ITMOs are used towards the Party's NDC",
            "ndc_use_year",
            INTEGER,
            extra=True,
        ),
    ),
    groups=(
        ColumnGroup(1, _RECORD_ID, 0, 0),
        ColumnGroup(1, "Cooperative approach", 1, 1),
        ColumnGroup(1, "ITMO", 2, 13),
        ColumnGroup(1, "First transfer definition", 18, 18),
        ColumnGroup(1, "Actions", 19, 25),
        ColumnGroup(2, "Unique identifier", 2, 5),
        ColumnGroup(2, "Metric and quantity", 6, 9),
        ColumnGroup(2, "ITMO details", 10, 13),
        ColumnGroup(2, "Authorization", 14, 17),
        ColumnGroup(2, "Action details", 19, 24),
        ColumnGroup(1, "metareg additions", 26, 32),
    ),
)

HOLDINGS = AefTable(
    number=4,
    record_type="holding",
    sheet="Holdings",
    title="Table3: Holdings",  # sic, as in the template
    columns=(
        AefColumn(_RECORD_ID, None, INFO),
        *_ITMO_BLOCK,
        AefColumn("As of", "as_of", DATE, aliases=("Holding date",), extra=True),
        AefColumn("Account ID", "account_id", extra=True),
        AefColumn("Account type", "account_type", extra=True),
        *_BLOCK_EXTRAS,
    ),
    groups=(
        ColumnGroup(1, _RECORD_ID, 0, 0),
        ColumnGroup(1, "Cooperative approach", 1, 1),
        ColumnGroup(1, "ITMO", 2, 13),
        ColumnGroup(1, "First transfer definition", 18, 18),
        ColumnGroup(2, "Unique identifier", 2, 5),
        ColumnGroup(2, "Metric and quantity", 6, 9),
        ColumnGroup(2, "ITMO details", 10, 13),
        ColumnGroup(2, "Authorization", 14, 17),
        ColumnGroup(1, "metareg additions", 19, 26),
    ),
)

AUTHORIZATIONS = AefTable(
    number=2,
    record_type="authorization",
    sheet="Authorizations",
    title="Table 2: Authorizations",
    columns=(
        AefColumn("Authorization ID", "authorization_id"),
        AefColumn("Date of authorization", "authorization_date", DATE),
        AefColumn(
            "Cooperative approach ID", "cooperative_approach_id", aliases=("Cooperative approach",)
        ),
        AefColumn("Version of the authorization", "version", INTEGER, aliases=("Version",)),
        AefColumn("Authorized quantity", "authorized_quantity", NUMBER),
        AefColumn("Metric", "metric"),
        AefColumn("Applicable GWP value(s)", None, INFO),
        # RECORDS.md's authorization has no sectors or activity types (the actions and
        # holdings carry them): read as information only, kept in the raw row.
        AefColumn("Sector(s)", None, INFO),
        AefColumn("Activity type(s)", None, INFO),
        AefColumn("Purposes for authorization", "purposes", PURPOSES),
        AefColumn("Authorized Party(ies) ID", "authorized_party_ids", LIST),
        AefColumn("Authorized entity(ies) ID", "authorized_entity_ids", LIST),
        AefColumn("OIMP authorized by the Party", None, INFO),
        AefColumn("Authorized timeframe", None, TIMEFRAME),
        AefColumn("Authorization terms and conditions", "terms"),
        AefColumn("First transfer definition for OIMP", "first_transfer_definition_oimp"),
        AefColumn("Authorizing Party ID", "authorizing_party_id", extra=True),
        AefColumn("Status", "status", extra=True),
    ),
)

TABLES: dict[str, AefTable] = {
    table.record_type: table for table in (AUTHORIZATIONS, ACTIONS, HOLDINGS)
}
TABLES_BY_NUMBER: dict[int, AefTable] = {table.number: table for table in TABLES.values()}


# --- reading: cells -> canonical record ---------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\xa0", " ").strip()
    return text or None


def _date(value: Any, text: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", text) else text


def _purposes(text: str) -> list[str]:
    return [part.strip() for part in _PURPOSE_SPLIT_RE.split(text) if part.strip()]


def _identifier(label: str, text: str, reasons: list[str]) -> ITMOBlock | None:
    try:
        return parse_itmo(text)
    except IdentifierError as error:
        reasons.append(f"{label}: {error}")
        return None


def _merge(record: dict[str, Any], key: str, value: Any, label: str, reasons: list[str]) -> None:
    """Set a field that two columns may both give; they must agree."""
    if key in record and record[key] != value:
        reasons.append(f"{label}: gives {key}={value!r} but another column gives {record[key]!r}")
        return
    record[key] = value


def row_to_record(
    table: AefTable, cells: Mapping[str, Any], context: AefContext | None = None
) -> dict[str, Any]:
    """One data row (keyed by `normalize_label` of its header) as a canonical record.

    Empty cells are absent fields; a cell that is not the number/date it should be is kept
    as text so validation reports it under the canonical field name. Raises AefRowError
    when cells contradict each other or an ITMO unique identifier cannot be parsed.
    """
    context = context or AefContext()
    record: dict[str, Any] = {"record_type": table.record_type}
    reasons: list[str] = []
    first_block: ITMOBlock | None = None
    last_block: ITMOBlock | None = None
    for column in table.columns:
        value = _find(cells, column)
        text = _text(value)
        if text is None or column.kind == INFO:
            continue
        if column.kind == TEXT:
            assert column.field is not None
            _merge(record, column.field, text, column.label, reasons)
        elif column.kind == INTEGER:
            assert column.field is not None
            _merge(record, column.field, cell_integer(text), column.label, reasons)
        elif column.kind == NUMBER:
            assert column.field is not None
            record[column.field] = cell_number(text, grouping=",")
        elif column.kind == DATE:
            assert column.field is not None
            record[column.field] = _date(value, text)
        elif column.kind == LIST:
            assert column.field is not None
            record[column.field] = cell_list(text)
        elif column.kind == PURPOSES:
            assert column.field is not None
            record[column.field] = _purposes(text)
        elif column.kind == TIMEFRAME:
            match = _TIMEFRAME_RE.match(text)
            if match is None:
                reasons.append(f"{column.label}: expected 'YYYY - YYYY', got {text!r}")
            else:
                if match.group(1):
                    record["timeframe_start"] = int(match.group(1))
                if match.group(2):
                    record["timeframe_end"] = int(match.group(2))
        elif column.kind == FIRST_IDENTIFIER:
            first_block = _identifier(column.label, text, reasons)
        elif column.kind == LAST_IDENTIFIER:
            last_block = _identifier(column.label, text, reasons)
        elif column.kind == USING:
            for part in cell_list(text):
                key = "using_party_id" if _PARTY_RE.match(part) else "using_entity_id"
                _merge(record, key, part, column.label, reasons)
    _apply_identifiers(record, first_block, last_block, reasons)
    _apply_context(table, record, context)
    if reasons:
        raise AefRowError(reasons)
    return record


def _find(cells: Mapping[str, Any], column: AefColumn) -> Any:
    for label in (column.label, *column.aliases):
        key = normalize_label(label)
        if key in cells and cells[key] not in (None, ""):
            return cells[key]
    return None


def _apply_identifiers(
    record: dict[str, Any],
    first: ITMOBlock | None,
    last: ITMOBlock | None,
    reasons: list[str],
) -> None:
    """Block fields from the first/last unique identifiers (explicit columns must agree)."""
    if first is None and last is None:
        return
    one = first or last
    assert one is not None
    if first is not None and last is not None:
        for part in (
            "cooperative_approach_id",
            "party_registry_id",
            "first_transferring_party_id",
            "vintage",
        ):
            if getattr(first, part) != getattr(last, part):
                reasons.append(f"first and last unique identifiers disagree on {part}")
    label = "unique identifier"
    for part in ("cooperative_approach_id", "party_registry_id", "first_transferring_party_id"):
        _merge(record, part, getattr(one, part), label, reasons)
    _merge(record, "vintage", one.vintage, label, reasons)
    if first is not None:
        _merge(record, "first_id", first.first_id, "First unique identifier", reasons)
    if last is not None:
        _merge(record, "last_id", last.last_id, "Last unique identifier", reasons)


def _apply_context(table: AefTable, record: dict[str, Any], context: AefContext) -> None:
    if table is AUTHORIZATIONS and "authorizing_party_id" not in record and context.party_id:
        record["authorizing_party_id"] = context.party_id
    if table is HOLDINGS and "as_of" not in record and context.reported_year:
        record["as_of"] = f"{context.reported_year}-12-31"


# --- writing: canonical record -> cells ---------------------------------------------------


def _unit_text(record: Mapping[str, Any], serial_field: str) -> str | None:
    try:
        return ITMOBlock(
            cooperative_approach_id=record["cooperative_approach_id"],
            party_registry_id=record["party_registry_id"],
            first_transferring_party_id=record["first_transferring_party_id"],
            first_id=record[serial_field],
            last_id=record[serial_field],
            vintage=record["vintage"],
        ).text()
    except (KeyError, IdentifierError):
        return None


def record_to_row(table: AefTable, record: Mapping[str, Any]) -> list[Any]:
    """The cells of one record in the table's column order (None = empty cell).

    Dates stay ISO strings and numbers stay numbers, so the reader gets back exactly the
    record's values. INFO columns are left empty: the canonical record does not hold them.
    """
    row: list[Any] = []
    for column in table.columns:
        row.append(_cell(column, record))
    return row


def _cell(column: AefColumn, record: Mapping[str, Any]) -> Any:
    kind = column.kind
    if kind == INFO:
        return None
    if kind == FIRST_IDENTIFIER:
        return _unit_text(record, "first_id")
    if kind == LAST_IDENTIFIER:
        return _unit_text(record, "last_id")
    if kind == TIMEFRAME:
        start, end = record.get("timeframe_start"), record.get("timeframe_end")
        if start is None and end is None:
            return None
        return f"{start or ''} - {end or ''}".strip()
    if kind == USING:
        parts = [record.get("using_party_id"), record.get("using_entity_id")]
        joined = LIST_SEPARATOR.join(str(part) for part in parts if part)
        return joined or None
    assert column.field is not None
    value = record.get(column.field)
    if value is None:
        return None
    if kind == PURPOSES:
        return " and ".join(value)
    if kind == LIST:
        return LIST_SEPARATOR.join(value)
    return value


def header_index(labels: Sequence[Any], table: AefTable) -> dict[int, str]:
    """Column position -> normalized label for a header row, keeping known labels only."""
    known = {
        normalize_label(label)
        for column in table.columns
        for label in (column.label, *column.aliases)
    }
    return {
        index: normalize_label(label)
        for index, label in enumerate(labels)
        if label is not None and normalize_label(label) in known
    }

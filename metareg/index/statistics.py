"""The planner's statistics of a PostgreSQL index that grows faster than its server
analyses it.

PostgreSQL plans from statistics that only ANALYZE (or autovacuum's analyse) writes. A
server without autovacuum (this project's CI and bench machines run with it off), or
one whose autovacuum has not come round yet, plans an index loaded from empty as if
it were empty: a 10M-block ingest's current-hash lookups then read every row of the
registry through `ix_holding_snapshot` (registry_id, as_of) instead of the one row
through `uq_holding_identity` (registry_id, uid), at every batch, and the load slowed
from about 5,000 to under 1,000 records/s as the tables grew. A plan psycopg prepared
while the tables were small is only replaced when the tables are analysed.

So the writers (`metareg ingest`, sync) note the rows each committed transaction
changed, table by table, and analyse

- every index table, when all the rows written (current and history) exceed
  `BASE_RECORDS` plus `GROWTH` times the rows the index tables held at their last
  analysis (the tables as a whole have doubled);
- one table, when a registry that the planner believes holds fewer than
  `BASE_RECORDS` rows there (its share among the table's most common `registry_id`
  values in `pg_stats`; none if it is not among them) has written more than that many.
  Otherwise a registry that starts writing into a large index is planned as holding
  one row until the tables as a whole have doubled, and each lookup of 4,096
  identities scans all its rows through (registry_id) alone and filters them: the 10M
  load on 2026-12-05 read the fifth registry's 1.6M actions at every batch that way.
  Once the planner knows the registry holds thousands of rows, filtering them by
  4,096 identities costs it more than 4,096 descents of the unique index, whatever
  the registry grows to, so one analysis per registry and table is enough.

The writers also VACUUM `actions` (the tables in `VACUUMED`, and the first transfers'
parts with it) each time the rows written
there exceed `BASE_RECORDS` plus `VACUUM_SHARE` of the rows it held at its last
vacuum. The full check reads its authorization filters, DC09's sums and DC03's parsed
units from indexes alone (`ix_action_authorization_chain`, `ix_action_unit_range`),
and PostgreSQL skips the table in such an index-only scan only on pages its
visibility map marks all-visible, which only VACUUM sets. Without it every index entry
read the table: at 10M blocks one key's authorization filter read 125,000 table pages,
and the authorization pass took 85 s of a 140 s check. A load leaves at most about a tenth of the
table's pages unmarked; each vacuum visits only the pages written since the last
(those already marked are skipped), so the vacuums of a load visit the table about once.

Expected over a 10M load of 14 registries (counted from the rules, not yet measured
there): about a dozen analyses of every table and two or three of one table per
registry, a few seconds each. Each process counts its own
writes. On SQLite nothing happens (its planner needs no statistics for these lookups).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from metareg import log
from metareg.db.tables.index import CURRENT_TABLES, BlockSpan, RecordVersion
from metareg.index import first_transferred

_log = log.get_logger("metareg.index.statistics")

# Rows a process writes before the first analysis (and that a registry the planner
# believes nearly absent from a table writes there before that table's), and the share
# of the rows held at the last analysis that the rows written since must exceed for the
# next analysis of every table.
BASE_RECORDS = 10_000
GROWTH = 1.0
# The tables whose visibility map the check's index-only reads need, and the share of
# the rows they held at their last vacuum that the rows written since must exceed.
VACUUMED = ("actions",)
VACUUM_SHARE = 0.1
# Vacuumed with them: the first transfers' parts, whose rows each writer's batch notes
# and gathers again (`index.first_transferred`), leaving as many dead.
WITH_VACUUMED = (first_transferred.PARTS,)
TABLES = tuple(
    sorted({table.name for table in CURRENT_TABLES.values()} | {RecordVersion.name, BlockSpan.name})
)

_ROWS = text(
    "SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), 0) FROM pg_class c "
    "WHERE c.relname IN :names AND c.relkind = 'r' "
    "AND c.relnamespace = to_regnamespace(current_schema())::oid"
).bindparams(bindparam("names", expanding=True))

# The rows the planner believes each registry has in each table: its frequency among
# the column's most common values times the table's rows.
_BELIEVED = text(
    "SELECT s.tablename, v.registry, v.freq * GREATEST(c.reltuples, 0) FROM pg_stats s "
    "JOIN pg_class c ON c.relname = s.tablename AND c.relkind = 'r' "
    "AND c.relnamespace = to_regnamespace(s.schemaname)::oid "
    "CROSS JOIN LATERAL unnest(s.most_common_vals::text::text[], s.most_common_freqs) "
    "AS v(registry, freq) "
    "WHERE s.schemaname = current_schema() AND s.attname = 'registry_id' "
    "AND s.tablename IN :names"
).bindparams(bindparam("names", expanding=True))

Pair = tuple[str, str]  # (table, registry)


@dataclass
class _Tally:
    rows: float  # the index tables' rows at their last analysis (pg_class.reltuples)
    believed: dict[Pair, float]  # each registry's rows per table, as the planner sees them
    vacuumed: float  # the rows of `VACUUMED` at their last vacuum
    written: int = 0  # rows this process changed since the last analysis of every table
    total: dict[Pair, int] = field(default_factory=dict)  # per table and registry, in all
    unvacuumed: int = 0  # rows this process changed in `VACUUMED` since their last vacuum

    def vacuum_due(self) -> bool:
        return self.unvacuumed > BASE_RECORDS + VACUUM_SHARE * self.vacuumed

    def due(self) -> tuple[str, ...]:
        """The tables to analyse now: every one, some, or none."""
        if self.written > BASE_RECORDS + GROWTH * self.rows:
            return TABLES
        return tuple(
            sorted(
                {
                    table
                    for (table, registry), count in self.total.items()
                    if count > BASE_RECORDS > self.believed.get((table, registry), 0.0)
                }
            )
        )

    def analysed(self, connection: Connection | None, tables: tuple[str, ...]) -> None:
        """Count afresh after analysing `tables` (connection None: the analysis failed).
        A registry still rare among a table's values is believed to hold at least what
        this process wrote there, so the same registry does not set off another."""
        if connection is not None:
            self.believed = _believed(connection)
            if tables == TABLES:
                self.rows = _rows(connection)
        if tables == TABLES:
            self.written = 0
        for pair, count in self.total.items():
            self.believed[pair] = max(self.believed.get(pair, 0.0), float(count))


_TALLIES: weakref.WeakKeyDictionary[Engine, _Tally] = weakref.WeakKeyDictionary()


def _rows(connection: Connection, names: tuple[str, ...] = TABLES) -> float:
    return float(connection.execute(_ROWS, {"names": list(names)}).scalar_one())


def _believed(connection: Connection) -> dict[Pair, float]:
    rows = connection.execute(_BELIEVED, {"names": list(TABLES)})
    return {(table, registry): float(count) for table, registry, count in rows}


def note_written(engine: Engine, registry_id: str, changed: Mapping[str, int]) -> bool:
    """Count the rows a committed transaction of `engine` changed for `registry_id`
    (`changed`: by table name); analyse the index tables when they have grown enough
    since their last analysis, or one of them when the planner believes `registry_id`
    is nearly absent from it; vacuum `VACUUMED` when it has grown by a share since its
    last vacuum. True when it analysed or vacuumed."""
    if engine.dialect.name != "postgresql":
        return False
    changed = {name: count for name, count in changed.items() if count > 0}
    if not changed:
        return False
    tally = _TALLIES.get(engine)
    if tally is None:
        with engine.connect() as connection:
            tally = _TALLIES[engine] = _Tally(
                _rows(connection), _believed(connection), _rows(connection, VACUUMED)
            )
    tally.written += sum(changed.values())
    tally.unvacuumed += sum(changed.get(name, 0) for name in VACUUMED)
    for name, count in changed.items():
        pair = (name, registry_id)
        tally.total[pair] = tally.total.get(pair, 0) + count
    vacuumed = _vacuum(engine, tally) if tally.vacuum_due() else False
    tables = tally.due()
    if not tables:
        return vacuumed
    try:
        with engine.begin() as connection:
            # A table another ANALYZE or a VACUUM holds is skipped, not waited for:
            # the writer that noticed the growth goes on writing.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            quote = connection.dialect.identifier_preparer.quote
            for name in tables:
                connection.exec_driver_sql(f"ANALYZE {quote(name)}")
            tally.analysed(connection, tables)
    except SQLAlchemyError as error:  # the records are committed; only the plans wait
        _log.warning("index statistics not refreshed", error=str(error).splitlines()[0])
        tally.analysed(None, tables)
        return vacuumed
    return True


def _vacuum(engine: Engine, tally: _Tally) -> bool:
    """VACUUM the tables of `VACUUMED` (outside a transaction, as VACUUM must run); a
    table another VACUUM or ANALYZE holds is skipped, not waited for (the next vacuum
    is due a share of its rows later all the same)."""
    tally.unvacuumed = 0
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            quote = connection.dialect.identifier_preparer.quote
            for name in (*VACUUMED, *WITH_VACUUMED):
                connection.exec_driver_sql(f"VACUUM (SKIP_LOCKED) {quote(name)}")
            tally.vacuumed = _rows(connection, VACUUMED)
    except SQLAlchemyError as error:  # the records are committed; only the reads wait
        _log.warning("index visibility not refreshed", error=str(error).splitlines()[0])
        return False
    return True

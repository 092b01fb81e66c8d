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

So the writers (`metareg ingest`, sync) note the records each committed transaction
changed, and when they exceed `BASE_RECORDS` plus `GROWTH` times the rows the index
tables held at their last analysis, the index tables are analysed: about a dozen
times over a 10M load, a few seconds in all. Each process counts its own writes. On
SQLite nothing happens (its planner needs no statistics for these lookups).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from metareg import log
from metareg.db.tables.index import CURRENT_TABLES, BlockSpan, RecordVersion

_log = log.get_logger("metareg.index.statistics")

# Records a process writes before the first analysis, and the share of the rows held
# at the last analysis that the records written since must exceed for the next one.
BASE_RECORDS = 10_000
GROWTH = 0.5
TABLES = tuple(
    sorted({table.name for table in CURRENT_TABLES.values()} | {RecordVersion.name, BlockSpan.name})
)

_ROWS = text(
    "SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), 0) FROM pg_class c "
    "WHERE c.relname IN :names AND c.relkind = 'r' "
    "AND c.relnamespace = to_regnamespace(current_schema())::oid"
).bindparams(bindparam("names", expanding=True))


@dataclass
class _Tally:
    rows: float  # the index tables' rows at their last analysis (pg_class.reltuples)
    written: int = 0  # records this process changed since


_TALLIES: weakref.WeakKeyDictionary[Engine, _Tally] = weakref.WeakKeyDictionary()


def _rows(connection: Connection) -> float:
    return float(connection.execute(_ROWS, {"names": list(TABLES)}).scalar_one())


def note_written(engine: Engine, records: int) -> bool:
    """Count `records` changed by a committed transaction of `engine`; analyse the index
    tables when they have grown enough since their last analysis. True when it did."""
    if engine.dialect.name != "postgresql" or records <= 0:
        return False
    tally = _TALLIES.get(engine)
    if tally is None:
        with engine.connect() as connection:
            tally = _TALLIES[engine] = _Tally(_rows(connection))
    tally.written += records
    if tally.written <= BASE_RECORDS + GROWTH * tally.rows:
        return False
    try:
        with engine.begin() as connection:
            # A table another ANALYZE or a VACUUM holds is skipped, not waited for:
            # the writer that noticed the growth goes on writing.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            quote = connection.dialect.identifier_preparer.quote
            for name in TABLES:
                connection.exec_driver_sql(f"ANALYZE {quote(name)}")
            tally.rows = _rows(connection)
    except SQLAlchemyError as error:  # the records are committed; only the plans wait
        _log.warning("index statistics not refreshed", error=str(error).splitlines()[0])
        return False
    finally:
        tally.written = 0
    return True

"""What a full check reads beside the blocks, in a reading process while it judges them.

A full check's main work is Python: screening and sweeping the blocks. The authorization,
units and programme rules and the read of every alert for the reconciliation are
Python too; on a thread of the check's process they queued for the interpreter lock
behind the sweep and saved nothing (docs/benchmarks.md, stop 41). So a full check of a
large index hands them to a reading process (`sync.prefetch.ProcessAnswer`, a child
kept for the next job), on a connection that sees exactly the check's index
(`db.locks.shared_reader`: SQLite's committed file under the check's write lock,
PostgreSQL's exported snapshot), and takes the answer once the blocks are swept
(`detection.passes.full.find_all`'s `others`). Where no other process can see the
database, where the index is small and no reading process is waiting, or when the
process ends before answering, the check does the same work itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Connection, func, select

from metareg.checks.in_scope import Existing, alerts_in
from metareg.db.locks import reader_elsewhere, shared_reader
from metareg.db.tables.index import Action, Holding
from metareg.detection.passes.full import Others, judge_others
from metareg.detection.passes.scope import JudgedScope
from metareg.log import get_logger
from metareg.sync.prefetch import ProcessAnswer, child_waiting

log = get_logger("metareg.detection")


# What a full check reads beside the blocks: the authorization and units findings with
# DC09's totals, and every detection alert.
FullReads = tuple[Others, Existing]


def full_check_reads(url: str, snapshot: str | None) -> Iterator[FullReads]:
    """In the reading process: the authorization and units rules
    (`detection.passes.full.judge_others`) and DC09's totals, then every detection
    alert. No writer of alerts commits before the check does (it holds the event lock,
    or SQLite's write lock), so the alerts read here are the ones it reconciles."""
    totals: dict[tuple[str, str], int] = {}
    with shared_reader(url, snapshot) as reader:
        found = judge_others(reader, totals)
        existing = alerts_in(reader, JudgedScope(everything=True))
    yield (found, totals), existing


# A reading process takes about half a second to start (an interpreter and metareg's
# imports): a full check of fewer block rows than this is over sooner without one,
# unless one is already waiting. Measured with the bench (docs/benchmarks.md, stop 41):
# a first check with a new process against one without took 1.58 times as long on the
# 100k world (355k rows), 0.81 times on the 1M world (3.55M rows).
READING_PROCESS_FROM_ROWS = 1_000_000


def start_full_reads(index: Connection) -> ProcessAnswer[FullReads] | None:
    """`full_check_reads` started in a reading process; None where no other process can
    see the database (SQLite in memory), or where the index is small and no reading
    process is waiting (starting one would cost more than it saves)."""
    reader = reader_elsewhere(index)
    if reader is None:
        return None
    if not child_waiting() and _block_rows_about(index) < READING_PROCESS_FROM_ROWS:
        return None
    return ProcessAnswer(full_check_reads, *reader)


def _block_rows_about(index: Connection) -> int:
    """About how many block rows the index holds: the largest row id of the actions and
    of the holdings (an index seek each; deleted rows counted)."""
    return sum(
        int(index.execute(select(func.max(table.c.id))).scalar() or 0)
        for table in (Action, Holding)
    )


def others_of(reads: ProcessAnswer[FullReads] | None) -> Callable[[], Others | None] | None:
    """`find_all`'s `others` from the reading process's answer."""
    if reads is None:
        return None

    def others() -> Others | None:
        answer = reads.result()
        if answer is None:
            log.warning("judging authorizations and units here", reason=reads.problem)
            return None
        return answer[0]

    return others


def alerts_of(
    connection: Connection, scope: JudgedScope, reads: ProcessAnswer[FullReads] | None
) -> Existing:
    """The alerts lying in the scope detection judged: those the reading process read
    (a full check), else read here."""
    answer = None if reads is None else reads.result()
    if answer is not None and scope.everything:
        return answer[1]
    return alerts_in(connection, scope)

"""An incremental check's reading process: the blocks of some touched pairs, judged
there while the check judges the others.

After a large change (a registry's day of records) an incremental check is mostly
reading the blocks around the touched intervals and sweeping them: per pair, and the
pairs are independent. When a reading process is already waiting (a full check, an
ingest or a sync of this process left it), `detection.passes.incremental.find_changed`
hands it the last pairs in their order (`split_pairs`); it judges them on a connection
that sees exactly the check's index (`db.locks.shared_reader`, as the full check's
reading process does: `checks.full_reads`) and sends their findings back. No process
is started for it (that costs more than the split saves); when the process ends
before answering the check judges those pairs itself, and an error its job raises
fails the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

from sqlalchemy import Connection

from metareg.db.locks import reader_elsewhere, shared_reader
from metareg.detection.passes.incremental import BlocksElsewhere, PairIntervals, judge_blocks
from metareg.detection.rules.kinds import CheckContext
from metareg.findings import Finding
from metareg.log import get_logger
from metareg.sync.prefetch import ProcessAnswer, child_waiting

log = get_logger("metareg.detection")


def changed_blocks(
    url: str, snapshot: str | None, pairs: PairIntervals, context: CheckContext
) -> Iterator[list[Finding]]:
    """In the reading process: the block findings meeting these pairs' intervals."""
    with shared_reader(url, snapshot) as reader:
        yield judge_blocks(reader, pairs, context)


def blocks_elsewhere(index: Connection, closing: ExitStack) -> BlocksElsewhere | None:
    """`find_changed`'s `elsewhere`: the waiting reading process, or None where there
    is none or no other process can see the database. A job it starts is ended with
    `closing`."""
    reader = reader_elsewhere(index)
    if reader is None or not child_waiting():
        return None

    def start(pairs: PairIntervals, context: CheckContext) -> Callable[[], list[Finding] | None]:
        answer = ProcessAnswer(changed_blocks, *reader, pairs, context)
        closing.callback(answer.close)

        def wait() -> list[Finding] | None:
            found = answer.result()
            if found is None:
                log.warning("judging the blocks of these pairs here", reason=answer.problem)
            return found

        return wait

    return start

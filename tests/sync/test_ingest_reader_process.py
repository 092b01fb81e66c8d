"""A large file is read in a child process (`metareg.sync.ingest.PROCESS_BYTES`), so the
reading takes the machine's other core. What the user sees must not change: the same
index, history, quarantine, counts and progress as reading on a thread; an error in the
child surfaces in the caller where reading met it; a child that dies ends the ingest
with a clear error; a caller that stops early stops its child."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine

from metareg.db.engine import make_engine
from metareg.records.files import MAX_LINE_BYTES
from metareg.sync import ingest
from metareg.sync.ingest import ingest_files
from metareg.sync.prefetch import PROCESS_DEPTH, ProcessPrefetcher, ReaderProcessEnded
from tests.connectors.test_aef import HOLDING
from tests.reliability.test_lying_files import AUTHORIZATION, action, quarantined
from tests.sync.index_state import copy_as_rebuilt, current, history


class Children(ProcessPrefetcher[Any]):
    """ProcessPrefetcher, noting each job and its child (to know the path was taken)."""

    started: ClassVar[list[tuple[str, int]]] = []

    def __init__(self, produce: Any, *args: Any) -> None:
        super().__init__(produce, *args)
        Children.started.append((produce.__name__, self.process_id))


def mixed_jsonl(path: Path) -> Path:
    """Good records, a correction and a tombstone far from their record, and every kind
    of bad line: not JSON, not UTF-8, too long, refused by the schema, unstorable."""
    lines = [json.dumps(AUTHORIZATION).encode()]
    lines += [json.dumps(action(n)).encode() for n in range(1, 60)]
    lines += [
        b"{not json",
        b"\xff\xfe not utf-8",
        b"",
        b"x" * (MAX_LINE_BYTES + 10),
        json.dumps({"record_type": "action", "action_id": "A-bad"}).encode(),
        json.dumps(action(90, quantity_tco2e=2**63)).encode(),
        json.dumps(action(2, quantity_tco2e=7)).encode(),  # corrects line 3
        json.dumps(
            {"record_type": "withdrawal", "of": {"record_type": "action", "action_id": "A-1"}}
        ).encode(),
    ]
    lines += [json.dumps(action(n)).encode() for n in range(60, 80)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def holdings_csv(path: Path) -> Path:
    columns = ["record_type", "as_of", "account_id", "account_type", "cooperative_approach_id"]
    columns += ["party_registry_id", "first_transferring_party_id", "first_id", "last_id"]
    columns += ["vintage", "metric"]
    lines = [",".join(columns)]
    for n in range(1, 30):
        values = {**HOLDING, "account_id": f"acct-{n}", "first_id": 1000 * n, "last_id": "x"}
        values["last_id"] = 1000 * n + 9 if n % 7 else "not a number"
        lines.append(",".join(str(values[c]) for c in columns))
    path.write_text("\n".join(lines) + "\n")
    return path


def ingest_both_ways(
    engine: Engine, reference: Engine, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any, list[int], list[int]]:
    monkeypatch.setattr(ingest, "ProcessPrefetcher", Children)
    Children.started.clear()
    on_thread: list[int] = []
    in_child: list[int] = []
    monkeypatch.setattr(ingest, "PROCESS_BYTES", 1 << 62)
    by_thread = ingest_files(reference, files, "IDN01", batch_size=7, progress=on_thread.append)
    assert Children.started == []
    monkeypatch.setattr(ingest, "PROCESS_BYTES", 0)
    by_child = ingest_files(engine, files, "IDN01", batch_size=7, progress=in_child.append)
    # Each file read in a child; the JSON Lines file's first pass made in two halves,
    # its second half in the child (the CSV's rows may span lines: read whole there).
    jobs = [name for name, _ in Children.started]
    assert jobs == ["named_from", "read_packed", "read_packed"]
    assert os.getpid() not in [pid for _, pid in Children.started]
    return by_thread, by_child, on_thread, in_child


@pytest.fixture
def reference(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Engine]:
    """A second index, filled by the reading thread, to compare with."""
    path = tmp_path / "reference.db"
    shutil.copy(migrated_sqlite, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_a_file_read_in_a_child_process_ingests_exactly_as_on_a_thread(
    engine: Engine, reference: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [mixed_jsonl(tmp_path / "mixed.jsonl"), holdings_csv(tmp_path / "holdings.csv")]
    by_thread, by_child, on_thread, in_child = ingest_both_ways(
        engine, reference, files, monkeypatch
    )

    assert by_child.counts == by_thread.counts
    assert by_child.lines == by_thread.lines
    assert by_child.files_read == by_thread.files_read
    assert by_child.problems == by_thread.problems
    assert by_child.counts.quarantined == 9  # 6 bad lines in the JSON file, 3 in the CSV
    assert current(engine) == current(reference)
    assert history(engine) == history(reference)
    assert quarantined(engine) == quarantined(reference)
    assert copy_as_rebuilt(engine)  # the rows and records the child made for the writer
    assert not any(uid == "A-1" for _, _, uid, _ in current(engine))  # withdrawn
    # The progress bar reaches the same total: every byte of every file.
    total = sum(path.stat().st_size for path in files)
    assert sum(on_thread) == sum(in_child) == total

    # And again through the child: nothing changes.
    before = history(engine)
    again = ingest_files(engine, files, "IDN01", batch_size=7)
    assert (again.counts.accepted, again.counts.corrected, again.counts.withdrawn) == (0, 0, 0)
    assert history(engine) == before


# -- the child process itself -----------------------------------------------------------


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("cannot cross")
        self.callback = lambda: None


def items(count: int, fail_at: int = -1, die_at: int = -1, odd_at: int = -1) -> Iterator[int]:
    """The items the tests' children hand over (a module-level function: the child
    imports it by name)."""
    for n in range(count):
        if n == fail_at:
            raise ValueError(f"item {n} is unreadable")
        if n == die_at:
            os._exit(3)
        if n == odd_at:
            raise Unpicklable()
        yield n


def noted_items(count: int, size: int, notes: str) -> Iterator[bytes]:
    """`count` items of `size` bytes each, each noted in the file `notes` as the child
    makes it (before handing it over)."""
    for n in range(count):
        with open(notes, "a") as out:
            out.write(f"{n}\n")
        yield n.to_bytes(4, "big") * (size // 4)


def made(notes: Path) -> int:
    return len(notes.read_text().split()) if notes.exists() else 0


def taken(prefetcher: ProcessPrefetcher[int], into: list[int]) -> None:
    for item in prefetcher:
        into.append(item)


def test_the_child_hands_over_every_item_in_order() -> None:
    with ProcessPrefetcher(items, 2_000) as read:
        assert list(read) == list(range(2_000))


def test_the_child_reads_ahead_while_the_consumer_holds_an_item(tmp_path: Path) -> None:
    """While the writer writes a long batch, the child goes on reading the next ones (up
    to `PROCESS_DEPTH` are taken off its pipe), instead of waiting on a full pipe for
    the writer to ask: each item here is larger than a pipe's buffer."""
    notes = tmp_path / "made.txt"
    size = 1 << 20
    count = PROCESS_DEPTH + 6
    with ProcessPrefetcher(noted_items, count, size, str(notes)) as read:
        got = iter(read)
        first = next(got)  # the consumer holds this one and asks for nothing more
        deadline = time.monotonic() + 30
        while made(notes) < PROCESS_DEPTH + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        ahead = made(notes)
        rest = list(got)
    assert ahead >= PROCESS_DEPTH + 2  # the one held, PROCESS_DEPTH taken, one more read
    assert [item[:4] for item in [first, *rest]] == [n.to_bytes(4, "big") for n in range(count)]
    assert all(len(item) == size for item in [first, *rest])


def test_an_error_in_the_child_surfaces_after_the_items_before_it() -> None:
    got: list[int] = []
    with ProcessPrefetcher(items, 10, 4) as read, pytest.raises(ValueError) as raised:
        taken(read, got)
    assert got == [0, 1, 2, 3]
    assert str(raised.value) == "item 4 is unreadable"
    assert "in the reading process" in "".join(raised.value.__notes__)


def test_an_error_that_cannot_be_pickled_still_surfaces_by_type_and_text() -> None:
    got: list[int] = []
    with ProcessPrefetcher(items, 10, -1, -1, 2) as read, pytest.raises(RuntimeError) as raised:
        taken(read, got)
    assert got == [0, 1]
    assert str(raised.value) == "Unpicklable: cannot cross"


def test_a_child_that_dies_ends_the_iteration_with_its_exit_code() -> None:
    got: list[int] = []
    with ProcessPrefetcher(items, 10, -1, 5) as read, pytest.raises(ReaderProcessEnded) as raised:
        taken(read, got)
    assert got == [0, 1, 2, 3, 4]
    assert "exit code 3" in str(raised.value)


def test_a_consumer_that_stops_early_stops_its_child() -> None:
    read = ProcessPrefetcher(items, 10**12)
    with read:
        first = [item for _, item in zip(range(3), read, strict=False)]
    assert first == [0, 1, 2]
    assert not read.running  # stopped, not left reading
    with ProcessPrefetcher(items, 3) as again:  # the next one starts a child of its own
        assert list(again) == [0, 1, 2]
    assert again.process_id != read.process_id


def test_a_child_that_finished_reads_the_next_file() -> None:
    """One child per process, not one per file (each takes about half a second to start),
    and the error of one job does not stay with it."""
    with ProcessPrefetcher(items, 3) as first:
        assert list(first) == [0, 1, 2]
    with ProcessPrefetcher(items, 5, 1) as second, pytest.raises(ValueError):
        list(second)
    with ProcessPrefetcher(items, 4) as third:
        assert list(third) == [0, 1, 2, 3]
    assert first.process_id == second.process_id == third.process_id
    assert third.running  # kept for the next one


def test_a_child_stopped_and_continued_mid_write_loses_nothing(tmp_path: Path) -> None:
    """A stop signal cuts short the child's write into a full pipe (a debugger or a
    profiler attaching, a container paused and resumed): what it had not written is
    written after, and every item arrives whole, in order. With the buffered stream the
    child wrote through, the rest of the cut write was lost and the items after it
    misframed within a few dozen stops."""
    size, count = 1 << 20, 60
    done = threading.Event()
    with ProcessPrefetcher(noted_items, count, size, str(tmp_path / "made.txt")) as read:

        def stop_and_continue() -> None:
            while not done.is_set():
                os.kill(read.process_id, signal.SIGSTOP)
                os.kill(read.process_id, signal.SIGCONT)
                time.sleep(0.002)

        stopper = threading.Thread(target=stop_and_continue, daemon=True)
        stopper.start()
        got: list[bytes] = []
        try:
            for item in read:
                got.append(item)
                time.sleep(0.01)  # a slow writer: the pipe stays full, the child blocked
        finally:
            done.set()
            stopper.join()
    assert [item[:4] for item in got] == [n.to_bytes(4, "big") for n in range(count)]
    assert all(item == item[:4] * (size // 4) for item in got)

"""Iterating ahead of the consumer: the sync engine's pages (fetched, validated and
normalized on a thread while the pages before them are written) and a file ingest's
batches (read and validated while the batch before is written: on a thread for a small
file, in a child process for a large one).

Nothing that writes runs on the thread or in the child: the consumer commits what it
takes, in order, so what was prepared but not yet committed is simply prepared again
after a crash.

Why a process for large files: reading a batch (parsing, validation, normal form,
hashes) is Python, and so is much of writing it; SQLite releases the GIL only inside
each row's step of `executemany`, and takes it back for the next row. A reading thread
and the writer therefore take turns more than they overlap (an ingest's wall time was
about its CPU time). A child process reads on the other core; the batches cross a
pipe, pickled as plain tuples (`records.operations.pack`).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import importlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from metareg.db.collector import collector_paused

# Pages fetched ahead of the ones being written (memory: this many pages more). More than
# one lets pages queue up while a transaction is written, so the next one can take them
# (the sync engine commits up to GROUP_ITEMS items of waiting pages together).
PREFETCH_DEPTH = 10
_POLL_SECONDS = 0.1  # how often a blocked fetch thread looks whether it should stop
_JOIN_SECONDS = 5.0  # a stopped fetch thread may be inside a request; don't wait for long
# A child's messages taken off its pipe ahead of the consumer (memory: an ingest's
# pickled batch is about 4.5 MB). With none taken ahead the child stalled on the full
# pipe until the writer asked for the next batch, and the writer then waited for the
# one after: 3.6-4.0 s of 25 s in an ingest of two registries of the 1M world.
PROCESS_DEPTH = 4


T = TypeVar("T")


def _put(handover: queue.Queue[Any], stop: threading.Event, item: Any) -> bool:
    """Put `item`, waiting while the queue is full, unless `stop` is set meanwhile."""
    while not stop.is_set():
        try:
            handover.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


class PagePrefetcher(Generic[T]):
    """Iterates `pages` on a thread, up to `depth` items ahead of the consumer.

    Each item, the end, or the exception the iteration raised is handed over in order, so
    the consumer sees exactly what iterating `pages` itself would have shown, at the same
    point (an error after page N surfaces after page N was consumed). `close()` stops the
    thread; a generator is closed on the thread that iterates it."""

    def __init__(self, pages: Iterable[T], depth: int = PREFETCH_DEPTH) -> None:
        self._handover: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self.ended = False  # `rest` met the end of the iteration
        # The thread runs in a copy of the caller's context, so log fields bound there
        # (structlog contextvars) still reach what the fetch and the parsing log.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._fetch, pages), name="sync-prefetch", daemon=True
        )
        self._thread.start()

    def _fetch(self, pages: Iterable[T]) -> None:
        iterator = iter(pages)
        try:
            for page in iterator:
                if not self._put(("page", page)):
                    return
            self._put(("end", None))
        except BaseException as error:  # handed to the consumer, raised there
            self._put(("error", error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _put(self, item: tuple[str, Any]) -> bool:
        return _put(self._handover, self._stop, item)

    def __iter__(self) -> Iterator[T]:
        while True:
            kind, value = self._handover.get()
            if kind == "page":
                yield value
            elif kind == "end":
                return
            else:
                raise value

    def ready(self) -> bool:
        """Whether the next item (a page, the end or the error) is already waiting, so
        taking it will not block."""
        return not self._handover.empty()

    def rest(self) -> Iterator[T]:
        """Stops reading ahead and iterates what was already handed over, in order,
        without waiting for more (an error handed over is raised where it stands).
        `ended` says afterwards whether the iteration's end was among it: if not, what
        follows the last item was never handed over, and is read again from there."""
        self.close()
        while True:
            try:
                kind, value = self._handover.get_nowait()
            except queue.Empty:
                return
            if kind == "page":
                yield value
            elif kind == "end":
                self.ended = True
                return
            else:
                raise value

    def close(self) -> None:
        self._stop.set()
        self._thread.join(_JOIN_SECONDS)

    def __enter__(self) -> PagePrefetcher[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ReaderProcessEnded(RuntimeError):
    """The child process stopped without handing over the end or an error (killed, or
    out of memory): what it handed over before stands, the rest was never read."""


# The child's first line: it takes the parent's import path from its standard input
# before it imports anything of metareg, so it runs the very code the parent runs (a
# checkout on PYTHONPATH, a path a script added), and never the parent's main script
# (as multiprocessing's spawn would); then its jobs, from the same pipe.
_CHILD = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from metareg.sync.prefetch import _child_main; _child_main()"
)
# Each message to the parent: its length and its kind (an item; the job's last, the end
# or an error, where the parent's reading thread stops; or a beat, `beat()`), then the
# pickle (empty for a beat).
_FRAME = struct.Struct("<QB")
_ITEM, _LAST, _BEAT = 0, 1, 2
_END = object()  # the end of a job's items, in the child
# In a child: writes one frame to the parent (None elsewhere).
_write_frame: Callable[[int, bytes], None] | None = None


def _write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to the pipe `fd`, write after write.

    Not through a buffered stream: a write into a full pipe that a stop signal cuts
    short (SIGSTOP and SIGCONT: a debugger or profiler attaching, a container paused
    and resumed) returns the bytes it wrote, and the buffered stream went on as if it
    had written them all. The bytes lost misframed every message after them."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def beat() -> None:
    """In a child's job: tell the parent that the job is alive although it hands over
    nothing yet (a fetch waiting to retry). The parent's reading thread calls the
    prefetcher's `on_beat` at once, whatever the consumer is doing. Elsewhere: nothing."""
    if _write_frame is not None:
        _write_frame(_BEAT, b"")


def _child_main() -> None:
    """In the child: for each job `(module, name, args)` read from standard input,
    hand over each item of `module.name(*args)` on standard output, then the end, or
    the error the iteration raised (the child's traceback as a note); then wait for the
    next job, until standard input ends. Anything the child prints goes to stderr."""
    global _write_frame
    jobs, out = sys.stdin.buffer, sys.stdout.fileno()
    sys.stdout = sys.stderr

    def write(kind: int, blob: bytes) -> None:
        _write_all(out, _FRAME.pack(len(blob), kind))
        _write_all(out, blob)

    def send(message: tuple[str, Any]) -> None:
        blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        write(_ITEM if message[0] == "item" else _LAST, blob)

    _write_frame = write

    while True:
        try:
            module, name, args = pickle.load(jobs)  # noqa: S301 (our own parent)
        except EOFError:  # the parent is done with this child
            return
        try:
            produce = getattr(importlib.import_module(module), name)
            items = iter(produce(*args))
            while True:
                # Each item (an ingest's batch: containers per line, none in a cycle)
                # made with the collector paused; it runs between items.
                with collector_paused():
                    item = next(items, _END)
                if item is _END:
                    break
                send(("item", item))
            send(("end", None))
        except BrokenPipeError:  # the parent stopped listening
            return
        except BaseException as error:
            error.add_note("in the reading process:\n" + traceback.format_exc())
            try:
                send(("error", error))
            except BrokenPipeError:
                return
            except Exception:  # an exception that does not pickle: its type and text do
                send(("error", RuntimeError(f"{type(error).__name__}: {error}")))


class _Child:
    """One child interpreter (`sys.executable`, a fresh process, not a fork of the
    caller, whose threads and open database connections a fork would copy)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (this interpreter, our own code)
            [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        self.stdin, self.stdout = stdin, stdout
        self.start(list(sys.path))

    def start(self, job: Any) -> None:
        """Hand the child its import path (first) or a job."""
        # OSError: already gone; reading finds the end of its output, and says so.
        with contextlib.suppress(OSError):
            _write_all(self.stdin.fileno(), pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))

    def read(self, size: int) -> bytes:
        data = self.stdout.read(size)
        if len(data) < size:
            code = self.process.wait()
            raise ReaderProcessEnded(
                f"the reading process stopped before the end of its input (exit code {code})"
            )
        return data

    def message(self) -> tuple[int, bytes]:
        """The next message's kind (`_ITEM`, `_LAST`, `_BEAT`) and its pickle."""
        size, kind = _FRAME.unpack(self.read(_FRAME.size))
        return kind, self.read(size)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.end()

    def end(self) -> None:
        """Let the child finish (its jobs end) and reap it."""
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        try:
            self.process.wait(_JOIN_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Children whose last job ended, kept for the next one: a process of `metareg ingest`
# or of the bench reading file after file starts one child, not one per file (a child
# takes about half a second to start: its interpreter and the records layer's imports).
_idle: list[_Child] = []
_idle_lock = threading.Lock()


def _take_child() -> _Child:
    with _idle_lock:
        while _idle:
            child = _idle.pop()
            if child.process.poll() is None:
                return child
            child.end()
    return _Child()


def _keep_child(child: _Child) -> None:
    with _idle_lock:
        _idle.append(child)


def child_waiting() -> bool:
    """Whether a reading process of this process waits for its next job (a job handed
    to it costs no interpreter's start)."""
    with _idle_lock:
        return any(child.process.poll() is None for child in _idle)


@atexit.register
def _end_idle_children() -> None:
    with _idle_lock:
        while _idle:
            _idle.pop().end()


class ProcessPrefetcher(Generic[T]):
    """Iterates `produce(*args)` in a child process (`produce` a module-level function,
    its arguments and items picklable), handing each item, the end, or the error over
    in order, as `PagePrefetcher` does. A thread of this process takes the child's
    messages off the pipe as they come, up to `depth` ahead of the consumer, so the
    child reads on while the consumer writes a long batch; the consumer unpickles
    them. A `beat()` of the job calls `on_beat` on that thread at once. `close()` stops
    the child if the iteration did not end; a child whose iteration ended waits for the
    next `ProcessPrefetcher` of this process."""

    def __init__(
        self,
        produce: Callable[..., Iterable[T]],
        *args: Any,
        depth: int = PROCESS_DEPTH,
        on_beat: Callable[[], None] | None = None,
    ) -> None:
        self._on_beat = on_beat
        self._child = _take_child()
        self._child.start((produce.__module__, produce.__qualname__, args))
        self._ended = False  # the consumer took the end or the error
        self._messages: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._take, name="reader-pipe", daemon=True)
        self._thread.start()

    def _take(self) -> None:
        """On the thread: each message's pickle into the queue, until the job's last."""
        try:
            while True:
                kind, data = self._child.message()
                if kind == _BEAT:
                    if self._on_beat is not None:
                        self._on_beat()
                    continue
                if not _put(self._messages, self._stop, (False, data)) or kind == _LAST:
                    return
        except BaseException as error:  # the child ended early, or `on_beat` raised
            _put(self._messages, self._stop, (True, error))  # raised to the consumer

    @property
    def process_id(self) -> int:
        return self._child.process.pid

    @property
    def running(self) -> bool:
        """Whether the child process is still alive (a kept one is)."""
        return self._child.process.poll() is None

    def ready(self) -> bool:
        """Whether the next item (or the end, or the error) is already waiting."""
        return not self._messages.empty()

    def __iter__(self) -> Iterator[T]:
        while True:
            failed, data = self._messages.get()
            if failed:  # the child's output ended early: `close` stops what is left of it
                raise data
            # Our own child, over a pipe no one else holds: not untrusted data. A batch
            # of records is thousands of containers, none in a cycle.
            with collector_paused():
                kind, value = pickle.loads(data)  # noqa: S301
            if kind == "item":
                yield value
            elif kind == "end":
                self._ended = True
                return
            else:
                self._ended = True
                raise value

    def close(self) -> None:
        self._stop.set()
        if self._ended and self.running:
            self._thread.join()  # it stopped at the job's last message, which was taken
            _keep_child(self._child)
        else:
            self._child.stop()  # a read blocked on the pipe ends
            self._thread.join(_JOIN_SECONDS)

    def __enter__(self) -> ProcessPrefetcher[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ProcessAnswer(Generic[T]):
    """One answer computed in a reading process while the caller does other work:
    `produce(*args)` (a module-level generator function) yields it once. `result()`
    waits for it; it is None where no process could be started or the process ended
    before answering, and the caller then computes the answer itself (an error the
    job raised is raised). The process, its job done, waits for the next job of this
    process, as a `ProcessPrefetcher`'s does."""

    def __init__(self, produce: Callable[..., Iterable[T]], *args: Any) -> None:
        self.problem: str | None = None  # why there is no answer, when there is none
        self._answer: T | None = None
        self._job: ProcessPrefetcher[T] | None = None
        try:
            self._job = ProcessPrefetcher(produce, *args)
        except OSError as why:
            self.problem = f"no reading process could be started: {why}"

    def result(self) -> T | None:
        """The answer (waiting for it the first time), or None (see `problem`)."""
        if self._job is None:
            return self._answer
        try:
            answers = list(self._job)  # to its end: the process is then kept for the next job
        except ReaderProcessEnded as why:
            self.problem = str(why)
            answers = []
        finally:
            self.close()
        self._answer = answers[0] if answers else None
        return self._answer

    def close(self) -> None:
        if self._job is not None:
            self._job.close()
            self._job = None

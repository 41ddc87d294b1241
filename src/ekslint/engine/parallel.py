"""Running a lint in several processes (``--jobs``).

Parsing is CPU-bound Python, so threads would not help; processes do. Each worker
builds its own ``FileAnalyser`` once and returns pickled ``FileOutcome``s, which
hold no parse tree and are cheap to send back. Results come back in input order, so
a parallel run reports exactly what a serial one does.

The cross-file stage needs every file's facts in one place. In a parallel run it is
shared with one forked child (``share_with_fork``), which sees the facts the parent
holds without their being sent anywhere.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import TYPE_CHECKING, NoReturn, TypeVar

from ekslint.config import Settings
from ekslint.engine import isolation
from ekslint.engine.analysis import FileAnalyser, FileOutcome, Packed, pack, unpack
from ekslint.engine.cache import content_digest
from ekslint.engine.rule import Rule
from ekslint.model.facts import PackedFacts
from ekslint.parse.mime import refused_by_run_total
from ekslint.parse.sources import read_head

if TYPE_CHECKING:
    from concurrent.futures import Future

# Below this many files to analyse, starting workers costs more than it saves
# (measured with benchmarks/bench.py: a fork and its first chunk take ~30 ms).
AUTO_MIN_FILES = 200
# Chunks of at most 32 files (~25 ms of work) keep the end of a run even: no worker
# idles long while another finishes its last chunk (64 was 0.15 s slower at 10k).
MAX_CHUNK = 32

# A file to analyse: its path and its path as reports show it.
WorkItem = tuple[str, str]
# The outcome, and for the cache: the content digest and the outcome packed.
Result = tuple[FileOutcome, bytes | None, Packed | None]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def effective_jobs(requested: int | None, files: int) -> int:
    if files <= 1:
        return 1
    if requested is not None and requested > 0:
        return min(requested, files)
    cores = available_cores()
    return min(cores, files) if cores > 1 and files >= AUTO_MIN_FILES else 1


def analyse_one(analyser: FileAnalyser, path: str, shown: str, keep_blob: bool) -> Result:
    """Analyse one file; with ``keep_blob`` also its content digest and pickled
    outcome, for the cache."""
    try:
        data = read_head(path, analyser.settings.limits)
    except OSError as err:
        return FileOutcome(shown, read_error=err.strerror or str(err)), None, None
    outcome = analyser.analyse_bytes(shown, data)
    if not keep_blob or not outcome.cacheable or refused_by_run_total():  # depends on other files: not cached
        return outcome, None, None
    return outcome, content_digest(data), pack(outcome)


_worker: FileAnalyser | None = None


def _start_worker(file_rules: list[type[Rule]], settings: Settings, owners: dict[str, str]) -> None:
    global _worker
    _worker = FileAnalyser(file_rules, settings, owners)
    isolation.arm(settings.rule_time_limit)  # a forked worker has it already; a spawned one starts it


def _analyse_chunk(chunk: list[WorkItem], keep_blobs: bool) -> bytes:
    """A chunk's results, pickled in one go. For the cache, each outcome is packed
    (and stored as packed); without one, the outcomes go whole: one pickle per chunk
    shares its class lookups and strings, and the parent, which shares the cores
    with the workers, unpickles a third less."""
    assert _worker is not None, "worker not initialised"
    if not keep_blobs:
        outcomes = [analyse_one(_worker, path, shown, keep_blob=False)[0] for path, shown in chunk]
        return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)
    results = []
    for path, shown in chunk:
        outcome, digest, packed = analyse_one(_worker, path, shown, keep_blob=True)
        results.append((packed if packed is not None else pack(outcome), digest))  # no digest: not to be cached
    return pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)


def _next_received(submitted: deque[tuple[list[WorkItem], Future[bytes]]], keep_blobs: bool) -> Iterator[Result]:
    blob = submitted[0][1].result()  # a chunk leaves the queue only once its results are in
    submitted.popleft()
    return _received(blob, keep_blobs)


def _received(blob: bytes, keep_blobs: bool) -> Iterator[Result]:
    if not keep_blobs:
        for outcome in pickle.loads(blob):
            yield outcome, None, None
        return
    for packed, digest in pickle.loads(blob):
        outcome = unpack(packed)
        if isinstance(outcome.facts, PackedFacts):
            # Unpacked now, while the workers still parse: the cross-file stage
            # would otherwise do it alone after they finish.
            outcome.facts = outcome.facts.unpack()
        yield outcome, digest, packed


def analyse(
    work: Iterable[WorkItem], analyser: FileAnalyser, requested: int | None, keep_blobs: bool
) -> tuple[int, Generator[Result, None, None]]:
    """How many processes analyse ``work``, and the results in ``work``'s order.

    ``work`` may still be being discovered (the walk is lazy): only enough of it is
    read ahead to choose the processes and the chunk size as if the whole list were
    known; the rest goes to the workers as it is found. Closing the results early
    cancels the chunks no worker has started."""
    items = iter(work)
    likely = requested if requested is not None and requested > 0 else available_cores()
    # Past this many files neither the number of processes nor the chunk size changes.
    head = list(islice(items, max(AUTO_MIN_FILES, MAX_CHUNK * 4 * likely)))
    jobs = effective_jobs(requested, len(head))
    if jobs == 1:
        return 1, (analyse_one(analyser, path, shown, keep_blobs) for path, shown in chain(head, items))
    size = max(1, min(MAX_CHUNK, len(head) // (jobs * 4)))
    return jobs, _in_workers(_chunks(chain(head, items), size), analyser, jobs, keep_blobs)


def _chunks(items: Iterator[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _in_workers(
    chunks: Iterator[list[WorkItem]], analyser: FileAnalyser, jobs: int, keep_blobs: bool
) -> Generator[Result, None, None]:
    # Imported here: a serial run (every one-file pre-commit run) never needs them.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # fork starts workers in milliseconds with the plugins already loaded; elsewhere
    # (spawn) the initializer loads them again.
    context = multiprocessing.get_context("fork" if fork_is_safe() else "spawn")
    submitted: deque[tuple[list[WorkItem], Future[bytes]]] = deque()
    unsent: list[WorkItem] = []
    try:
        with ProcessPoolExecutor(
            jobs,
            mp_context=context,
            initializer=_start_worker,
            initargs=(analyser.file_rules, analyser.settings, analyser.owners),
        ) as pool:
            try:
                for chunk in chunks:
                    unsent = chunk  # until submit returns: a broken pool raises there too
                    submitted.append((chunk, pool.submit(_analyse_chunk, chunk, keep_blobs)))
                    unsent = []
                    # Results that are in already are handed on while the walk goes on.
                    while submitted and submitted[0][1].done():
                        yield from _next_received(submitted, keep_blobs)
                while submitted:
                    yield from _next_received(submitted, keep_blobs)
            finally:
                # Stopped early (Ctrl-C, an error): the pool's exit would otherwise
                # wait for every chunk already submitted.
                for _, future in submitted:
                    future.cancel()
    except BrokenProcessPool:
        # A worker died (killed, out of memory): finish in this process, so the
        # run still completes and names any file that fails here too.
        for chunk in chain([c for c, _ in submitted], [unsent], chunks):
            for path, shown in chunk:
                yield analyse_one(analyser, path, shown, keep_blobs)


# -- the cross-file stage: this process and one forked child --------------------------

T = TypeVar("T")
_TASK_BYTES = 2  # a task number in the queue
# The queue is written whole before the fork; 4 KiB is one atomic pipe write and fits
# the smallest pipe buffer Linux gives (one page, for a user over its pipe quota).
MAX_SHARED_TASKS = 4096 // _TASK_BYTES


def fork_is_safe() -> bool:
    """Forking without exec is safe only on Linux (macOS system libraries may crash in
    the child) and only with no other thread (one may hold a lock the child needs)."""
    return sys.platform == "linux" and threading.active_count() == 1


def share_with_fork(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``tasks`` in this process and one forked child, each taking the next
    task from a shared queue until it is empty; their results in task order.

    The child starts with everything this process holds (no facts are sent), so the
    tasks must only compute: what they change in memory stays in the process that
    ran them. The queue (a pipe of task numbers, each read whole by one process)
    balances tasks whose cost nobody knows in advance. If the child fails, or cannot
    be started, this process runs its tasks; results must be picklable."""
    if len(tasks) < 2 or len(tasks) > MAX_SHARED_TASKS or not fork_is_safe():
        return [task() for task in tasks]
    queue_read, queue_write = os.pipe()
    results_read, results_write = os.pipe()
    numbers = b"".join(i.to_bytes(_TASK_BYTES, "little") for i in range(len(tasks)))
    # Ctrl-C waits until this process is inside the try below, and the child never
    # sees it: the parent ends the child.
    unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            queued = os.write(queue_write, numbers) == len(numbers)
        finally:
            os.close(queue_write)  # the queue ends where the numbers end
        pid = os.fork() if queued else -1
    except OSError:  # no process to spare (EAGAIN, ENOMEM): all tasks run here
        pid = -1
    if pid == 0:
        _child(tasks, queue_read, results_read, results_write)
    os.close(results_write)
    finished = False
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        mine = {i: tasks[i]() for i in _taken(queue_read)}
        received = b""
        if pid > 0:
            with os.fdopen(results_read, "rb", closefd=False) as pipe:
                received = pipe.read()
        finished = True
    finally:
        if pid > 0 and not finished:
            os.kill(pid, signal.SIGKILL)  # interrupted or failed here: the child's work is moot
        os.close(queue_read)
        os.close(results_read)  # a child still writing then fails and exits
        if pid > 0:
            os.waitpid(pid, 0)
    try:
        theirs = pickle.loads(received) if received else {}
    except Exception:  # the child died mid-write
        theirs = {}
    return [mine[i] if i in mine else theirs[i] if i in theirs else tasks[i]() for i in range(len(tasks))]


def _child(tasks: Sequence[Callable[[], T]], queue_read: int, results_read: int, results_write: int) -> NoReturn:
    """The forked child: take tasks, send their results, exit. It never returns into
    the caller's code, whatever happens."""
    code = 1
    try:
        # A collection would write to every object's header and so copy every page
        # it shares with the parent; the child lives a fraction of a second.
        gc.disable()
        os.close(results_read)
        theirs = {i: tasks[i]() for i in _taken(queue_read)}
        with os.fdopen(results_write, "wb") as pipe:
            pipe.write(pickle.dumps(theirs, protocol=pickle.HIGHEST_PROTOCOL))
        code = 0
    finally:
        isolation.real_exit(code)  # os._exit itself refuses while a rule runs


def _taken(queue: int) -> Iterator[int]:
    # Every read asks for one whole task number; a pipe read takes what is there
    # under the pipe's lock, so two processes never split or share one.
    while len(claim := os.read(queue, _TASK_BYTES)) == _TASK_BYTES:
        yield int.from_bytes(claim, "little")

"""Pages run in worker processes of this machine, one page at a time each.

Each worker has a pipe of its own (see :mod:`pdfocr.worker` for its side), and one
dispatcher thread hands pages to idle workers and reads their answers. Because the
executor always knows which page each worker holds, a worker that dies is pinned on its
page without guesswork, and killing one worker (a page past its time limit, a cancelled
conversion) leaves every other worker and page alone. A worker that dies is replaced
when there is work for it; workers start with the first page and stay warm (engine
loaded) until the executor is closed.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING

from ..errors import OutputError, PdfocrError, UsageError, os_reason
from ..page import PageOutcome, PageTask
from ..worker import READY, kill_descendants, serve
from . import Started, StopReason, WorkerLost

if TYPE_CHECKING:
    from ..engines import OcrEngine

# How long workers told to exit may take before they are killed.
EXIT_GRACE_SECONDS = 3.0
# Workers in a row that may die before they are ready before the queued pages fail.
MAX_FAILED_STARTS = 3
# A worker not ready this long after it was started counts as one that failed to start
# (it imports pdfocr and its engine's Python modules; the engine itself loads later).
START_SECONDS = 120.0


@dataclass(eq=False)
class _Job:
    task: PageTask
    future: Future[PageOutcome]
    started: Started
    stopped: StopReason | None = None


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    connection: Connection
    folder: str
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    job: _Job | None = None
    killed: bool = False
    """Killed by the executor on purpose (a stop, a close), not dead on its own."""
    too_slow: bool = False
    """Killed for not being ready within START_SECONDS: a failed start."""


@dataclass
class _State:
    queue: collections.deque[_Job] = field(default_factory=collections.deque)
    workers: list[_Worker] = field(default_factory=list)
    closing: bool = False
    failed_starts: int = 0
    broken: PdfocrError | None = None
    """Why the dispatcher failed; every page submitted since fails with it."""


class ProcessExecutor:
    """Up to ``capacity`` worker processes, started from a fork server: the caller may
    have threads (asyncio, web servers), and a plain fork of a threaded process inherits
    locks held by threads that do not exist in the child."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._context = multiprocessing.get_context("forkserver")
        self._lock = threading.Lock()
        self._state = _State()
        self._dispatcher: threading.Thread | None = None
        self._wake_read, self._wake_write = os.pipe()
        self._wake_open = True
        self._folder: str | None = None
        self.workers_replaced = 0
        """Workers that ended before the executor closed (died, or were killed to stop a
        page): each is replaced by a new one when a page needs it."""

    @property
    def capacity(self) -> int:
        return self._capacity

    def submit(self, task: PageTask, started: Started) -> Future[PageOutcome]:
        future: Future[PageOutcome] = Future()
        with self._lock:
            if self._state.broken is not None:
                future.set_exception(self._state.broken)
                return future
            if self._state.closing:
                future.set_exception(WorkerLost(None, StopReason.CLOSED))
                return future
            if self._dispatcher is None:
                try:
                    self._folder = tempfile.mkdtemp(prefix="pdfocr-workers-")
                except OSError as error:
                    raise OutputError(
                        f"cannot make a folder for worker processes in {tempfile.gettempdir()}: "
                        f"{os_reason(error)}"
                    ) from None
                self._dispatcher = threading.Thread(
                    target=self._dispatch, name="pdfocr-dispatch", daemon=True
                )
                self._dispatcher.start()
            self._state.queue.append(_Job(task, future, started))
        self._wake()
        return future

    def prepare(self) -> None:
        check_main_script()

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        engine.check(languages)  # the workers are on this machine

    def stop(self, future: Future[PageOutcome], reason: StopReason) -> None:
        with self._lock:
            for job in self._state.queue:
                if job.future is future:
                    self._state.queue.remove(job)
                    _fail(job, WorkerLost(None, reason))
                    return
            for worker in self._state.workers:
                if worker.job is not None and worker.job.future is future:
                    worker.job.stopped = reason
                    self._kill(worker)
                    return

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            self._state.closing = True
            if kill:
                while self._state.queue:
                    _fail(self._state.queue.popleft(), WorkerLost(None, StopReason.CLOSED))
                for worker in self._state.workers:
                    if worker.job is not None:
                        worker.job.stopped = StopReason.CLOSED
                    self._kill(worker)
            dispatcher = self._dispatcher
        self._wake()
        if dispatcher is not None and dispatcher is not threading.current_thread():
            dispatcher.join()
        with self._lock:
            if self._wake_open:
                self._wake_open = False
                os.close(self._wake_write)
                os.close(self._wake_read)
            if dispatcher is None and self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)

    # -- the dispatcher thread -------------------------------------------------------

    def _wake(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            if self._wake_open:  # never write to a closed (perhaps reused) descriptor
                os.write(self._wake_write, b"!")

    def _dispatch(self) -> None:
        try:
            self._serve()
        except BaseException as error:  # a bug here would leave every page waiting forever
            self._break(error)
        self._stop_workers()

    def _serve(self) -> None:
        state = self._state
        while True:
            with self._lock:
                handed = self._assign()
                if state.closing and not state.queue and all(w.job is None for w in state.workers):
                    return
            for worker, job in handed:
                self._send(worker, job)
            with self._lock:
                waitables: list[object] = [self._wake_read]
                for worker in state.workers:
                    waitables += [worker.connection, worker.process.sentinel]
                starting = [w.started + START_SECONDS for w in state.workers if not w.ready]
            timeout = max(0.0, min(starting) - time.monotonic()) if starting else None
            ready = set(wait(waitables, timeout))  # type: ignore[arg-type]
            if self._wake_read in ready:
                os.read(self._wake_read, 4096)
            for worker in list(state.workers):
                if worker.connection in ready:
                    self._receive(worker)
            for worker in list(state.workers):
                if worker.process.sentinel in ready:
                    self._lost(worker)
            self._kill_slow_starters()

    def _assign(self) -> list[tuple[_Worker, _Job]]:
        """Give queued pages to idle workers, and start workers for pages left waiting
        (called with the lock held); the pages to send."""
        state = self._state
        idle = [w for w in state.workers if w.ready and w.job is None and not w.killed]
        handed = []
        while state.queue and idle:
            worker, job = idle.pop(), state.queue.popleft()
            worker.job = job
            handed.append((worker, job))
        starting = sum(1 for w in state.workers if not w.ready)
        while len(state.queue) > starting and len(state.workers) < self._capacity:
            state.workers.append(self._start_worker())
            starting += 1
        return handed

    def _send(self, worker: _Worker, job: _Job) -> None:
        """Send a page to its worker, outside the lock: a large page takes a moment, and
        stops, submissions and answers must not wait for it."""
        try:
            worker.connection.send(job.task)
        except (OSError, ValueError):
            # The worker died (while idle, or killed by a stop just now): the page was
            # not started, so it goes back to the head of the queue, unless it was stopped.
            with self._lock:
                worker.job = None
                self._kill(worker)
                if job.stopped is not None:
                    _fail(job, WorkerLost(None, job.stopped))
                elif not job.future.done():
                    self._state.queue.appendleft(job)
            return
        except Exception as error:  # the page cannot be pickled
            with self._lock:
                worker.job = None
            _settle(job.future, error=UsageError(f"the page cannot be sent to a worker process ({error})"))
            return
        job.started(job.future)  # its time limit runs from here

    def _kill_slow_starters(self) -> None:
        now = time.monotonic()
        with self._lock:
            for worker in self._state.workers:
                if not worker.ready and not worker.killed and now - worker.started > START_SECONDS:
                    worker.too_slow = True
                    self._kill(worker)

    def _break(self, error: BaseException) -> None:
        """The dispatcher failed: fail every page, now and later, with a clear error."""
        broken = PdfocrError(f"internal error: the worker dispatcher failed: {type(error).__name__}: {error}")
        broken.detail = "".join(traceback.format_exception(error))
        with self._lock:
            self._state.broken = broken
            self._state.closing = True
            jobs = list(self._state.queue) + [w.job for w in self._state.workers if w.job is not None]
            self._state.queue.clear()
            for worker in self._state.workers:
                worker.job = None
                self._kill(worker)
        for job in jobs:
            _settle(job.future, error=broken)

    def _start_worker(self) -> _Worker:
        assert self._folder is not None
        ours, theirs = self._context.Pipe()
        folder = tempfile.mkdtemp(prefix="worker-", dir=self._folder)
        process = self._context.Process(
            target=serve, args=(theirs, folder), name="pdfocr-worker", daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, ours, folder)

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):
            return  # it died: its sentinel says so too
        except Exception as error:  # an answer this process cannot unpickle
            message = PdfocrError(f"internal error: a worker's answer cannot be read ({error})")
        if message == READY:
            with self._lock:
                worker.ready = True
                self._state.failed_starts = 0
            return
        with self._lock:
            job, worker.job = worker.job, None
        if job is None:
            return
        if isinstance(message, PageOutcome):
            _settle(job.future, result=message)
        elif isinstance(message, PdfocrError):
            _settle(job.future, error=message)
        else:
            _settle(
                job.future, error=PdfocrError(f"internal error: a worker answered {type(message).__name__}")
            )

    def _lost(self, worker: _Worker) -> None:
        """A worker has ended: report its page, and fail the waiting pages if workers
        cannot even start."""
        worker.process.join()
        exit_code = worker.process.exitcode
        with self._lock:
            self._state.workers.remove(worker)
            if not self._state.closing and worker.ready:
                self.workers_replaced += 1
            job, worker.job = worker.job, None
            if job is not None:
                _fail(job, WorkerLost(exit_code, job.stopped))
            elif not worker.ready and (worker.too_slow or not worker.killed):
                self._state.failed_starts += 1
                if self._state.failed_starts >= MAX_FAILED_STARTS:
                    while self._state.queue:
                        _fail(self._state.queue.popleft(), WorkerLost(exit_code, before_start=True))
        worker.connection.close()
        shutil.rmtree(worker.folder, ignore_errors=True)

    def _kill(self, worker: _Worker) -> None:
        """Kill a worker now, with its engine's own processes (called with the lock held)."""
        worker.killed = True
        pid = worker.process.pid
        if pid is not None:
            kill_descendants(pid)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def _stop_workers(self) -> None:
        """Tell every worker to exit, killing those that do not within the grace time."""
        workers = list(self._state.workers)
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.connection.send(None)
        deadline = time.monotonic() + EXIT_GRACE_SECONDS
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                self._kill(worker)
                worker.process.join()
            worker.connection.close()
        self._state.workers.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _settle(
    future: Future[PageOutcome], *, result: PageOutcome | None = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)


def _fail(job: _Job, error: WorkerLost) -> None:
    _settle(job.future, error=error)


def check_main_script() -> None:
    """Refuse, in one clear line, the main scripts worker processes cannot start from.

    Worker processes import the main script again (multiprocessing's rules for a fork
    server). A script read from stdin cannot be imported; a script that converts at its
    top level, outside ``if __name__ == "__main__":``, would convert again in every
    worker, and every worker would die."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or getattr(main, "__spec__", None) is not None or path is None:
        return  # python -m, an interactive session or a notebook: nothing is re-imported
    if not os.path.exists(path):
        raise UsageError(
            f"worker processes cannot start from the main script {path!r} "
            "(a script read from stdin?); save it to a file and run that"
        )
    line = _unguarded_top_level_call(main.__dict__, path)
    if line is not None:
        raise UsageError(
            f"{path}, line {line}: pdfocr is called at the top level of the main script, which every "
            'worker process imports again; put the call under if __name__ == "__main__":',
            file=None,
        )


def _unguarded_top_level_call(main_globals: dict[str, object], path: str) -> int | None:
    """The line of the main script's top level from which pdfocr was called, if that
    line is not inside an ``if __name__ == "__main__":`` block; otherwise None."""
    frame: FrameType | None = sys._getframe()
    while frame is not None and not (frame.f_globals is main_globals and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for statement in tree.body:
        end = statement.end_lineno or statement.lineno
        if statement.lineno <= line <= end:
            return None if _is_main_guard(statement) else line
    return None


def _is_main_guard(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.If) or not isinstance(statement.test, ast.Compare):
        return False
    names = [statement.test.left, *statement.test.comparators]
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and any(
        isinstance(n, ast.Constant) and n.value == "__main__" for n in names
    )

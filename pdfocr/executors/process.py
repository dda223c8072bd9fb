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

import collections
import contextlib
import os
import threading
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

from ..errors import PdfocrError, UsageError
from ..page import PageOutcome, PageTask
from ..worker import READY
from . import Started, StopReason, WorkerLost
from .main_script import check_main_script
from .process_pool import Job, Worker, WorkerPool

if TYPE_CHECKING:
    from ..engines import OcrEngine

__all__ = ["ProcessExecutor", "check_main_script"]


@dataclass
class _State:
    queue: collections.deque[Job] = field(default_factory=collections.deque)
    closing: bool = False
    broken: PdfocrError | None = None
    """Why the dispatcher failed; every page submitted since fails with it."""


class _Wakeup:
    """The pipe that wakes the dispatcher from its wait when a page is queued or the
    executor closes: the one thing it waits on besides the workers."""

    def __init__(self) -> None:
        self.fd, self._write = os.pipe()
        self._open = True
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            if self._open:  # never write to a closed (perhaps reused) descriptor
                os.write(self._write, b"!")

    def drain(self) -> None:
        os.read(self.fd, 4096)

    def close(self) -> None:
        with self._lock:
            if self._open:
                self._open = False
                os.close(self._write)
                os.close(self.fd)


class ProcessExecutor:
    """Up to ``capacity`` worker processes (:class:`~.process_pool.WorkerPool`), and the
    one dispatcher thread that hands them pages and reads their answers."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._state = _State()
        self._pool = WorkerPool()
        self._dispatcher: threading.Thread | None = None
        self._wakeup = _Wakeup()
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
                self._pool.make_folder()
                self._dispatcher = threading.Thread(
                    target=self._dispatch, name="pdfocr-dispatch", daemon=True
                )
                self._dispatcher.start()
            self._state.queue.append(Job(task, future, started))
        self._wakeup.wake()
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
            worker = self._pool.holding(future)
            if worker is not None and worker.job is not None:
                worker.job.stopped = reason
                worker.kill()

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            self._state.closing = True
            if kill:
                while self._state.queue:
                    _fail(self._state.queue.popleft(), WorkerLost(None, StopReason.CLOSED))
                for worker in self._pool.workers:
                    if worker.job is not None:
                        worker.job.stopped = StopReason.CLOSED
                    worker.kill()
            dispatcher = self._dispatcher
        self._wakeup.wake()
        if dispatcher is not None and dispatcher is not threading.current_thread():
            dispatcher.join()
        with self._lock:
            self._wakeup.close()
            if dispatcher is None:
                self._pool.remove_folder()

    # -- the dispatcher thread -------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            self._serve()
        except BaseException as error:  # a bug here would leave every page waiting forever
            self._break(error)
        self._pool.stop_all()

    def _serve(self) -> None:
        state, pool = self._state, self._pool
        while True:
            with self._lock:
                handed = self._assign()
                if state.closing and not state.queue and all(w.job is None for w in pool.workers):
                    return
            for worker, job in handed:
                self._send(worker, job)
            with self._lock:
                waitables = [self._wakeup.fd, *pool.waitables()]
                deadline = pool.start_deadline()
            timeout = max(0.0, deadline - time.monotonic()) if deadline is not None else None
            ready = set(wait(waitables, timeout))  # type: ignore[arg-type]
            if self._wakeup.fd in ready:
                self._wakeup.drain()
            for worker in list(pool.workers):
                if worker.connection in ready:
                    self._receive(worker)
            for worker in list(pool.workers):
                if worker.process.sentinel in ready:
                    self._lost(worker)
            with self._lock:
                pool.kill_slow_starters()

    def _assign(self) -> list[tuple[Worker, Job]]:
        """Give queued pages to idle workers, and start workers for pages left waiting
        (called with the lock held); the pages to send."""
        state = self._state
        idle = self._pool.idle()
        handed = []
        while state.queue and idle:
            worker, job = idle.pop(), state.queue.popleft()
            worker.job = job
            handed.append((worker, job))
        starting = self._pool.starting()
        while len(state.queue) > starting and len(self._pool.workers) < self._capacity:
            self._pool.start()
            starting += 1
        return handed

    def _send(self, worker: Worker, job: Job) -> None:
        """Send a page to its worker, outside the lock: a large page takes a moment, and
        stops, submissions and answers must not wait for it."""
        try:
            worker.connection.send(job.task)
        except (OSError, ValueError):
            # The worker died (while idle, or killed by a stop just now): the page was
            # not started, so it goes back to the head of the queue, unless it was stopped.
            with self._lock:
                worker.job = None
                worker.kill()
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

    def _break(self, error: BaseException) -> None:
        """The dispatcher failed: fail every page, now and later, with a clear error."""
        broken = PdfocrError(f"internal error: the worker dispatcher failed: {type(error).__name__}: {error}")
        broken.detail = "".join(traceback.format_exception(error))
        with self._lock:
            self._state.broken = broken
            self._state.closing = True
            jobs = list(self._state.queue) + [w.job for w in self._pool.workers if w.job is not None]
            self._state.queue.clear()
            for worker in self._pool.workers:
                worker.job = None
                worker.kill()
        for job in jobs:
            _settle(job.future, error=broken)

    def _receive(self, worker: Worker) -> None:
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):
            return  # it died: its sentinel says so too
        except Exception as error:  # an answer this process cannot unpickle
            message = PdfocrError(f"internal error: a worker's answer cannot be read ({error})")
        if message == READY:
            with self._lock:
                self._pool.ready(worker)
            return
        with self._lock:
            job, worker.job = worker.job, None
        if job is not None:
            _answer(job.future, message)

    def _lost(self, worker: Worker) -> None:
        """A worker has ended: report its page, and fail the waiting pages if workers
        cannot even start."""
        worker.process.join()
        exit_code = worker.process.exitcode
        with self._lock:
            cannot_start = self._pool.remove(worker)
            if not self._state.closing and worker.ready:
                self.workers_replaced += 1
            job, worker.job = worker.job, None
            if job is not None:
                _fail(job, WorkerLost(exit_code, job.stopped))
            elif cannot_start:  # (a worker with a page was ready: it did start)
                while self._state.queue:
                    _fail(self._state.queue.popleft(), WorkerLost(exit_code, before_start=True))
        self._pool.discard(worker)


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


def _answer(future: Future[PageOutcome], message: object) -> None:
    """What a worker answered for a page: its outcome or its error."""
    if isinstance(message, PageOutcome):
        _settle(future, result=message)
    elif isinstance(message, PdfocrError):
        _settle(future, error=message)
    else:
        _settle(future, error=PdfocrError(f"internal error: a worker answered {type(message).__name__}"))


def _fail(job: Job, error: WorkerLost) -> None:
    _settle(job.future, error=error)

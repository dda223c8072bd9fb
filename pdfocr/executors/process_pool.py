"""The worker processes of a :class:`~.process.ProcessExecutor`, from start to end.

Each worker is started from a fork server with a pipe and a scratch folder of its own
(inside one folder for all of the executor's workers), is killed with its engine's own
processes when it must go at once, and is reaped once it has ended; at the end every
worker is told to exit, and killed if it does not. Which page each worker holds, and what
a worker's end means for its page, are the executor's: the pool only keeps the processes.
Nothing here takes a lock: the executor calls it with its own lock held, as each method
says.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from ..errors import OutputError, os_reason
from ..page import PageOutcome, PageTask
from ..worker import kill_descendants, serve
from . import Started, StopReason

# How long workers told to exit may take before they are killed.
EXIT_GRACE_SECONDS = 3.0
# Workers in a row that may die before they are ready before workers count as unable to start.
MAX_FAILED_STARTS = 3
# A worker not ready this long after it was started counts as one that failed to start
# (it imports pdfocr and its engine's Python modules; the engine itself loads later).
START_SECONDS = 120.0


@dataclass(eq=False)
class Job:
    """A page given to the executor: waiting in its queue, or held by a worker."""

    task: PageTask
    future: Future[PageOutcome]
    started: Started
    stopped: StopReason | None = None


@dataclass(eq=False)
class Worker:
    """One worker process: its pipe, its scratch folder and the page it holds."""

    process: BaseProcess
    connection: Connection
    folder: str
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    job: Job | None = None
    killed: bool = False
    """Killed by the executor on purpose (a stop, a close), not dead on its own."""
    too_slow: bool = False
    """Killed for not being ready within START_SECONDS: a failed start."""

    def kill(self) -> None:
        """Kill it now, with its engine's own processes."""
        self.killed = True
        pid = self.process.pid
        if pid is not None:
            kill_descendants(pid)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


class WorkerPool:
    """The executor's worker processes, started from a fork server: the caller may have
    threads (asyncio, web servers), and a plain fork of a threaded process inherits locks
    held by threads that do not exist in the child."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._folder: str | None = None
        self.workers: list[Worker] = []
        """Every worker not yet reaped, ready or not."""
        self._failed_starts = 0

    def make_folder(self) -> None:
        """Make the folder the workers' scratch folders go in (before the first starts)."""
        try:
            self._folder = tempfile.mkdtemp(prefix="pdfocr-workers-")
        except OSError as error:
            raise OutputError(
                f"cannot make a folder for worker processes in {tempfile.gettempdir()}: {os_reason(error)}"
            ) from None

    def start(self) -> None:
        """Start one more worker (with the lock held): it says when it is ready."""
        assert self._folder is not None
        ours, theirs = self._context.Pipe()
        folder = tempfile.mkdtemp(prefix="worker-", dir=self._folder)
        process = self._context.Process(
            target=serve, args=(theirs, folder), name="pdfocr-worker", daemon=True
        )
        process.start()
        theirs.close()
        self.workers.append(Worker(process, ours, folder))

    def ready(self, worker: Worker) -> None:
        """``worker`` said it is ready (with the lock held)."""
        worker.ready = True
        self._failed_starts = 0

    def holding(self, future: Future[PageOutcome]) -> Worker | None:
        """The worker holding the page behind ``future`` (with the lock held)."""
        return next((w for w in self.workers if w.job is not None and w.job.future is future), None)

    def idle(self) -> list[Worker]:
        """The workers ready for a page (with the lock held)."""
        return [w for w in self.workers if w.ready and w.job is None and not w.killed]

    def starting(self) -> int:
        """Workers started and not ready yet (with the lock held)."""
        return sum(1 for w in self.workers if not w.ready)

    def waitables(self) -> list[object]:
        """What to wait on for word from the workers (with the lock held): their pipes,
        and their sentinels for their ends."""
        waitables: list[object] = []
        for worker in self.workers:
            waitables += [worker.connection, worker.process.sentinel]
        return waitables

    def start_deadline(self) -> float | None:
        """When the first of the workers still starting is too slow (with the lock held);
        None when none is starting."""
        starting = [w.started + START_SECONDS for w in self.workers if not w.ready]
        return min(starting) if starting else None

    def kill_slow_starters(self) -> None:
        """Kill the workers not ready within START_SECONDS (with the lock held)."""
        now = time.monotonic()
        for worker in self.workers:
            if not worker.ready and not worker.killed and now - worker.started > START_SECONDS:
                worker.too_slow = True
                worker.kill()

    def remove(self, worker: Worker) -> bool:
        """Take an ended worker off the list (with the lock held); whether workers cannot
        start: it was the MAX_FAILED_STARTS-th in a row to die (or be too slow) before it
        was ready."""
        self.workers.remove(worker)
        if worker.ready or (worker.killed and not worker.too_slow):
            return False
        self._failed_starts += 1
        return self._failed_starts >= MAX_FAILED_STARTS

    def discard(self, worker: Worker) -> None:
        """Let go of an ended worker's pipe and scratch folder (once it is off the list)."""
        worker.connection.close()
        shutil.rmtree(worker.folder, ignore_errors=True)

    def stop_all(self) -> None:
        """Tell every worker to exit, killing those that do not within the grace time
        (at the end, when no page is left)."""
        workers = list(self.workers)
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.connection.send(None)
        deadline = time.monotonic() + EXIT_GRACE_SECONDS
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.kill()
                worker.process.join()
            worker.connection.close()
        self.workers.clear()
        self.remove_folder()

    def remove_folder(self) -> None:
        """Remove the workers' folder, if it was made."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

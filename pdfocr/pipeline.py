"""The pipeline: pages scheduled over worker processes, results kept in page order.

Each page is one task (:mod:`pdfocr.page` says what a worker does with it) for a pool of
worker processes. At most one page per worker is in flight;
the calling thread reports each finished page. A run's own pool (``run_pages``) stops
every worker at the first error, on Ctrl-C or when the caller cancels; a shared pool
(``WorkerPool``, behind ``pdfocr.Converter``) drops only that run's waiting pages.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import FrameType

from .errors import EngineError, Interrupted, UsageError
from .inputs import allow_large_images
from .page import PageOutcome, PageTask, process_page

# How often the calling thread looks at the cancel flag while pages are running.
POLL_SECONDS = 0.1


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # End the engine's own child processes (the tesseract command), then this worker at
    # once: raising SystemExit would be caught by the pool's worker loop, which would
    # carry on waiting for work.
    for children in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            for child in children.read_text().split():
                os.kill(int(child), signal.SIGKILL)
    os._exit(128 + signum)


def _init_worker() -> None:
    # Ctrl-C reaches the whole process group; only the parent decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Nobody reads a worker's stderr: Pillow's warnings (large or odd images) would only
    # garble the caller's terminal. Real problems are raised as errors.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    allow_large_images()


class WorkerPool:
    """Worker processes that run pages, shared by any number of runs at once.

    At most ``workers`` pages are in flight (handed to the workers and not finished)
    across all runs, so memory stays bounded however many conversions share the pool.
    Workers start with the first page and stay warm (engine loaded) until :meth:`close`.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight = 0
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Pages handed to the workers and not finished yet (at most ``workers``)."""
        return self._in_flight

    def _finished(self, future: Future[PageOutcome]) -> None:
        self._release()

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
        self._slots.release()

    def _live_executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise Interrupted("the converter was closed")
            if self._executor is None or getattr(self._executor, "_broken", False):
                # forkserver, not fork: the caller may have threads (asyncio, web servers),
                # and a fork of a threaded process inherits locks held by vanished threads.
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_init_worker,
                )
            return self._executor

    def run(
        self,
        tasks: Sequence[PageTask],
        on_page: Callable[[PageOutcome], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[PageOutcome]:
        """Run every task; the outcomes in task order. ``on_page`` is called in this
        thread as each page finishes. Setting ``cancel`` stops with :class:`Interrupted`.
        On any error, this run's waiting pages are dropped; its running pages finish
        in the background (use :meth:`close` with ``kill`` to stop them)."""
        if not tasks:
            return []
        _check_main_script()
        outcomes: list[PageOutcome | None] = [None] * len(tasks)
        pending: dict[Future[PageOutcome], PageTask] = {}
        queued = list(reversed(tasks))
        try:
            while queued or pending:
                if cancel is not None and cancel.is_set():
                    raise Interrupted("conversion cancelled")
                if self._closed:
                    raise Interrupted("the converter was closed")
                self._submit_while_free(queued, pending, wait_for_one=not pending)
                if not pending:
                    continue
                done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    if self._closed:  # its workers were ended on purpose, not by a crash
                        raise Interrupted("the converter was closed")
                    outcome = _outcome(future, pending.pop(future))
                    outcomes[outcome.index] = outcome
                    if on_page is not None:
                        on_page(outcome)
        finally:
            for future in pending:
                future.cancel()
        return [outcome for outcome in outcomes if outcome is not None]

    def _submit_while_free(
        self, queued: list[PageTask], pending: dict[Future[PageOutcome], PageTask], wait_for_one: bool
    ) -> None:
        while queued and self._slots.acquire(timeout=POLL_SECONDS if wait_for_one else 0):
            with self._lock:
                self._in_flight += 1
            handed_over = False
            try:
                task = queued[-1]
                future = self._live_executor().submit(process_page, task)
                future.add_done_callback(self._finished)
                handed_over = True
                pending[future] = queued.pop()
            finally:
                if not handed_over:  # give the slot back, whatever interrupted us
                    self._release()
            wait_for_one = False

    def close(self, kill: bool = False) -> None:
        """Stop the workers: after their running pages, or at once with ``kill``."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is None:
            return
        if kill:
            _stop_workers(executor)
        else:
            executor.shutdown(wait=True, cancel_futures=True)


def run_pages(
    tasks: Sequence[PageTask],
    workers: int,
    on_page: Callable[[PageOutcome], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[PageOutcome]:
    """Run every task on a pool of its own with up to ``workers`` processes, stopped at
    once on any error, Ctrl-C or cancellation; the outcomes in task order."""
    pool = WorkerPool(min(workers, len(tasks)) or 1)
    try:
        outcomes = pool.run(tasks, on_page, cancel)
    except BaseException:
        pool.close(kill=True)
        raise
    pool.close()
    return outcomes


def _outcome(future: Future[PageOutcome], task: PageTask) -> PageOutcome:
    try:
        return future.result()
    except CancelledError:
        raise Interrupted("the converter was closed") from None
    except BrokenProcessPool:
        raise EngineError(
            "a worker process died while converting this page",
            file=task.source.label,
            page=task.source.page_number,
        ) from None


def _check_main_script() -> None:
    # Worker processes import the main script again (multiprocessing's spawn rules); one
    # read from stdin cannot be, and every worker would die without saying why.
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is None and path is not None and not os.path.exists(path):
        raise UsageError(
            f"worker processes cannot start from the main script {path!r} "
            "(a script read from stdin?); save it to a file and run that"
        )


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """End every worker now, including one in the middle of a page."""
    # ProcessPoolExecutor has no public way to end busy workers before Python 3.14
    # (terminate_workers); shutdown() alone would wait for the running pages.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

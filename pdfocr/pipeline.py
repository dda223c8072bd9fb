"""The pipeline: pages scheduled over worker processes, results kept in page order.

Each page is one task for a pool of worker processes (:mod:`pdfocr.page` says what a
worker does with a page, :mod:`pdfocr.worker` how a worker process lives). At most one
page per worker is in flight; the calling thread reports each finished page. A run's own
pool (``run_pages``) stops every worker at the first error, on Ctrl-C or when the caller
cancels; a shared pool (``WorkerPool``, behind ``pdfocr.Converter``) drops only that run's
waiting pages.

Faults are pinned on the page that caused them. A worker marks the page it is working on
with a file in the run's folder (holding its process id) and removes the mark when the
page is done, or when it is told to stop. When a worker dies, the process pool breaks and
every page in flight, in every run, fails with it; the pool then waits for its workers to
end, and a page whose mark is left was being worked on by a worker that died on its own:
that page is at fault. The others were only stopped alongside it and are run again. A page
past its time limit has its worker killed, and is reported as timed out.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EngineError, InputError, Interrupted, UsageError
from .page import PageOutcome, PageTask, SkippedPage
from .worker import init_worker, kill_descendants, run_page, running_mark

# How often the calling thread looks at the cancel flag and the page timers.
POLL_SECONDS = 0.1
# How long workers stopped alongside a dead one may take to end before they are killed.
SETTLE_SECONDS = 3.0
# Times a page is run again after being stopped alongside a worker that died.
MAX_RETRIES = 2


@dataclass
class _Breakdown:
    """How the workers of a broken executor ended."""

    exit_codes: dict[int, int | None] = field(default_factory=dict)
    killed: set[int] = field(default_factory=set)
    """Workers that did not end when told to, and were killed."""
    blamed: bool = False
    """Whether a page was at fault (its worker died on it, or it ran out of time)."""


@dataclass(frozen=True)
class _Attempt:
    task: PageTask
    executor: ProcessPoolExecutor


@dataclass(frozen=True)
class _Orphan:
    """A page still running after its run ended."""

    executor: ProcessPoolExecutor
    pid: int
    deadline: float


_RETRY = object()
# A retry that does not count towards MAX_RETRIES: another page was at fault.
_RETRY_FREE = object()


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
        # The workers of each executor (the executor forgets them when shut down), and
        # how they ended once it broke.
        self._processes: weakref.WeakKeyDictionary[ProcessPoolExecutor, dict[int, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._breakdowns: weakref.WeakKeyDictionary[ProcessPoolExecutor, _Breakdown] = (
            weakref.WeakKeyDictionary()
        )
        self._settle_lock = threading.Lock()
        self._orphans: dict[Future[PageOutcome], _Orphan] = {}
        # Every page handed to the workers and not yet dealt with by its run.
        self._attempts: dict[Future[PageOutcome], _Attempt] = {}
        self._watcher: threading.Thread | None = None
        self._closing: ProcessPoolExecutor | None = None
        self._timed_out: set[Path] = set()
        # Workers killed over a timeout, per executor: a worker that took up another page
        # just before the kill landed broke that page, which is not at fault.
        self._timeout_kills: weakref.WeakKeyDictionary[ProcessPoolExecutor, set[int]] = (
            weakref.WeakKeyDictionary()
        )

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
                    initializer=init_worker,
                )
                # The dict itself, filled as workers start (an empty dict is falsy: no "or").
                workers = getattr(self._executor, "_processes", None)
                self._processes[self._executor] = workers if workers is not None else {}
            return self._executor

    def run(
        self,
        tasks: Sequence[PageTask],
        on_page: Callable[[PageOutcome], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[PageOutcome | SkippedPage]:
        """Run every task; the outcomes in task order. ``on_page`` is called in this
        thread as each page finishes. Setting ``cancel`` stops with :class:`Interrupted`.
        A page that fails raises its error, or, when its options say ``skip_bad_pages``
        and the fault is the page's (bad input, the engine failing, crashing or timing
        out on it), comes back as a :class:`SkippedPage`. On an error, this run's waiting
        pages are dropped; its running pages finish in the background (use :meth:`close`
        with ``kill`` to stop them)."""
        if not tasks:
            return []
        _check_main_script()
        outcomes: list[PageOutcome | SkippedPage | None] = [None] * len(tasks)
        pending: dict[Future[PageOutcome], _Attempt] = {}
        retries: dict[int, int] = {}
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
                self._stop_overdue(pending)
                for future in done:
                    if self._closed:  # its workers were ended on purpose, not by a crash
                        raise Interrupted("the converter was closed")
                    attempt = pending.pop(future)
                    index = attempt.task.index
                    try:
                        outcome = self._outcome(future, attempt, retries.get(index, 0))
                    except (InputError, EngineError) as error:
                        if not attempt.task.options.skip_bad_pages:
                            raise
                        outcomes[index] = SkippedPage(error)
                        continue
                    finally:
                        with self._lock:
                            self._attempts.pop(future, None)
                    if outcome is _RETRY or outcome is _RETRY_FREE:
                        retries[index] = retries.get(index, 0) + (outcome is _RETRY)
                        queued.append(attempt.task)
                        continue
                    assert isinstance(outcome, PageOutcome)
                    self._timed_out.discard(running_mark(attempt.task))  # done after all
                    outcomes[index] = outcome
                    if on_page is not None:
                        on_page(outcome)
        finally:
            for future, attempt in pending.items():
                if not future.cancel():  # running: it finishes on its own, or times out
                    self._adopt(future, attempt)
                with self._lock:
                    self._attempts.pop(future, None)
        return [outcome for outcome in outcomes if outcome is not None]

    def _adopt(self, future: Future[PageOutcome], attempt: _Attempt) -> None:
        """Keep the time limit of a page whose run has ended (cancelled, or failed on
        another page) while the page still runs: nobody else watches it any more, and
        a stuck page would hold its worker, and :meth:`close`, forever."""
        timeout = attempt.task.options.page_timeout
        mark = running_mark(attempt.task)
        if timeout is None:
            return
        try:  # read now: the run's folder, with the mark in it, is about to go
            started, pid = mark.stat().st_mtime, int(mark.read_text())
        except (OSError, ValueError):
            return
        with self._lock:
            self._orphans[future] = _Orphan(attempt.executor, pid, started + timeout)
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(
                    target=self._watch_orphans, name="pdfocr-timeouts", daemon=True
                )
                self._watcher.start()
        future.add_done_callback(self._orphan_done)

    def _orphan_done(self, future: Future[PageOutcome]) -> None:
        with self._lock:
            self._orphans.pop(future, None)

    def _watch_orphans(self) -> None:
        while True:
            with self._lock:
                orphans = list(self._orphans.values())
                if not orphans:
                    self._watcher = None
                    return
            for orphan in orphans:
                killed = self._timeout_kills.get(orphan.executor, set())
                if time.time() > orphan.deadline and orphan.pid not in killed:
                    self._kill_for_timeout(orphan.executor, orphan.pid)
            time.sleep(POLL_SECONDS)

    def _submit_while_free(
        self, queued: list[PageTask], pending: dict[Future[PageOutcome], _Attempt], wait_for_one: bool
    ) -> None:
        while queued and self._slots.acquire(timeout=POLL_SECONDS if wait_for_one else 0):
            with self._lock:
                self._in_flight += 1
            handed_over = False
            try:
                task = queued[-1]
                executor = self._live_executor()
                future = executor.submit(run_page, task)
                future.add_done_callback(self._finished)
                handed_over = True
                pending[future] = _Attempt(queued.pop(), executor)
                with self._lock:
                    self._attempts[future] = pending[future]
            finally:
                if not handed_over:  # give the slot back, whatever interrupted us
                    self._release()
            wait_for_one = False

    def _outcome(self, future: Future[PageOutcome], attempt: _Attempt, retries: int) -> object:
        """The page's outcome, or _RETRY when it was only stopped alongside a worker that
        died; raises the page's error."""
        task = attempt.task
        try:
            return future.result()
        except CancelledError:
            raise Interrupted("the converter was closed") from None
        except BrokenProcessPool:
            fault = self._fault(attempt)
            if fault is None and self._settle(attempt.executor).blamed:
                return _RETRY_FREE
            if fault is None and retries < MAX_RETRIES:
                return _RETRY
            message = fault or "worker processes kept dying while this page was being converted"
            raise EngineError(message, file=task.source.label, page=task.source.page_number) from None

    def _fault(self, attempt: _Attempt) -> str | None:
        """Why the page broke its worker, or None if it was only stopped alongside."""
        breakdown = self._settle(attempt.executor)
        mark = running_mark(attempt.task)
        try:
            pid = int(mark.read_text())
        except (OSError, ValueError):
            return None  # not started, or its worker was stopped on purpose
        mark.unlink(missing_ok=True)
        if mark in self._timed_out:
            self._timed_out.discard(mark)
            timeout = attempt.task.options.page_timeout
            return f"stopped after {timeout:g} s without a result (the page timeout)"
        if pid in breakdown.killed or pid in self._timeout_kills.get(attempt.executor, set()):
            return None
        return (
            f"the worker process converting this page died ({_how_it_ended(breakdown.exit_codes.get(pid))})"
        )

    def _settle(self, executor: ProcessPoolExecutor) -> _Breakdown:
        """Wait for the workers of a broken executor to end (killing any that do not),
        once per executor; how each ended."""
        with self._settle_lock:
            breakdown = self._breakdowns.get(executor)
            if breakdown is not None:
                return breakdown
            breakdown = _Breakdown()
            processes = list(self._processes.get(executor, {}).values())
            # The executor's own thread joins its workers: wait for it rather than join
            # them alongside it. Under forkserver, a worker's exit status is read from a
            # pipe, and only the first of two readers gets it (the other sees 255).
            manager = getattr(executor, "_executor_manager_thread", None)
            deadline = time.monotonic() + SETTLE_SECONDS
            if manager is not None:
                manager.join(timeout=SETTLE_SECONDS)
            else:
                for process in processes:
                    process.join(timeout=max(0.0, deadline - time.monotonic()))
            for process in processes:
                if process.is_alive():  # stuck in native code, deaf to SIGTERM
                    breakdown.killed.add(process.pid)
                    process.kill()
            if manager is not None:
                manager.join()
            for process in processes:
                process.join()
                breakdown.exit_codes[process.pid] = process.exitcode
            breakdown.blamed = self._someone_at_fault(executor, breakdown)
            self._breakdowns[executor] = breakdown
            return breakdown

    def _someone_at_fault(self, executor: ProcessPoolExecutor, breakdown: _Breakdown) -> bool:
        """Whether a page (of any run) broke ``executor``: one ran out of time, or one
        still carries its mark from a worker that died on its own."""
        if self._timeout_kills.get(executor):
            return True
        with self._lock:
            attempts = [attempt for attempt in self._attempts.values() if attempt.executor is executor]
        for attempt in attempts:
            try:
                pid = int(running_mark(attempt.task).read_text())
            except (OSError, ValueError):
                continue
            if pid not in breakdown.killed and breakdown.exit_codes.get(pid) not in (
                None,
                143,
                -signal.SIGTERM,
            ):
                return True
        return False

    def _stop_overdue(self, pending: dict[Future[PageOutcome], _Attempt]) -> None:
        """Kill the worker of every page running past its time limit."""
        now = time.time()
        for future, attempt in pending.items():
            timeout = attempt.task.options.page_timeout
            mark = running_mark(attempt.task)
            if timeout is None or future.done() or mark in self._timed_out:
                continue
            try:
                started = mark.stat().st_mtime
                pid = int(mark.read_text())
            except (OSError, ValueError):
                continue  # not started yet, or just finished
            if now - started > timeout:
                self._timed_out.add(mark)
                self._kill_for_timeout(attempt.executor, pid)

    def _kill_for_timeout(self, executor: ProcessPoolExecutor, pid: int) -> None:
        """Kill the worker ``pid`` over a page past its time limit, with the engine's own
        processes (the tesseract command); remembered, so that the page it breaks is
        reported as timed out and no other page is blamed."""
        self._timeout_kills.setdefault(executor, set()).add(pid)
        kill_descendants(pid)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)

    def close(self, kill: bool = False) -> None:
        """Stop the workers: after their running pages, or at once with ``kill``."""
        with self._lock:
            # A close() still waiting for running pages can be hurried by close(kill=True).
            executor = self._executor or self._closing
            self._executor, self._closing = None, executor
            self._closed = True
        if executor is None:
            return
        if kill:
            _stop_workers(executor, list(self._processes.get(executor, {}).values()))
        else:
            executor.shutdown(wait=True, cancel_futures=True)


def _how_it_ended(exit_code: int | None) -> str:
    if exit_code is None:
        return "how is unknown"
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        hint = ": out of memory?" if exit_code == -signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit status {exit_code}"


class _WorkerBudget:
    """How many worker processes the runs with pools of their own may have at once.

    Each such run starts its own workers; fifty of them started together by a service
    would start a hundred processes. The budget makes them take turns instead: memory
    stays bounded by the CPU count, not by the number of callers. (A run that asks for
    more workers than the budget has runs when it is alone.)"""

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._changed = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    @contextlib.contextmanager
    def take(self, wanted: int, cancel: threading.Event | None) -> Iterator[None]:
        """Up to ``wanted`` workers, in turn: first come, first served, so that a large
        run is not kept waiting by a stream of small ones."""
        share = min(wanted, self.total)
        turn = object()
        with self._changed:
            self._waiting.append(turn)
            try:
                while self._waiting[0] is not turn or self._free < share:
                    if cancel is not None and cancel.is_set():
                        raise Interrupted("conversion cancelled")
                    self._changed.wait(POLL_SECONDS)
            finally:
                self._waiting.remove(turn)
                self._changed.notify_all()
            self._free -= share
        try:
            yield
        finally:
            with self._changed:
                self._free += share
                self._changed.notify_all()


# Process-wide on purpose: it guards the machine's CPUs and memory, which all callers share.
_BUDGET = _WorkerBudget(os.cpu_count() or 1)


def run_pages(
    tasks: Sequence[PageTask],
    workers: int,
    on_page: Callable[[PageOutcome], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[PageOutcome | SkippedPage]:
    """Run every task on a pool of its own with up to ``workers`` processes, stopped at
    once on any error, Ctrl-C or cancellation; the outcomes in task order. Runs like this
    share a budget of one worker per CPU (they wait for their turn)."""
    count = min(workers, len(tasks)) or 1
    with _BUDGET.take(count, cancel):
        pool = WorkerPool(count)
        try:
            outcomes = pool.run(tasks, on_page, cancel)
        except BaseException:
            pool.close(kill=True)
            raise
        pool.close()
    return outcomes


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


def _stop_workers(executor: ProcessPoolExecutor, processes: list[Any]) -> None:
    """End every worker now, including one in the middle of a page."""
    # ProcessPoolExecutor has no public way to end busy workers before Python 3.14
    # (terminate_workers); shutdown() alone would wait for the running pages.
    for process in processes:
        if process.is_alive():
            process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    # A worker in the middle of a native call (Aspose holds the interpreter for its whole
    # recognition) only hears SIGTERM when the call returns: give it a moment, then kill.
    deadline = time.monotonic() + SETTLE_SECONDS
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()

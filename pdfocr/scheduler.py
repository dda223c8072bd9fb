"""The scheduler: the pages of any number of conversions over one executor.

It owns the parts of running pages that are about order and policy, not processes:
admission (:class:`~pdfocr.admission.Slots`: never more pages handed over than the
executor runs at once; concurrent conversions take turns), every time limit (one
:class:`~pdfocr.watchdog.Watchdog`), keeping a conversion's pages in order, retrying or
blaming a page whose worker went away (:func:`~pdfocr.faults.judge`), and stopping a
conversion's running pages when it fails or is cancelled. Where pages run is the
executor's business (:mod:`pdfocr.executors`).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TypeVar

from .admission import POLL_SECONDS, Slots
from .errors import ClusterError, EngineError, InputError, Interrupted, PdfocrError
from .executors import PageExecutor, StopReason, WorkerLost
from .faults import Blame, Fatal, Retry, Stop, judge
from .page import PageOutcome, PageTask, SkippedPage
from .watchdog import Watchdog

T = TypeVar("T")


class Scheduler:
    """Runs conversions' pages on ``executor``, at most ``slots`` at once (default: the
    executor's capacity). Thread-safe: each conversion calls :meth:`run` in a thread of
    its own."""

    def __init__(self, executor: PageExecutor, slots: int | None = None) -> None:
        self.executor = executor
        self._most = slots
        self.slots = Slots(min(slots or executor.capacity, executor.capacity))
        self.watchdog = Watchdog()
        self._runs = 0
        self._changed = threading.Condition()
        self._closing = False
        self._killed = False

    @property
    def in_flight(self) -> int:
        """Pages handed to the executor and not finished, across all runs."""
        return self.slots.in_flight

    def run(
        self,
        tasks: Sequence[PageTask],
        on_done: Callable[[PageOutcome], T],
        cancel: threading.Event | None = None,
    ) -> list[T | SkippedPage]:
        """Run every task; what ``on_done`` made of each finished page (called in this
        thread, as pages finish), in task order. A page that fails raises its error or,
        when its options say ``skip_bad_pages`` and the fault is the page's, comes back
        as a :class:`SkippedPage`. Setting ``cancel`` stops with :class:`Interrupted`.
        However the run ends early, its running pages are stopped."""
        with self._changed:
            if self._closing:
                raise Interrupted("the converter was closed")
            self._runs += 1
        try:
            return self._run(tasks, on_done, cancel)
        finally:
            with self._changed:
                self._runs -= 1
                self._changed.notify_all()

    def _run(
        self, tasks: Sequence[PageTask], on_done: Callable[[PageOutcome], T], cancel: threading.Event | None
    ) -> list[T | SkippedPage]:
        outcomes: list[T | SkippedPage | None] = [None] * len(tasks)
        queued = collections.deque(tasks)
        pending: dict[Future[PageOutcome], PageTask] = {}
        retries: collections.Counter[int] = collections.Counter()
        try:
            while queued or pending:
                if cancel is not None and cancel.is_set():
                    raise Interrupted("conversion cancelled")
                if self._killed:
                    raise Interrupted("the converter was closed")
                self._hand_over(queued, pending, wait=0 if pending else POLL_SECONDS)
                if not pending:
                    continue
                done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        outcome = self._outcome(future, task, retries)
                    except (InputError, EngineError) as error:
                        if not task.options.skip_bad_pages:
                            raise
                        outcomes[task.index] = SkippedPage(error)
                        continue
                    if outcome is None:  # to be tried again
                        queued.appendleft(task)
                    else:
                        outcomes[task.index] = on_done(outcome)
        finally:
            for future in pending:
                self.executor.stop(future, StopReason.CANCELLED)
        return [outcome for outcome in outcomes if outcome is not None]

    def _hand_over(
        self, queued: collections.deque[PageTask], pending: dict[Future[PageOutcome], PageTask], wait: float
    ) -> None:
        capacity = self.executor.capacity  # a cluster's changes as workers come and go
        self.slots.resize(max(1, min(self._most or capacity, capacity)))
        while queued:
            taken = handed = False
            try:  # the slot goes back exactly once, whatever interrupts this (Ctrl-C)
                taken = self.slots.take(wait)
                if not taken:
                    return
                task = queued[0]
                future = self.executor.submit(task, self._started_callback(task))
                future.add_done_callback(lambda _: self.slots.give_back())
                handed = True
            finally:
                if taken and not handed:
                    self.slots.give_back()
            queued.popleft()
            pending[future] = task
            wait = 0

    def _started_callback(self, task: PageTask) -> Callable[[Future[PageOutcome]], None]:
        timeout = task.options.page_timeout

        def started(future: Future[PageOutcome]) -> None:
            if timeout is not None:
                self.watchdog.arm(future, timeout, lambda: self.executor.stop(future, StopReason.TIMEOUT))

        return started

    def _outcome(
        self, future: Future[PageOutcome], task: PageTask, retries: collections.Counter[int]
    ) -> PageOutcome | None:
        """The page's outcome; None when it is to be tried again. Raises the page's error."""
        try:
            return future.result()
        except WorkerLost as lost:
            verdict = judge(lost, retries=retries[task.index], page_timeout=task.options.page_timeout)
        except ClusterError:  # not the page's: the run's
            raise
        except PdfocrError as error:  # the page's own error: it names the page
            raise error.locate(task.source.label, task.source.page_number) from None
        if isinstance(verdict, Retry):
            retries[task.index] += 1
            return None
        if isinstance(verdict, Stop):
            closed = verdict.reason is StopReason.CLOSED
            raise Interrupted("the converter was closed" if closed else "conversion cancelled")
        if isinstance(verdict, Fatal):
            raise verdict.error
        assert isinstance(verdict, Blame)
        raise verdict.error.locate(task.source.label, task.source.page_number)

    def close(self, *, kill: bool = False) -> None:
        """No more runs; then wait for the runs under way to finish and release the
        executor, or with ``kill`` stop everything at once (runs under way raise
        :class:`Interrupted`)."""
        with self._changed:
            self._closing = True
            self._killed = self._killed or kill
            self._changed.notify_all()
            if not kill:
                self._changed.wait_for(lambda: self._runs == 0 or self._killed)
        self.executor.close(kill=self._killed)
        self.watchdog.close()

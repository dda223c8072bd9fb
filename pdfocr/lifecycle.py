"""A :class:`~pdfocr.api.Converter`'s bookkeeping, behind its public faces: the calls
under way (which closing waits for, and which a closed converter refuses), and the place
its pages run (an executor and its scheduler, made on first use, with workers taken from
the machine's budget)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .admission import WorkerBudget
from .engines import OcrEngine
from .errors import Interrupted, UsageError
from .executors import PageExecutor, ProcessExecutor
from .executors.process import check_main_script
from .options import ConvertOptions
from .page import PageOutcome, PageTask, SkippedPage
from .scheduler import Scheduler

T = TypeVar("T")


class CallsUnderWay:
    """The conversions under way, from the call on, which :meth:`close` waits for; per
    thread, whether that thread is inside one (closing there would wait for itself); and
    the threads the async faces run their calls in."""

    def __init__(self) -> None:
        self.closed = False
        self.killed = False
        self._active = 0
        self._idle = threading.Condition()
        self._inside = threading.local()
        # Coordination threads mostly wait for pages; they cost little and let every
        # conversion make progress while others wait for workers.
        self._threads = ThreadPoolExecutor(max_workers=64, thread_name_prefix="pdfocr")

    def check_open(self) -> None:
        if self.closed:
            raise UsageError("this Converter is closed")

    @contextlib.contextmanager
    def one(self, *, inside: bool = False) -> Iterator[None]:
        """A conversion under way; ``inside``: in this thread."""
        with self._idle:
            self.check_open()
            self._active += 1
        depth = getattr(self._inside, "depth", 0)
        if inside:
            self._inside.depth = depth + 1
        try:
            yield
        finally:
            if inside:
                self._inside.depth = depth
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def close(self, *, kill: bool) -> None:
        """Refuse new calls, and wait for those under way (unless ``kill``: then they are
        being stopped, and nothing waits)."""
        with self._idle:
            self.closed = True
            self.killed = self.killed or kill
            self._idle.notify_all()
            if not self.killed:
                if getattr(self._inside, "depth", 0):
                    raise UsageError(
                        "close() inside one of this converter's conversions would wait for itself; "
                        "use close(kill=True) to stop them, or close once the call has returned"
                    )
                self._idle.wait_for(lambda: self._active == 0 or self.killed)

    def shut_down(self) -> None:
        self._threads.shutdown(wait=False)

    async def in_thread(self, work: Callable[[threading.Event], T]) -> T:
        """Run ``work`` in one of these threads; a cancelled caller sets its cancel event
        and still waits for it to clean up."""
        cancel = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(self._threads, work, cancel)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.set()
            # Wait for the thread to clean up, however often the caller is cancelled again
            # (asyncio.run's shutdown does): a thread left running could take workers
            # after its converter was closed.
            while not future.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(future)
            raise


class PagePlace:
    """Where a converter's pages run: the executor it was given, a cluster's (connected
    now, so that one that cannot be reached is said now), or this machine's worker
    processes, started on first use; one scheduler over it. Conversions see it as their
    :class:`~pdfocr.conversion.PageRunner`."""

    def __init__(
        self,
        options: ConvertOptions,
        executor: PageExecutor | None,
        budget: WorkerBudget | None,
        killed: Callable[[], bool],
    ) -> None:
        if options.cluster is not None:
            if executor is not None:
                raise UsageError("a Converter runs its pages on a cluster or on an executor, not both")
            from .executors.cluster import DaskExecutor

            executor, budget = DaskExecutor(options.cluster, paths=options.cluster_paths), None
        self._workers = options.worker_count
        self._made_executor = options.cluster is not None
        """The executor is this place's own (a cluster's): it closes it, run or not."""
        self._executor = executor
        self._budget = budget
        self._killed = killed
        self._lease = contextlib.ExitStack()
        self._scheduler: Scheduler | None = None
        self._setup = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._executor.capacity if self._executor is not None else self._workers

    @property
    def in_flight(self) -> int:
        scheduler = self._scheduler
        return scheduler.in_flight if scheduler is not None else 0

    @property
    def workers_replaced(self) -> int:
        return int(getattr(self._executor, "workers_replaced", 0))

    def check_caller(self) -> None:
        if self._executor is None:
            check_main_script()  # the default executor, not made yet
        else:
            self._executor.prepare()

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        if self._executor is None:  # this machine's workers, not made yet
            engine.check(languages)
        else:
            self._executor.check_engine(engine, languages)

    def run(
        self, tasks: Sequence[PageTask], on_done: Callable[[PageOutcome], T], cancel: threading.Event | None
    ) -> list[T | SkippedPage]:
        return self._scheduler_for(len(tasks), cancel).run(tasks, on_done, cancel)

    def _scheduler_for(self, pages: int, cancel: threading.Event | None) -> Scheduler:
        """The scheduler, made on first use: a converter for one call first takes its
        workers (as many as it has pages, at most ``jobs``) from the machine's budget."""
        with self._setup:  # close() releases the lease under this lock too: never one left behind
            if self._killed():
                raise Interrupted("the converter was closed")
            if self._scheduler is None:
                executor = self._executor
                if executor is None:
                    workers = self._workers
                    if self._budget is not None:
                        share = self._budget.take(min(workers, pages), cancel, self._killed)
                        workers = self._lease.enter_context(share)
                    executor = self._executor = ProcessExecutor(workers)
                self._scheduler = Scheduler(executor)
            return self._scheduler

    def close(self, *, kill: bool) -> None:
        """Stop the workers (``kill``: at once, their pages unfinished)."""
        with self._setup:
            scheduler = self._scheduler
        if scheduler is not None:
            scheduler.close(kill=kill)  # and its executor
        elif self._made_executor and self._executor is not None:
            self._executor.close(kill=kill)
        with self._setup:  # a conversion making its scheduler has done so by now
            self._lease.close()

"""Pages run in threads of the calling process: no process start-up, nothing to pickle,
so scheduling tests run in milliseconds. Not for production: an engine that crashes
takes the caller down with it, and a running page cannot be killed (``stop`` ends its
future at once, and its thread finishes in the background, its result thrown away)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from ..errors import PdfocrError
from ..page import PageOutcome, PageTask, process_page
from . import Started, StopReason, WorkerLost

if TYPE_CHECKING:
    from ..engines import OcrEngine


class InlineExecutor:
    """Runs each page in one of ``capacity`` threads of this process."""

    def __init__(self, capacity: int = 1) -> None:
        self._capacity = capacity
        self._threads = ThreadPoolExecutor(max_workers=capacity, thread_name_prefix="pdfocr-inline")
        self._lock = threading.RLock()  # futures' callbacks run under it, and take it again
        self._futures: set[Future[PageOutcome]] = set()
        self._closed = False

    @property
    def capacity(self) -> int:
        return self._capacity

    def submit(self, task: PageTask, started: Started) -> Future[PageOutcome]:
        future: Future[PageOutcome] = Future()
        with self._lock:
            if self._closed:
                future.set_exception(WorkerLost(None, StopReason.CLOSED))
                return future
            self._futures.add(future)
        future.add_done_callback(self._forget)

        def run() -> None:
            if future.done():  # stopped before it started
                return
            started(future)
            try:
                outcome = process_page(task)
            except PdfocrError as error:
                self._settle(future, error=error)
            except BaseException as error:  # a bug in the page's work: as a worker would report it
                self._settle(future, error=PdfocrError(f"internal error: {type(error).__name__}: {error}"))
            else:
                self._settle(future, outcome=outcome)

        self._threads.submit(run)
        return future

    def _settle(
        self,
        future: Future[PageOutcome],
        *,
        outcome: PageOutcome | None = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:  # stop() may have ended it already
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                assert outcome is not None
                future.set_result(outcome)

    def prepare(self) -> None:
        pass  # threads of this process start from anywhere

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        engine.check(languages)  # the workers are on this machine

    def stop(self, future: Future[PageOutcome], reason: StopReason) -> None:
        with self._lock:
            if future.done():
                return
            future.set_exception(WorkerLost(None, reason))

    def _forget(self, future: Future[PageOutcome]) -> None:
        with self._lock:
            self._futures.discard(future)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            self._closed = True
        if kill:
            with self._lock:
                unfinished = list(self._futures)
            for future in unfinished:
                self.stop(future, StopReason.CLOSED)
        self._threads.shutdown(wait=not kill)

"""The watchdog: every page's time limit, kept by one thread.

A page's time starts when a worker takes it up (the executor says when) and ends when its
future does; whoever submitted the page, and whether its conversion is still waiting for
it or has long failed or been cancelled, the limit holds until the page is over. When it
passes, the watchdog calls the page's ``expire`` action (the scheduler's: stop the page
with :attr:`~pdfocr.executors.StopReason.TIMEOUT`).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class Watchdog:
    """Deadlines for futures, and a thread that acts on those that pass."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._deadlines: list[tuple[float, int]] = []
        # Finished pages leave at once: only numbers stay in the heap, never a result.
        self._armed: dict[int, tuple[Future[Any], Callable[[], None]]] = {}
        self._numbers = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def armed(self) -> int:
        """Pages being watched right now."""
        with self._changed:
            return len(self._armed)

    def arm(self, future: Future[Any], seconds: float, expire: Callable[[], None]) -> None:
        """Call ``expire`` (in the watchdog's thread) if ``future`` is still not done
        ``seconds`` from now."""
        number = next(self._numbers)
        with self._changed:
            if self._closed:
                return
            self._armed[number] = (future, expire)
            heapq.heappush(self._deadlines, (time.monotonic() + seconds, number))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="pdfocr-watchdog", daemon=True)
                self._thread.start()
            self._changed.notify()
        future.add_done_callback(lambda _: self._disarm(number))

    def _disarm(self, number: int) -> None:
        with self._changed:
            self._armed.pop(number, None)

    def _watch(self) -> None:
        while True:
            with self._changed:
                while not self._closed and not self._due():
                    timeout = self._deadlines[0][0] - time.monotonic() if self._deadlines else None
                    self._changed.wait(timeout)
                if self._closed:
                    return
                _, number = heapq.heappop(self._deadlines)
                armed = self._armed.pop(number, None)
            if armed is not None and not armed[0].done():
                armed[1]()

    def _due(self) -> bool:
        return bool(self._deadlines) and self._deadlines[0][0] <= time.monotonic()

    def close(self) -> None:
        """Stop watching (the executor is being closed: its pages end anyway)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

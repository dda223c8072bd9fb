"""Admission: how much page work may run at once.

- :class:`Slots`: at most ``total`` pages in flight on one executor, whatever the number
  of conversions sharing it; conversions waiting for a slot take turns, first come,
  first served, so pages of concurrent conversions interleave.
- :class:`WorkerBudget`: the machine's CPUs, shared by converters made for one call
  (the module-level :func:`pdfocr.convert` and friends): fifty such calls at once take
  turns instead of starting a hundred worker processes.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator

from .errors import Interrupted
from .options import usable_cpus

POLL_SECONDS = 0.1
"""How often a waiting run looks at its cancel flag."""


class Slots:
    """Pages in flight, at most ``total``; waiting runs are served in turn."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._taken = 0
        self._changed = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    @property
    def in_flight(self) -> int:
        return self._taken

    @property
    def waiting(self) -> int:
        """Runs waiting in line for a slot."""
        with self._changed:
            return len(self._waiting)

    def take(self, wait: float) -> bool:
        """Take a slot, waiting up to ``wait`` seconds in line behind runs that asked
        before; False if none came."""
        turn = object()
        with self._changed:
            self._waiting.append(turn)
            try:
                free = self._changed.wait_for(
                    lambda: self._waiting[0] is turn and self._taken < self.total, timeout=wait
                )
                if free:
                    self._taken += 1
                return free
            finally:
                self._waiting.remove(turn)
                self._changed.notify_all()

    def give_back(self) -> None:
        with self._changed:
            self._taken -= 1
            self._changed.notify_all()

    def resize(self, total: int) -> None:
        """Now ``total`` slots (an executor whose workers come and go: a cluster's); pages
        in flight over a smaller total finish, and no more start until they have."""
        with self._changed:
            if total != self.total:
                self.total = total
                self._changed.notify_all()


class WorkerBudget:
    """How many worker processes converters made for a single call may have at once.

    A converter asking for more workers than the budget has runs when it is alone."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._changed = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    @property
    def free(self) -> int:
        """Workers not taken."""
        with self._changed:
            return self._free

    @property
    def waiting(self) -> int:
        """Converters waiting in line for workers."""
        with self._changed:
            return len(self._waiting)

    @contextlib.contextmanager
    def take(
        self, wanted: int, cancel: threading.Event | None, closed: Callable[[], bool] = lambda: False
    ) -> Iterator[int]:
        """Up to ``wanted`` workers (the number granted), in turn: first come, first
        served, so that a large run is not kept waiting by a stream of small ones. Waiting
        ends with :class:`Interrupted` when ``cancel`` is set or ``closed()`` says so."""
        share = min(wanted, self.total)
        turn = object()
        with self._changed:
            self._waiting.append(turn)
            try:
                while self._waiting[0] is not turn or self._free < share:
                    if cancel is not None and cancel.is_set():
                        raise Interrupted("conversion cancelled")
                    if closed():
                        raise Interrupted("the converter was closed")
                    self._changed.wait(POLL_SECONDS)
            finally:
                self._waiting.remove(turn)
                self._changed.notify_all()
            self._free -= share
        try:
            yield share
        finally:
            with self._changed:
                self._free += share
                self._changed.notify_all()


# Process-wide on purpose, and the only such state in pdfocr: it guards the machine's
# CPUs and memory, which every caller in the process shares.
MACHINE_BUDGET = WorkerBudget(usable_cpus())

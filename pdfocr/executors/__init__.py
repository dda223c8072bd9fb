"""Executors: where page work runs, behind one small interface.

The scheduler (:mod:`pdfocr.scheduler`) hands pages to an executor one at a time, never
more than its ``capacity`` at once, and gets each page's outcome back through a future.
Everything that crosses this seam is plain picklable data: a :class:`~pdfocr.page.PageTask`
carries its input as bytes or as a path the worker can read, and a
:class:`~pdfocr.page.PageOutcome` carries the page's one-page PDF as bytes. So an executor
may run a page in a thread (:class:`InlineExecutor`, for fast tests), in a worker process
(:class:`ProcessExecutor`, the default), or on another machine.

A page's future ends in one of three ways:

- its :class:`~pdfocr.page.PageOutcome`;
- the page's own error (a :class:`~pdfocr.errors.PdfocrError` raised by the page's work);
- :class:`WorkerLost`: whatever ran the page went away (it crashed, or was stopped with
  :meth:`PageExecutor.stop`). The executor reports what it saw; who is to blame is for
  :func:`pdfocr.faults.judge` to say.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol

from ..page import PageOutcome, PageTask

if TYPE_CHECKING:
    from ..engines import OcrEngine


class StopReason(enum.Enum):
    """Why a page's work was stopped on purpose."""

    TIMEOUT = "timeout"
    """It ran past its time limit."""
    CANCELLED = "cancelled"
    """Its conversion was cancelled, or failed on another page."""
    CLOSED = "closed"
    """The executor was closed at once (``close(kill=True)``)."""


class WorkerLost(Exception):
    """What ran a page went away before giving its outcome.

    Never reaches the user: the scheduler turns it into a retry or a page error."""

    def __init__(
        self,
        exit_code: int | None,
        stopped: StopReason | None = None,
        *,
        before_start: bool = False,
        times: int = 1,
    ) -> None:
        super().__init__(exit_code, stopped, before_start)
        self.exit_code = exit_code
        """How the worker ended: its exit status, minus the signal that killed it, or
        None when that is unknown."""
        self.stopped = stopped
        """Why it was stopped on purpose; None when it ended on its own."""
        self.before_start = before_start
        """The page never reached a worker: workers die before they are ready."""
        self.times = times
        """Workers the page was lost with (a cluster tries a page on several workers
        before it gives up on it)."""


Started = Callable[["Future[PageOutcome]"], None]
"""Called with the page's future (in any thread) when a worker takes the page up: its
time starts then."""


class PageExecutor(Protocol):
    """Runs pages. Thread-safe: any number of scheduler runs submit at once."""

    @property
    def capacity(self) -> int:
        """Pages it can run at once; the scheduler never hands it more."""
        ...

    def submit(self, task: PageTask, started: Started) -> Future[PageOutcome]:
        """Start ``task`` as soon as a worker is free; ``started`` is called when one
        takes it up."""
        ...

    def stop(self, future: Future[PageOutcome], reason: StopReason) -> None:
        """Stop the page behind ``future`` (killing its worker if it is running): the
        future ends with :class:`WorkerLost` carrying ``reason``. Nothing happens if it
        has already ended."""
        ...

    def prepare(self) -> None:
        """Called in the caller's own thread before each run: refuse at once, with a
        :class:`~pdfocr.errors.UsageError`, a caller from which workers cannot start."""
        ...

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        """Refuse, as the engine's ``check`` does, an engine or language that the workers
        lack (workers elsewhere: naming the worker)."""
        ...

    def close(self, *, kill: bool = False) -> None:
        """Release the workers: after the pages they are running, or at once with
        ``kill`` (those pages end with :class:`WorkerLost`, :attr:`StopReason.CLOSED`)."""
        ...


from .inline import InlineExecutor  # noqa: E402
from .process import ProcessExecutor  # noqa: E402

__all__ = ["InlineExecutor", "PageExecutor", "ProcessExecutor", "StopReason", "WorkerLost"]

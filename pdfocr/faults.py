"""Fault judging: who is to blame when a page's worker went away.

A pure function from what the executor observed (:class:`~pdfocr.executors.WorkerLost`)
and the page's history to a verdict, so that the policy can be read in one place and
tested without processes:

- a page past its time limit is blamed for it;
- a page whose conversion was cancelled, or whose executor was closed, is stopped;
- a worker that crashed on its own (a signal such as SIGSEGV, or an exit status) is
  pinned on the page it held: the engine will crash on it again;
- a worker killed from outside (SIGKILL we did not send: the kernel's out-of-memory
  killer, an operator) or lost without a word (an executor on other machines) may have
  been no fault of its page: the page is tried again, up to :data:`MAX_RETRIES` times;
  a cluster that reports a page lost with several of its workers has tried it again
  already: it is tried once more (it may have been lost beside the page that did it),
  then blamed;
- workers that die before they are even ready fail the conversion, not a page.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from .errors import EngineError, PdfocrError
from .executors import StopReason, WorkerLost

MAX_RETRIES = 2
"""Times a page is tried again after its worker was killed from outside or lost."""


@dataclass(frozen=True)
class Blame:
    """The page is at fault: it fails (or is skipped) with ``error``."""

    error: EngineError


@dataclass(frozen=True)
class Retry:
    """Run the page again: what happened was not necessarily its fault."""


@dataclass(frozen=True)
class Stop:
    """The page was stopped on purpose; its conversion is over (``reason`` says why)."""

    reason: StopReason


@dataclass(frozen=True)
class Fatal:
    """Nothing can run: the conversion fails with ``error``, whatever the page."""

    error: PdfocrError


Verdict = Blame | Retry | Stop | Fatal


def judge(lost: WorkerLost, *, retries: int, page_timeout: float | None) -> Verdict:
    """The verdict on a page whose worker went away, after ``retries`` earlier tries
    that ended the same way."""
    if lost.before_start:
        return Fatal(PdfocrError(f"worker processes cannot start ({how_it_ended(lost.exit_code)})"))
    if lost.stopped is StopReason.TIMEOUT:
        limit = f"{page_timeout:g} s" if page_timeout is not None else "its time limit"
        return Blame(EngineError(f"stopped after {limit} without a result (the page timeout)"))
    if lost.stopped is not None:
        return Stop(lost.stopped)
    died = f"the worker process converting this page died ({how_it_ended(lost.exit_code)})"
    if lost.times > 1:
        # A cluster gave up on the page after losing that many workers with it. A page
        # waiting on a worker that another page brought down counts as lost with it too:
        # one more try tells the page that does it from those beside it.
        if retries == 0:
            return Retry()
        return Blame(EngineError(f"{died}: {lost.times} workers lost with it, {retries + 1} times"))
    if lost.exit_code is None or lost.exit_code == -signal.SIGKILL:
        if retries < MAX_RETRIES:
            return Retry()
        return Blame(EngineError(f"{died}, {retries + 1} times"))
    return Blame(EngineError(died))


def how_it_ended(exit_code: int | None) -> str:
    """A worker's end in words: ``killed by SIGSEGV``, ``exit status 70``..."""
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

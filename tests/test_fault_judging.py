"""Fault judging (pdfocr.faults.judge): a pure function, tested without processes."""

from __future__ import annotations

import signal

import pytest

from pdfocr.errors import EngineError, PdfocrError
from pdfocr.executors import StopReason, WorkerLost
from pdfocr.faults import MAX_RETRIES, Blame, Fatal, Retry, Stop, how_it_ended, judge


def test_a_page_past_its_time_limit_is_blamed_for_it() -> None:
    verdict = judge(WorkerLost(-signal.SIGKILL, StopReason.TIMEOUT), retries=0, page_timeout=1.5)
    assert isinstance(verdict, Blame)
    assert verdict.error.message == "stopped after 1.5 s without a result (the page timeout)"


@pytest.mark.parametrize("reason", [StopReason.CANCELLED, StopReason.CLOSED])
def test_a_page_stopped_on_purpose_is_not_blamed(reason: StopReason) -> None:
    assert judge(WorkerLost(-signal.SIGKILL, reason), retries=0, page_timeout=None) == Stop(reason)


@pytest.mark.parametrize(
    ("exit_code", "how"),
    [(-signal.SIGSEGV, "killed by SIGSEGV"), (-signal.SIGABRT, "killed by SIGABRT"), (70, "exit status 70")],
)
def test_a_crash_is_pinned_on_its_page_at_once(exit_code: int, how: str) -> None:
    verdict = judge(WorkerLost(exit_code), retries=0, page_timeout=300)
    assert isinstance(verdict, Blame)
    assert isinstance(verdict.error, EngineError)
    assert verdict.error.message == f"the worker process converting this page died ({how})"


@pytest.mark.parametrize("exit_code", [-signal.SIGKILL, None])
def test_a_worker_killed_from_outside_or_lost_is_retried_then_blamed(exit_code: int | None) -> None:
    lost = WorkerLost(exit_code)
    assert [judge(lost, retries=n, page_timeout=300) for n in range(MAX_RETRIES)] == [Retry()] * MAX_RETRIES
    verdict = judge(lost, retries=MAX_RETRIES, page_timeout=300)
    assert isinstance(verdict, Blame)
    assert verdict.error.message.endswith(f", {MAX_RETRIES + 1} times")
    assert "died (" in verdict.error.message


def test_a_page_a_cluster_gave_up_on_is_tried_once_more_then_blamed() -> None:
    """A cluster's KilledWorker: the page was lost with several workers already."""
    lost = WorkerLost(None, times=4)
    assert judge(lost, retries=0, page_timeout=300) == Retry()
    verdict = judge(lost, retries=1, page_timeout=300)
    assert isinstance(verdict, Blame)
    assert verdict.error.message.endswith("died (how is unknown): 4 workers lost with it, 2 times")


def test_workers_that_cannot_start_fail_the_conversion_not_a_page() -> None:
    verdict = judge(WorkerLost(1, before_start=True), retries=0, page_timeout=300)
    assert isinstance(verdict, Fatal)
    assert type(verdict.error) is PdfocrError
    assert str(verdict.error) == "worker processes cannot start (exit status 1)"


def test_how_a_worker_ended_in_words() -> None:
    assert how_it_ended(-signal.SIGKILL) == "killed by SIGKILL: out of memory?"
    assert how_it_ended(-99) == "killed by signal 99"
    assert how_it_ended(None) == "how is unknown"

"""Scheduling pages (pdfocr.scheduler) on the in-process executor: fast, no processes.

The same scheduler runs on worker processes in production (tests/test_faults.py and
tests/test_converter.py run those for real)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import until
from fakes import FailingEngine, LabelEngine, _one_word_page, png_pages
from PIL import Image

import pdfocr
from pdfocr.admission import Slots
from pdfocr.errors import EngineError, Interrupted
from pdfocr.executors import InlineExecutor, StopReason, WorkerLost
from pdfocr.inputs import PageSource
from pdfocr.model import PageText
from pdfocr.options import ConvertOptions
from pdfocr.page import PageOutcome, PageTask, SkippedPage
from pdfocr.scheduler import Scheduler


def _tasks(count: int, engine: object, **options: object) -> list[PageTask]:
    chosen = ConvertOptions(engine="tesseract").replace(**options)
    return [
        PageTask(index, PageSource(f"<input {index + 1}>", data=data), engine, chosen, draw=False)  # type: ignore[arg-type]
        for index, data in enumerate(png_pages(count))
    ]


def _texts(outcomes: Sequence[object]) -> list[str]:
    return [outcome.result.text for outcome in outcomes if isinstance(outcome, PageOutcome)]


@dataclass
class GatedEngine:
    """Waits on ``gate`` for pages listed in ``held`` (threads of this process only)."""

    held: frozenset[int]
    gate: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    name: str = "gated"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        index = image.width - 100
        if index in self.held:
            self.started.set()
            self.gate.wait(30)
        return _one_word_page(image, f"page{index}")


def test_pages_come_back_in_order_when_they_finish_out_of_order() -> None:
    finished: list[str] = []
    scheduler = Scheduler(InlineExecutor(4))
    outcomes = scheduler.run(
        _tasks(8, LabelEngine(slowest=0.2)), lambda o: finished.append(o.result.text) or o
    )
    scheduler.close()
    expected = [f"page{index}" for index in range(8)]
    assert _texts(outcomes) == expected
    assert finished != expected  # the later pages really did finish first


def test_a_page_past_its_time_limit_is_stopped_and_named() -> None:
    engine = GatedEngine(held=frozenset({1}))
    scheduler = Scheduler(InlineExecutor(2))
    with pytest.raises(EngineError) as caught:
        scheduler.run(_tasks(3, engine, page_timeout=0.3), lambda o: o)
    engine.gate.set()
    scheduler.close()
    assert str(caught.value) == "<input 2>: stopped after 0.3 s without a result (the page timeout)"


def test_skip_bad_pages_keeps_the_rest_in_order() -> None:
    scheduler = Scheduler(InlineExecutor(2))
    outcomes = scheduler.run(_tasks(4, FailingEngine(fail_on=2), skip_bad_pages=True), lambda o: o)
    scheduler.close()
    assert _texts(outcomes) == ["fine"] * 3
    (skipped,) = [outcome for outcome in outcomes if isinstance(outcome, SkippedPage)]
    assert str(skipped) == "<input 3>: engine exploded"


def test_cancelling_a_run_stops_its_running_pages() -> None:
    engine = GatedEngine(held=frozenset({0, 1}))
    executor = InlineExecutor(2)
    stopped: list[StopReason] = []
    original_stop = executor.stop

    def stop(future: Future[PageOutcome], reason: StopReason) -> None:
        stopped.append(reason)
        original_stop(future, reason)

    executor.stop = stop  # type: ignore[method-assign]
    scheduler = Scheduler(executor)
    cancel = threading.Event()
    threading.Thread(target=lambda: engine.started.wait(10) and cancel.set()).start()
    with pytest.raises(Interrupted, match="cancelled"):
        scheduler.run(_tasks(2, engine), lambda o: o, cancel)
    engine.gate.set()
    scheduler.close()
    assert stopped == [StopReason.CANCELLED, StopReason.CANCELLED]
    assert scheduler.in_flight == 0


class LosingExecutor(InlineExecutor):
    """Loses the first attempt at page ``lose``, as if its worker had been killed from
    outside (by the out-of-memory killer): the seam a cluster executor uses too."""

    def __init__(self, lose: int, exit_code: int | None) -> None:
        super().__init__(2)
        self.lose, self.exit_code, self.attempts = lose, exit_code, 0

    def submit(self, task: PageTask, started):  # type: ignore[no-untyped-def]
        if task.index == self.lose:
            self.attempts += 1
            if self.attempts == 1:
                future: Future[PageOutcome] = Future()
                future.set_exception(WorkerLost(self.exit_code))
                return future
        return super().submit(task, started)


@pytest.mark.parametrize("exit_code", [-9, None])
def test_a_page_whose_worker_was_lost_is_run_again(exit_code: int | None) -> None:
    executor = LosingExecutor(lose=1, exit_code=exit_code)
    scheduler = Scheduler(executor)
    outcomes = scheduler.run(_tasks(3, LabelEngine(slowest=0)), lambda o: o)
    scheduler.close()
    assert _texts(outcomes) == ["page0", "page1", "page2"]
    assert executor.attempts == 2


def test_a_crash_is_not_run_again() -> None:
    executor = LosingExecutor(lose=0, exit_code=-11)
    scheduler = Scheduler(executor)
    with pytest.raises(EngineError, match=r"^<input 1>: the worker process .* died \(killed by SIGSEGV\)$"):
        scheduler.run(_tasks(2, LabelEngine(slowest=0)), lambda o: o)
    scheduler.close()
    assert executor.attempts == 1


def test_never_more_pages_in_flight_than_slots_across_runs() -> None:
    scheduler = Scheduler(InlineExecutor(4), slots=2)
    peak = 0

    def watch(outcome: PageOutcome) -> PageOutcome:
        nonlocal peak
        peak = max(peak, scheduler.in_flight)
        return outcome

    threads = [
        threading.Thread(target=scheduler.run, args=(_tasks(5, LabelEngine(slowest=0.05)), watch))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    scheduler.close()
    assert 0 < peak <= 2


def test_runs_waiting_for_a_slot_are_served_in_turn() -> None:
    slots = Slots(1)
    assert slots.take(0)
    order: list[str] = []

    def wait_for_slot(name: str) -> None:
        if slots.take(10):
            order.append(name)
            slots.give_back()

    first = threading.Thread(target=wait_for_slot, args=("first",))
    first.start()
    until(lambda: slots.waiting == 1)
    second = threading.Thread(target=wait_for_slot, args=("second",))
    second.start()
    until(lambda: slots.waiting == 2)
    assert not slots.take(0)  # no jumping the line, even with a slot about to be free
    slots.give_back()
    first.join(10)
    second.join(10)
    assert order == ["first", "second"]


def test_a_converter_runs_on_any_executor(tmp_path: Path) -> None:
    with pdfocr.Converter(executor=InlineExecutor(2), engine=LabelEngine(slowest=0)) as converter:
        result = converter.convert(png_pages(3), tmp_path / "out.pdf")
        assert converter.ocr_image(png_pages(1)[0]) == "page0"
    assert [page.text for page in result.pages] == ["page0", "page1", "page2"]
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF-")

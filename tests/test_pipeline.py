"""Scheduling pages over worker processes, with fake engines (fast and deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pdftotext
from fakes import CrashingEngine, FailingEngine, GatedEngine, LabelEngine, png_pages

import pdfocr
from pdfocr.errors import EngineError
from pdfocr.options import usable_cpus


@pytest.mark.skipif(usable_cpus() < 2, reason="pages run one at a time on one CPU")
def test_page_order_is_kept_when_pages_finish_out_of_order(tmp_path: Path) -> None:
    # The first page is held until the second has come back (an event, not a head start
    # in seconds that a busy machine can eat up), so the pages certainly finish out of order.
    gate = tmp_path / "page1-is-back"
    finished: list[str] = []

    def progress(event: pdfocr.Progress) -> None:
        if event.page is not None:
            finished.append(event.page.text)
            if event.page.text == "page1":
                gate.touch()

    output = tmp_path / "out.pdf"
    result = pdfocr.convert(
        png_pages(8), output, jobs=2, engine=GatedEngine(gate=str(gate), held=(0,)), progress=progress
    )
    expected = [f"page{index}" for index in range(8)]
    assert [page.text for page in result.pages] == expected
    assert finished.index("page1") < finished.index("page0")  # a later page really did finish first
    assert sorted(finished) == sorted(expected)
    assert [page.strip() for page in pdftotext(output).split("\f") if page.strip()] == expected


def test_progress_reports_every_page_once(tmp_path: Path) -> None:
    events = []
    pdfocr.convert(
        png_pages(5), tmp_path / "out.pdf", jobs=2, engine=LabelEngine(slowest=0), progress=events.append
    )
    assert [event.done for event in events] == [0, 1, 2, 3, 4, 5]  # the start, then each page
    assert events[0].page is None and all(event.page is not None for event in events[1:])
    assert {event.total for event in events} == {5}


def test_engine_error_names_the_page_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    with pytest.raises(EngineError) as caught:
        pdfocr.convert(png_pages(4), output, jobs=2, engine=FailingEngine(fail_on=2))
    assert str(caught.value) == "<input 3>: engine exploded"
    assert list(tmp_path.iterdir()) == []


def test_a_worker_that_dies_is_reported(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"previous run")
    with pytest.raises(
        EngineError, match=r"^<input 2>: the worker process converting this page died \(exit status 70\)$"
    ):
        pdfocr.convert(png_pages(3), output, jobs=2, engine=CrashingEngine(crash_on=1))
    assert output.read_bytes() == b"previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]

"""Load: fifty concurrent module-level ``convert_async`` calls in one event loop, some with
bad inputs. All finish, each with its own result or error, and the number of worker
processes (so memory) stays bounded by the CPU count, not by the number of callers."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import until
from fakes import LabelEngine, png_pages
from test_faults import NOT_AN_IMAGE, _descendants, _workers_left

import pdfocr
from pdfocr.admission import WorkerBudget as _WorkerBudget
from pdfocr.errors import InputError


def _tree_rss_mb() -> float:
    total = 0
    for pid in [os.getpid(), *_descendants()]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@pytest.mark.slow
def test_fifty_concurrent_convert_async_calls_all_finish_within_bounded_memory(tmp_path: Path) -> None:
    good, bad = png_pages(3), [b"not an image at all"]
    most_workers, peak_mb, done = 0, 0.0, threading.Event()

    def watch() -> None:
        nonlocal most_workers, peak_mb
        while not done.is_set():
            most_workers = max(most_workers, len(_workers_left()))
            peak_mb = max(peak_mb, _tree_rss_mb())
            time.sleep(0.02)

    async def main() -> list[object]:
        return await asyncio.gather(
            *(
                pdfocr.convert_async(
                    bad if n % 10 == 3 else good, tmp_path / f"out{n}.pdf", engine=LabelEngine(slowest=0)
                )
                for n in range(50)
            ),
            return_exceptions=True,
        )

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = asyncio.run(main())
    finally:
        done.set()
        watcher.join()
    for n, result in enumerate(results):
        if n % 10 == 3:
            assert isinstance(result, InputError), result
            assert str(result) == f"<input 1>: {NOT_AN_IMAGE}"
            assert not (tmp_path / f"out{n}.pdf").exists()
        else:
            assert isinstance(result, pdfocr.Result), result
            assert [page.text for page in result.pages] == ["page0", "page1", "page2"]
    # One worker per CPU at most, whatever the number of callers (without the budget: 100).
    assert 0 < most_workers <= (os.cpu_count() or 1)
    assert peak_mb < 1000, peak_mb  # measured ~200 MB here; 4 GB before the budget


def test_the_worker_budget_serves_runs_in_turn() -> None:
    # Two workers in all: one taken; a run wanting two waits, and a run wanting one that
    # comes later must not slip past it (a stream of small runs would starve it).
    budget = _WorkerBudget(2)
    order: list[str] = []
    release_first = threading.Event()

    def run(name: str, wanted: int, hold: threading.Event | None = None) -> None:
        with budget.take(wanted, None):
            order.append(name)
            if hold is not None:
                hold.wait(10)

    first = threading.Thread(target=run, args=("first", 1, release_first))
    first.start()
    until(lambda: order == ["first"])
    large = threading.Thread(target=run, args=("large", 2))
    large.start()
    until(lambda: budget.waiting == 1)  # the large run is waiting for its turn
    small = threading.Thread(target=run, args=("small", 1))
    small.start()
    until(lambda: budget.waiting == 2)  # one worker is free, but the large run came first
    assert order == ["first"]
    release_first.set()
    for thread in (first, large, small):
        thread.join(10)
    assert order == ["first", "large", "small"]

"""Many conversions sharing one pool of workers (pdfocr.Converter)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from conftest import pdftotext, words_of
from fakes import PidEngine, SlowEngine, png_pages

import pdfocr
from pdfocr.errors import InputError


def test_workers_stay_warm_across_conversions(tmp_path: Path) -> None:
    pids: set[str] = set()
    with pdfocr.Converter(jobs=2) as converter:
        for round_number in range(3):
            result = converter.convert(png_pages(4), tmp_path / f"out{round_number}.pdf", engine=PidEngine())
            pids.update(page.text for page in result.pages)
    assert len(pids) <= 2  # the same two worker processes served every conversion


def test_fifty_concurrent_conversions_share_the_workers(tmp_path: Path) -> None:
    good = png_pages(3)
    bad = [b"not an image at all"]

    async def main() -> tuple[list[object], int]:
        peak = 0
        async with pdfocr.Converter(jobs=2) as converter:

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, converter.in_flight)
                    await asyncio.sleep(0.005)

            watcher = asyncio.create_task(watch())
            results = await asyncio.gather(
                *(
                    converter.convert_async(
                        bad if n % 10 == 3 else good, tmp_path / f"out{n}.pdf", engine=PidEngine(seconds=0.01)
                    )
                    for n in range(50)
                ),
                return_exceptions=True,
            )
            watcher.cancel()
        return results, peak

    results, peak = asyncio.run(main())
    assert 0 < peak <= 2  # never more pages in flight than workers
    for n, result in enumerate(results):
        if n % 10 == 3:
            assert isinstance(result, InputError)
            assert not (tmp_path / f"out{n}.pdf").exists()
        else:
            assert isinstance(result, pdfocr.Result), result
            assert result.page_count == 3
            assert len(pdftotext(tmp_path / f"out{n}.pdf").split("\f")) >= 3


def test_a_shared_converter_with_the_real_engine(
    tmp_path: Path, samples: Path, expected_sample_pages
) -> None:
    async def main() -> list[pdfocr.Result]:
        async with pdfocr.Converter(jobs=2) as converter:
            return await asyncio.gather(
                converter.convert_async(samples / "page1.png", tmp_path / "a.pdf"),
                converter.convert_async(samples / "page10.tif", tmp_path / "b.pdf"),
            )

    first, second = asyncio.run(main())
    assert words_of(first.pages[0].text)[:4] == words_of(expected_sample_pages[0])[:4]
    assert second.page_count == 2
    assert words_of(pdftotext(tmp_path / "b.pdf"))[:4] == words_of(expected_sample_pages[3])[:4]


def test_jobs_are_validated() -> None:
    with pytest.raises(pdfocr.UsageError):
        pdfocr.Converter(jobs=0)


def test_closing_a_converter_stops_its_conversions_cleanly(tmp_path: Path) -> None:
    converter = pdfocr.Converter(jobs=2)
    failures: list[BaseException] = []

    def convert() -> None:
        try:
            converter.convert(png_pages(6), tmp_path / "out.pdf", engine=SlowEngine(seconds=30))
        except BaseException as error:
            failures.append(error)

    worker = threading.Thread(target=convert)
    worker.start()
    deadline = time.monotonic() + 20
    while converter.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    converter.close(kill=True)
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert len(failures) == 1
    assert isinstance(failures[0], pdfocr.Interrupted)  # not a raw error, nor a "crash"
    assert not (tmp_path / "out.pdf").exists()
    with pytest.raises(pdfocr.UsageError, match=r"^this Converter is closed$"):  # a usage error, not a stop
        converter.convert(png_pages(1), tmp_path / "again.pdf", engine=PidEngine())

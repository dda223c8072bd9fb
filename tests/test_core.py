"""One core, many faces: the module-level functions wrap a Converter, every face takes
one options object (or its fields as keywords), and engines never run in the caller."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import (
    CrashingEngine,
    HangingEngine,
    PidEngine,
    RaisingEngine,
    SlowEngine,
    UncheckableEngine,
    png_pages,
)
from PIL import Image
from test_faults import _workers_left

import pdfocr
from pdfocr.errors import EngineError, UsageError
from pdfocr.inputs import expand_inputs
from pdfocr.options import ConvertOptions, OptionKeywords, usable_cpus


def test_option_keywords_are_exactly_the_options_fields() -> None:
    assert set(OptionKeywords.__annotations__) == {field.name for field in dataclasses.fields(ConvertOptions)}


def test_every_face_takes_one_options_object_and_keywords_change_it(tmp_path: Path) -> None:
    options = ConvertOptions(engine=PidEngine(seconds=0), jobs=1)
    result = pdfocr.convert(png_pages(2), tmp_path / "out.pdf", options)
    assert result.page_count == 2
    with pdfocr.Converter(options) as converter:
        assert converter.jobs == 1
        assert converter.ocr_image(png_pages(1)[0]).startswith("pid")
        with pytest.raises(UsageError, match="jobs is set when the Converter is made"):
            converter.convert(png_pages(1), tmp_path / "again.pdf", jobs=2)
        # Options made for a call, jobs unsaid, are welcome on any converter.
        converter.convert(png_pages(1), tmp_path / "own.pdf", ConvertOptions(engine=PidEngine(seconds=0)))
    with pytest.raises(UsageError, match="unknown option 'language'"):
        pdfocr.convert(png_pages(1), tmp_path / "x.pdf", language="eng")  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="dpi must be between"):
        pdfocr.convert(png_pages(1), tmp_path / "x.pdf", options, dpi=1)


def test_ocr_image_runs_in_a_worker_not_in_the_caller() -> None:
    text = pdfocr.ocr_image(png_pages(1)[0], engine=PidEngine(seconds=0))
    assert text.startswith("pid") and text != f"pid{os.getpid()}"


def test_an_engine_crashing_in_ocr_image_does_not_take_the_caller_down() -> None:
    with pytest.raises(EngineError, match=r"died \(killed by SIGSEGV\)"):
        pdfocr.ocr_image(png_pages(1)[0], engine=CrashingEngine(crash_on=0, signal=11))
    assert _workers_left() == []


def test_ocr_image_keeps_the_page_timeout() -> None:
    with pytest.raises(EngineError, match=r"stopped after 1 s without a result \(the page timeout\)"):
        pdfocr.ocr_image(png_pages(1)[0], engine=HangingEngine(hang_on=0), page_timeout=1)
    assert _workers_left() == []


def test_cancelling_ocr_image_async_stops_its_worker() -> None:
    async def main() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pdfocr.ocr_image_async(png_pages(1)[0], engine=SlowEngine(seconds=60)), 1)

    asyncio.run(main())
    assert _workers_left() == []  # the page's worker was stopped, not left to run for a minute


def test_an_engine_raising_anything_is_an_engine_error_that_can_be_skipped(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as caught:
        pdfocr.convert(png_pages(2), tmp_path / "out.pdf", engine=RaisingEngine(), jobs=1)
    assert str(caught.value) == "<input 1>: the raising engine failed: RuntimeError: model file is damaged"
    with pytest.raises(EngineError):  # every page skipped: nothing to write
        pdfocr.convert(png_pages(2), tmp_path / "out.pdf", engine=RaisingEngine(), skip_bad_pages=True)


def test_an_engine_check_raising_anything_is_an_engine_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"^the uncheckable engine failed: OSError: model folder missing$"):
        pdfocr.convert(png_pages(1), tmp_path / "out.pdf", engine=UncheckableEngine())


def test_a_closed_converter_refuses_work_with_a_usage_error(tmp_path: Path) -> None:
    async def main() -> None:
        converter = pdfocr.Converter(engine=PidEngine(seconds=0))
        assert (await converter.ocr_image_async(png_pages(1)[0])).startswith("pid")
        await converter.aclose()
        with pytest.raises(UsageError, match=r"^this Converter is closed$"):
            await converter.convert_async(png_pages(1), tmp_path / "out.pdf")
        with pytest.raises(UsageError, match=r"^this Converter is closed$"):
            await converter.ocr_image_async(png_pages(1)[0])

    asyncio.run(main())
    assert _workers_left() == []


def test_more_jobs_than_cpus_are_capped_with_a_warning() -> None:
    with pytest.warns(pdfocr.PdfocrWarning, match=f"this process may use {usable_cpus()} CPUs"):
        converter = pdfocr.Converter(jobs=usable_cpus() + 7)
    assert converter.jobs == usable_cpus()
    converter.close()


def test_the_image_size_limit_is_an_option_and_changes_nothing_process_wide(tmp_path: Path) -> None:
    # A 200-megapixel header: over Pillow's own default limit (~179 MP), under pdfocr's.
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 20_000, 10_000, 8, 0, 0, 0, 0)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    before = Image.MAX_IMAGE_PIXELS
    assert len(expand_inputs([big])) == 1  # the library's default limit is 1,000 MP, like the CLI's
    with pytest.raises(pdfocr.InputError, match="over the limit of 100 megapixels"):
        expand_inputs([big], options=pdfocr.ConvertOptions(max_megapixels=100))
    with pytest.raises(pdfocr.InputError, match="over the limit of 100 megapixels"):
        pdfocr.convert(big, tmp_path / "out.pdf", max_megapixels=100)
    assert before == Image.MAX_IMAGE_PIXELS


def test_a_main_script_without_a_main_guard_gets_one_clear_line(tmp_path: Path, samples: Path) -> None:
    script = tmp_path / "convert_scans.py"
    script.write_text(
        f"import pdfocr\npdfocr.convert({str(samples / 'page1.png')!r}, {str(tmp_path / 'out.pdf')!r})\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("pdfocr.errors.UsageError: ")
    assert f"{script}, line 2: pdfocr is called at the top level of the main script" in last
    assert 'if __name__ == "__main__":' in last
    assert done.stderr.count("Traceback") == 1  # the script's own, not a storm from workers
    assert not (tmp_path / "out.pdf").exists()
    guarded = tmp_path / "guarded.py"
    guarded.write_text(
        "import pdfocr\n"
        "def main():\n"
        f"    pdfocr.convert({str(samples / 'page1.png')!r}, {str(tmp_path / 'out.pdf')!r})\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    )
    done = subprocess.run([sys.executable, str(guarded)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.pdf").exists()


def test_a_shared_converter_keeps_serving_after_a_cancelled_call(tmp_path: Path) -> None:
    async def main() -> str:
        async with pdfocr.Converter(jobs=2, engine=PidEngine(seconds=0)) as converter:
            slow = asyncio.ensure_future(converter.ocr_image_async(png_pages(1)[0], engine=SlowEngine(60)))
            async with asyncio.timeout(30):
                while converter.in_flight == 0:
                    await asyncio.sleep(0.01)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            return await converter.ocr_image_async(png_pages(1)[0])

    assert asyncio.run(main()).startswith("pid")


def test_a_call_cancelled_again_and_again_gives_its_workers_back(tmp_path: Path) -> None:
    # asyncio.run's shutdown cancels a task a second time while it cleans up: the call
    # must still wait for its thread, or that thread takes workers nobody gives back.
    from pdfocr.admission import MACHINE_BUDGET

    async def main() -> None:
        call = asyncio.ensure_future(
            pdfocr.convert_async(png_pages(2), tmp_path / "out.pdf", engine=SlowEngine(30))
        )
        async with asyncio.timeout(30):
            while MACHINE_BUDGET.free == MACHINE_BUDGET.total:  # until it has its workers
                await asyncio.sleep(0.01)
        for _ in range(3):
            call.cancel()
            await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(main())
    assert MACHINE_BUDGET.free == MACHINE_BUDGET.total
    assert _workers_left() == []
    assert not (tmp_path / "out.pdf").exists()

"""The process executor's edges: what crosses the pipe, and failures that must end in an
error, never in a conversion waiting forever."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import ROOT
from fakes import ExpiredEngine, LabelEngine, LicenceExpired, png_pages
from test_faults import _workers_left

import pdfocr
from pdfocr.executors import ProcessExecutor


def test_an_engine_error_of_its_own_class_comes_back_as_it_is(tmp_path: Path) -> None:
    with pytest.raises(LicenceExpired) as caught:
        pdfocr.convert(png_pages(1), tmp_path / "out.pdf", engine=ExpiredEngine())
    assert str(caught.value) == "<input 1>: the OCR licence has expired"
    assert caught.value.exit_code == pdfocr.ExitCode.ENGINE


def test_a_failing_dispatcher_fails_the_pages_instead_of_leaving_them_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ProcessExecutor) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(ProcessExecutor, "_assign", broken)
    with pytest.raises(
        pdfocr.PdfocrError, match=r"internal error: the worker dispatcher failed: RuntimeError: injected"
    ):
        pdfocr.convert(png_pages(2), tmp_path / "out.pdf", engine=LabelEngine(slowest=0))
    assert _workers_left() == []


def test_a_page_a_worker_cannot_load_is_a_usage_error_not_a_crash(tmp_path: Path) -> None:
    # An engine class defined in `python -c` exists only in the caller: workers cannot
    # unpickle it. That is the caller's mistake, said as such, not a page that "died".
    script = (
        "import sys, pdfocr\n"
        "sys.path.insert(0, 'tests')\n"
        "from fakes import LabelEngine, png_pages\n"
        "class Local(LabelEngine):\n"
        "    pass\n"
        "try:\n"
        f"    pdfocr.convert(png_pages(1), {str(tmp_path / 'out.pdf')!r}, engine=Local(slowest=0))\n"
        "except pdfocr.UsageError as error:\n"
        "    print('usage:', error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.stdout.startswith("usage: <input 1>: a page cannot be loaded in a worker process"), done
    assert "must be importable by its module's name" in done.stdout


def test_an_unusable_temporary_folder_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    expected = r"^cannot make a temporary folder in .*/gone: no such file or folder$"
    with pytest.raises(pdfocr.OutputError, match=expected):
        pdfocr.convert(png_pages(1), tmp_path / "out.pdf", engine=LabelEngine(slowest=0))


def test_an_unguarded_async_main_script_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "service.py"
    script.write_text(
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "import pdfocr\n"
        "from fakes import png_pages\n"
        "async def main():\n"
        "    return await pdfocr.ocr_image_async(png_pages(1)[0])\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "line 7: pdfocr is called at the top level of the main script" in done.stderr.splitlines()[-1]


def test_close_waits_for_a_conversion_still_reading_its_inputs(tmp_path: Path) -> None:
    release = threading.Event()
    reading = threading.Event()

    class SlowInput:
        name = "slow-input.png"

        def read(self) -> bytes:
            reading.set()
            release.wait(30)
            return png_pages(1)[0]

    converter = pdfocr.Converter(engine=LabelEngine(slowest=0))
    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.append(converter.convert(SlowInput(), tmp_path / "out.pdf"))  # type: ignore[arg-type]
    )
    worker.start()
    assert reading.wait(30)
    closer = threading.Thread(target=converter.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # waiting for the conversion under way
    release.set()
    worker.join(30)
    closer.join(30)
    assert not closer.is_alive()
    assert len(results) == 1 and isinstance(results[0], pdfocr.Result)


def test_close_inside_a_conversion_is_refused_instead_of_waiting_forever(tmp_path: Path) -> None:
    converter = pdfocr.Converter(engine=LabelEngine(slowest=0))
    refused: list[Exception] = []

    def progress(event: pdfocr.Progress) -> None:
        if event.done == 1:
            try:
                converter.close()
            except pdfocr.UsageError as error:
                refused.append(error)

    result = converter.convert(png_pages(2), tmp_path / "out.pdf", progress=progress)
    assert result.page_count == 2
    assert len(refused) == 1 and "would wait for itself" in str(refused[0])
    converter.close()

"""The library API with the real Tesseract: round trips, I/O kinds, async, errors."""

from __future__ import annotations

import asyncio
import io
import itertools
import subprocess
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from conftest import pdftotext, save_page, words_of
from fakes import SlowEngine, page_of_width
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

import pdfocr
from pdfocr.errors import DependencyError, InputError, Interrupted, OutputError, UsageError


def _similar(got: str, want: str) -> float:
    return SequenceMatcher(None, words_of(got), words_of(want)).ratio()


def test_sample_bundle_round_trip(tmp_path: Path, samples: Path, expected_sample_pages: list[str]) -> None:
    output, sidecar = tmp_path / "samples.pdf", tmp_path / "samples.txt"
    result = pdfocr.convert(samples, output, sidecar=sidecar, jobs=2)
    assert result.page_count == len(expected_sample_pages) == 5
    assert [(Path(p.source).name, p.page) for p in result.pages] == [
        ("page1.png", None),
        ("page2.jpg", None),
        ("page3.png", None),
        ("page10.tif", 1),
        ("page10.tif", 2),
    ]
    extracted = pdftotext(output).split("\f")
    pypdf_pages = [page.extract_text() for page in PdfReader(output).pages]
    sidecar_pages = sidecar.read_text(encoding="utf-8").split("\f")
    for index, want in enumerate(expected_sample_pages):
        assert _similar(extracted[index], want) > 0.95, index
        assert _similar(pypdf_pages[index], want) > 0.95, index
        assert words_of(sidecar_pages[index]) == words_of(result.pages[index].text)
        # Line by line: each drawn line is one extracted line.
        lines = [line for line in extracted[index].splitlines() if line.strip()]
        assert len(lines) == len(want.strip().splitlines())


def test_inputs_and_outputs_may_be_bytes_and_file_objects(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(7, 2), dpi=150)
    buffer = io.BytesIO()
    page.image.save(buffer, format="PNG", dpi=(150, 150))
    output = io.BytesIO()
    sidecar = io.BytesIO()
    result = pdfocr.convert([buffer.getvalue(), io.BytesIO(buffer.getvalue())], output, sidecar=sidecar)
    assert result.page_count == 2
    reader = PdfReader(io.BytesIO(output.getvalue()))
    assert len(reader.pages) == 2
    assert words_of(reader.pages[1].extract_text()) == words_of(page.text)
    assert sidecar.getvalue().decode().count("\f") == 1


def test_ocr_image(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(4, 3), dpi=200)
    path = save_page(page, tmp_path / "page.png")
    assert words_of(pdfocr.ocr_image(path)) == words_of(page.text)
    assert words_of(pdfocr.ocr_image(path.read_bytes())) == words_of(page.text)


def test_ocr_image_async_runs_many_at_once(tmp_path: Path, page_factory, prose_lines) -> None:
    pages = [page_factory(prose_lines(n, 2), dpi=150) for n in range(6)]
    paths = [save_page(page, tmp_path / f"p{n}.png") for n, page in enumerate(pages)]

    async def main() -> list[str]:
        return await asyncio.gather(*(pdfocr.ocr_image_async(path) for path in paths))

    texts = asyncio.run(main())
    assert [words_of(text) for text in texts] == [words_of(page.text) for page in pages]


def test_convert_async_leaves_the_event_loop_free(tmp_path: Path, samples: Path) -> None:
    ticks: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    progress_threads: list[bool] = []

    async def main() -> pdfocr.Result:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        loop = asyncio.get_running_loop()
        result = await pdfocr.convert_async(
            samples,
            tmp_path / "out.pdf",
            jobs=2,
            progress=lambda event: progress_threads.append(asyncio.get_running_loop() is loop),
        )
        stop.set()
        await task
        return result

    result = asyncio.run(main())
    assert result.page_count == 5
    # The ticker kept ticking throughout: no gap near the length of the conversion.
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert len(ticks) > 20
    assert max(gaps) < result.seconds / 4
    assert progress_threads == [True] * 6  # the start and each page, reported on the event loop


def test_cancelling_convert_async_stops_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"keep me")
    buffer = io.BytesIO()
    page_of_width(0).save(buffer, format="PNG")

    marks = tmp_path.parent / f"{tmp_path.name}-started"

    async def main() -> None:
        engine = SlowEngine(seconds=60, started=str(marks))
        task = asyncio.create_task(
            pdfocr.convert_async([buffer.getvalue()] * 4, output, jobs=2, engine=engine)
        )
        async with asyncio.timeout(60):  # until a page is under way
            while not list(marks.parent.glob(f"{marks.name}-*")):
                await asyncio.sleep(0.01)
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 30  # not the 60 s a page would take

    asyncio.run(main())
    assert output.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]


def test_language_not_installed(tmp_path: Path, samples: Path) -> None:
    with pytest.raises(DependencyError, match=r"klingon is not installed .*installed: .*eng"):
        pdfocr.convert(samples, tmp_path / "out.pdf", languages=("eng", "klingon"))
    assert list(tmp_path.iterdir()) == []


def test_bad_input_in_the_middle_keeps_the_existing_output(tmp_path: Path, samples: Path) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"old output")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(InputError) as caught:
        pdfocr.convert([samples / "page1.png", bad, samples / "page2.jpg"], output)
    assert caught.value.file == str(bad)
    assert output.read_bytes() == b"old output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png", "out.pdf"]


def test_output_errors(tmp_path: Path, samples: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        pdfocr.convert(samples / "page1.png", tmp_path / "missing" / "out.pdf")
    with pytest.raises(OutputError, match="is a folder"):
        pdfocr.convert(samples / "page1.png", tmp_path)
    with pytest.raises(UsageError, match="overwrite an input"):
        pdfocr.convert(samples / "page1.png", samples / "page1.png")


def test_option_validation() -> None:
    with pytest.raises(UsageError, match="jobs"):
        pdfocr.convert("x.png", "y.pdf", jobs=0)
    with pytest.raises(UsageError, match="dpi"):
        pdfocr.convert("x.png", "y.pdf", dpi=0)
    with pytest.raises(UsageError, match="language"):
        pdfocr.convert("x.png", "y.pdf", languages=("../etc",))


def test_cancel_error_is_a_pdfocr_error() -> None:
    assert issubclass(Interrupted, pdfocr.PdfocrError)
    assert Interrupted("x").exit_code == 130


@pytest.mark.parametrize(
    ("suffix", "save_options", "mode"),
    [
        (".png", {}, "L"),
        (".jpg", {"quality": 90}, "L"),
        (".tif", {"compression": "group4"}, "1"),
        (".bmp", {}, "RGB"),
        (".gif", {}, "P"),
        (".webp", {"lossless": True}, "RGB"),
    ],
)
def test_every_supported_format_converts(
    tmp_path: Path, page_factory, prose_lines, suffix, save_options, mode
):
    page = page_factory(prose_lines(6, 2), dpi=200)
    image = page.image.point(lambda v: 255 if v > 128 else 0) if mode == "1" else page.image
    path = tmp_path / f"page{suffix}"
    image.convert(mode).save(path, dpi=(200, 200), **save_options)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output)
    assert words_of(pdftotext(output)) == words_of(page.text)
    assert result.pages[0].text.split() == page.text.split()


def test_transparent_images_are_drawn_on_white(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(8, 2), dpi=150)
    ink = page.image.point(lambda v: 255 - v)  # alpha: opaque where the text is
    rgba = Image.new("RGBA", page.image.size, (0, 0, 0, 0))
    rgba.putalpha(ink)
    path = tmp_path / "transparent.png"
    rgba.save(path, dpi=(150, 150))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output)
    assert words_of(result.pages[0].text) == words_of(page.text)
    shown = tmp_path / "shown"
    subprocess.run(
        ["pdftoppm", "-r", "30", "-gray", "-png", "-singlefile", str(output), str(shown)], check=True
    )
    assert ImageStat.Stat(Image.open(shown.with_suffix(".png"))).mean[0] > 200  # white paper, not black


def test_exif_orientation_is_applied(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(9, 3), dpi=150, size_inches=(8, 3))
    sideways = page.image.transpose(Image.Transpose.ROTATE_90)  # as the phone stored it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view"
    path = tmp_path / "photo.jpg"
    sideways.save(path, exif=exif, dpi=(150, 150), quality=92)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output)
    assert words_of(result.pages[0].text) == words_of(page.text)
    assert path.read_bytes() in output.read_bytes()  # the JPEG itself, turned by /Rotate
    shown = tmp_path / "shown"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", str(output), str(shown)], check=True
    )
    rendered = Image.open(shown.with_suffix(".png")).convert("L")
    assert rendered.size == page.image.size  # upright, landscape
    assert ImageStat.Stat(ImageChops.difference(rendered, page.image)).mean[0] < 8
    assert words_of(pdftotext(output)) == words_of(page.text)


def test_cancelling_after_the_last_page_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    buffer = io.BytesIO()
    page_of_width(0).save(buffer, format="PNG")

    async def main() -> None:
        task: asyncio.Task[pdfocr.Result]

        def progress(event: pdfocr.Progress) -> None:
            if event.done == event.total:
                task.cancel()

        task = asyncio.create_task(
            pdfocr.convert_async(
                [buffer.getvalue()] * 2, output, engine=SlowEngine(seconds=0.5), progress=progress
            )
        )
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert not output.exists()


def test_a_script_read_from_stdin_gets_a_clear_error(samples: Path, tmp_path: Path) -> None:
    script = (
        "import pdfocr\n"
        "try:\n"
        f"    pdfocr.convert({str(samples / 'page1.png')!r}, {str(tmp_path / 'out.pdf')!r})\n"
        "except pdfocr.UsageError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=60)
    assert "cannot start from the main script '<stdin>'" in done.stdout, done.stderr

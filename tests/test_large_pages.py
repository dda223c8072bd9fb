"""Large pages (large-format drawing scans): images over Pillow's own pixel limit (179
megapixels) but under pdfocr's, ``max_megapixels`` (1,000 by default), are converted by
the command and the library; one over pdfocr's limit is refused in one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

import pdfocr

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = ["DRAWING", "NORTH", "ELEVATION", "REVISION", "SHEET"]


def _drawing(path: Path, side: int) -> Path:
    """A 1-bit PNG ``side`` pixels square at 300 dpi: a frame, a grid, and words in
    letters 2 cm high (legible on the engine's copy, which is a quarter of the pixels or less)."""
    image = Image.new("1", (side, side), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle([100, 100, side - 100, side - 100], outline=0, width=12)
    for at in range(side // 8, side, side // 8):
        draw.line([(at, 400), (at, side - 400)], fill=0, width=4)
    font = ImageFont.truetype(FONT, 240)
    for row, word in enumerate(WORDS):
        draw.text((side // 6, 600 + row * (side // 6)), f"{word} {row + 1}", font=font, fill=0)
    image.save(path, dpi=(300, 300))
    return path


@pytest.fixture(scope="module")
def drawing_196mp(tmp_path_factory) -> Path:
    return _drawing(tmp_path_factory.mktemp("large") / "drawing.png", 14_000)  # 196 megapixels


def _check(output: Path, side: int, text: str) -> None:
    for word in WORDS:
        assert word in text, text
    with pikepdf.open(output) as document:
        (page,) = document.pages
        assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, side / 300 * 72, side / 300 * 72])
        (image,) = page.get_images().values()
        assert (image.Width, image.Height, image.BitsPerComponent) == (side, side, 1)  # every pixel kept


def test_the_command_converts_a_page_over_pillows_limit(cli, tmp_path: Path, drawing_196mp: Path) -> None:
    output = tmp_path / "drawing.pdf"
    run = cli(str(drawing_196mp), "-o", str(output), timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    text = subprocess.run(["pdftotext", str(output), "-"], capture_output=True, text=True, check=True).stdout
    _check(output, 14_000, text)


def test_the_library_converts_it_and_leaves_pillows_limit_alone(tmp_path: Path, drawing_196mp: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    output = tmp_path / "drawing.pdf"
    result = pdfocr.convert(drawing_196mp, output, output_type="pdf")
    _check(output, 14_000, result.text)
    assert before == Image.MAX_IMAGE_PIXELS


def test_a_page_over_the_limit_is_refused_in_one_line(cli, tmp_path: Path, drawing_196mp: Path) -> None:
    output = tmp_path / "drawing.pdf"
    run = cli(str(drawing_196mp), "-o", str(output), "--max-megapixels", "150")
    assert run.returncode == 3
    assert run.stderr.strip() == (
        f"pdfocr: error: {drawing_196mp}: refused: 14000x14000 pixels (196 megapixels) is over the limit "
        "of 150 megapixels (a decompression bomb?)"
    )
    assert not output.exists()


@pytest.mark.slow
def test_a_page_near_the_default_limit_is_converted(tmp_path: Path) -> None:
    drawing = _drawing(tmp_path / "huge.png", 31_500)  # 992 megapixels, under 1,000
    output = tmp_path / "huge.pdf"
    result = pdfocr.convert(drawing, output, output_type="pdf")
    _check(output, 31_500, result.text)

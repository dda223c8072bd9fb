"""Property tests (Hypothesis): any image Pillow can write, in any mode, size and resolution,
becomes a PDF that qpdf accepts, one page per image, each page the right size; and no
bytes whatever make pdfocr fail with anything but an input error.

The pages go through the whole pipeline with a fast fake engine (the text layer still
drawn); the real engine's part is covered elsewhere.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import EchoEngine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from pypdf import PdfReader

import pdfocr
from pdfocr.errors import InputError

# Pillow modes, and the formats pdfocr reads that can store each.
FORMATS = {
    "1": ["PNG", "TIFF", "BMP", "GIF", "WEBP"],
    "L": ["PNG", "TIFF", "JPEG", "BMP", "GIF", "WEBP"],
    "P": ["PNG", "TIFF", "BMP", "GIF", "WEBP"],
    "RGB": ["PNG", "TIFF", "JPEG", "BMP", "WEBP"],
    "RGBA": ["PNG", "TIFF", "WEBP"],
    "CMYK": ["TIFF", "JPEG"],
    "YCbCr": ["TIFF", "JPEG"],
    "LAB": ["TIFF"],
    "I": ["TIFF"],
    "F": ["TIFF"],
    "LA": ["PNG", "TIFF"],
    "PA": ["TIFF"],
    "I;16": ["PNG", "TIFF"],
    "I;16B": ["PNG", "TIFF"],
    "RGBX": ["TIFF", "JPEG"],
}
# Resolutions an image may declare, sensible or not (pdfocr falls back to 300 dpi outside
# 10 to 10,000).
ODD_DPI = [0.001, 1.0, 9.99, 10.0, 72.27, 96.0, 299.9994, 300.0, 1200.0, 10_000.0, 10_001.0, 1e7]
FALLBACK_DPI = 300.0
MIN_POINTS, MAX_POINTS = 3.0, 14_400.0


@pytest.fixture(scope="module")
def converter() -> Iterator[pdfocr.Converter]:
    with pdfocr.Converter(jobs=2) as shared:
        yield shared


@st.composite
def scans(draw: st.DrawFn) -> tuple[bytes, tuple[int, int]]:
    """An image file: any mode, size from 1x1 to 30 megapixels, with or without a dpi."""
    mode = draw(st.sampled_from(sorted(FORMATS)))
    form = draw(st.sampled_from(FORMATS[mode]))
    side = st.integers(1, 64) | st.integers(65, 3000) | st.sampled_from([1, 2, 7000])
    width, height = draw(side), draw(side)
    if width * height > 30_000_000:
        height = max(1, 30_000_000 // width)
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, width // 2, height // 2), fill=0)
    image = image.convert(mode) if mode not in ("I;16", "I;16B") else image.convert("I").convert(mode)
    options: dict[str, object] = {}
    dpi = draw(st.none() | st.sampled_from(ODD_DPI) | st.floats(10, 2400))
    if dpi is not None and form in ("PNG", "TIFF", "JPEG", "BMP"):
        options["dpi"] = (dpi, draw(st.sampled_from([dpi, dpi / 2, 150.0])))
    if form == "WEBP":
        options["lossless"] = True
    buffer = io.BytesIO()
    image.save(buffer, format=form, **options)
    return buffer.getvalue(), (width, height)


def _expected_points(data: bytes) -> tuple[float, float]:
    """The page size the image should get: its declared dpi if sensible, else 300, then
    kept within what PDF viewers accept (3 pt to 200 in)."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        declared = image.info.get("dpi") or (0, 0)
    x, y = (float(value) for value in declared)
    if not (10 <= x <= 10_000 and 10 <= y <= 10_000):
        x = y = FALLBACK_DPI
    points = [width * 72 / x, height * 72 / y]
    # Scaled as a whole into the limits if it fits; an extreme strip is stretched too.
    if max(points) > MAX_POINTS:
        points = [side * MAX_POINTS / max(points) for side in points]
    elif min(points) < MIN_POINTS:
        points = [side * min(MIN_POINTS / min(points), MAX_POINTS / max(points)) for side in points]
    return tuple(min(max(side, MIN_POINTS), MAX_POINTS) for side in points)  # type: ignore[return-value]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(scans(), min_size=1, max_size=3))
def test_any_image_makes_a_valid_pdf_of_the_right_size(
    converter: pdfocr.Converter, tmp_path: Path, images: list[tuple[bytes, tuple[int, int]]]
) -> None:
    output = tmp_path / "out.pdf"
    result = converter.convert([data for data, _ in images], output, engine=EchoEngine())
    assert result.page_count == len(images)
    check = subprocess.run(["qpdf", "--check", str(output)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    pages = PdfReader(output).pages
    assert len(pages) == len(images)
    for page, (data, _) in zip(pages, images, strict=True):
        width, height = _expected_points(data)
        assert float(page.mediabox.width) == pytest.approx(width, rel=0.002)
        assert float(page.mediabox.height) == pytest.approx(height, rel=0.002)


def _valid_files() -> list[bytes]:
    files = []
    for form in ("PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP"):
        buffer = io.BytesIO()
        Image.new("L", (40, 30), 200).save(buffer, format=form)
        files.append(buffer.getvalue())
    return files


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """Random bytes, or a valid image file cut short or with bytes changed."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=4000))
    data = bytearray(draw(st.sampled_from(_valid_files())))
    if draw(st.booleans()):
        return bytes(data[: draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damaged())
def test_any_bytes_give_a_pdf_or_an_input_error(
    converter: pdfocr.Converter, tmp_path: Path, data: bytes
) -> None:
    output = tmp_path / "out.pdf"
    output.unlink(missing_ok=True)
    try:
        converter.convert(data, output, engine=EchoEngine())
    except InputError as error:
        assert re.match(r"<input 1>( \(page \d+\))?: ", str(error)), error
        assert not output.exists()
    else:
        assert PdfReader(output).pages

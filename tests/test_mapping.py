"""Points mapped between the images of one page (pdfocr's turned, straightened and
flattened copies, and the image shown): each mapping checked against the image operation
it undoes, on a mark whose place is found in the pixels."""

from __future__ import annotations

import numpy
import pytest
from PIL import Image, ImageDraw

from pdfocr.inputs import LoadedPage, turned, turned_point
from pdfocr.model import Block, Box, Line, PageText, Word
from pdfocr.photo import Sheet, photo_point
from pdfocr.preprocess import unstraightened_point


def _mark(size: tuple[int, int], at: tuple[int, int], radius: int = 4) -> Image.Image:
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).ellipse([at[0] - radius, at[1] - radius, at[0] + radius, at[1] + radius], fill=0)
    return image


def _where(image: Image.Image) -> tuple[float, float]:
    """The middle of the mark's ink (pixel centres)."""
    ys, xs = numpy.nonzero(numpy.asarray(image.convert("L")) < 128)
    return float(xs.mean()) + 0.5, float(ys.mean()) + 0.5


@pytest.mark.parametrize("clockwise", [0, 90, 180, 270])
def test_a_point_turns_with_its_page(clockwise: int) -> None:
    size, at = (300, 200), (60, 40)
    page = LoadedPage(image=_mark(size, at), dpi=(300, 300))
    mark = _where(page.image)
    assert turned_point(mark, size, clockwise) == pytest.approx(
        _where(turned(page, clockwise).image), abs=0.01
    )


@pytest.mark.parametrize("angle", [-4.0, 2.5, 7.0])
def test_a_point_of_a_straightened_page_goes_back_where_it_lay(angle: float) -> None:
    size, at = (400, 300), (330, 60)
    image = _mark(size, at)
    # As preprocess.straightened turns a page: counter-clockwise about its middle.
    rotated = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    assert unstraightened_point(_where(rotated), size, angle) == pytest.approx(_where(image), abs=0.3)


def test_a_point_of_the_flattened_sheet_lies_where_the_photo_shows_it() -> None:
    corners = ((110.0, 80.0), (900.0, 130.0), (950.0, 1200.0), (60.0, 1150.0))
    sheet = Sheet(corners=corners, width=800, height=1100)
    point = photo_point(sheet)
    flat_corners = ((0, 0), (800, 0), (800, 1100), (0, 1100))
    for flat, seen in zip(flat_corners, corners, strict=True):
        assert point(flat) == pytest.approx(seen, abs=1e-6)
    # The sheet's middle is where the photo's diagonals cross (a perspective keeps lines straight).
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = corners
    t = ((dx - ax) * (dy - by) - (dy - ay) * (dx - bx)) / ((cx - ax) * (dy - by) - (cy - ay) * (dx - bx))
    assert point((400, 550)) == pytest.approx((ax + t * (cx - ax), ay + t * (cy - ay)), abs=1e-6)


def test_text_mapped_onto_another_image_keeps_its_words_and_tilts_its_baseline() -> None:
    word = Word("sheet", Box(100, 80, 200, 100), confidence=93.0)
    line = Line(words=(word,), box=Box(100, 80, 200, 100), baseline=97.0, slope=0.0)
    text = PageText(width=400, height=300, blocks=(Block((line,)),))

    def tilted(point: tuple[float, float]) -> tuple[float, float]:  # sheared: y grows with x
        return 2 * point[0], 2 * point[1] + 0.1 * point[0]

    mapped = text.mapped(tilted, 800, 640)
    (moved_line,) = mapped.blocks[0].lines
    (moved,) = moved_line.words
    assert (mapped.width, mapped.height) == (800, 640)
    assert (moved.text, moved.confidence) == ("sheet", 93.0)
    assert moved.box == Box(200, 170, 400, 220)
    assert moved_line.slope == pytest.approx(0.05)
    assert moved_line.baseline == pytest.approx(2 * 97 + 0.1 * 100)

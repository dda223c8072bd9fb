"""The real Tesseract engine on drawn pages."""

from __future__ import annotations

import pytest
from conftest import words_of
from PIL import Image

from pdfocr.engines import resolve_engine
from pdfocr.engines.tesseract import TesseractEngine, installed_languages
from pdfocr.errors import DependencyError, UsageError


@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "command"])
def test_recognizes_words_where_they_are_drawn(page_factory, prose_lines, in_process: bool) -> None:
    page = page_factory(prose_lines(1, 4), dpi=200)
    found = TesseractEngine(in_process=in_process).recognize(page.image, languages=("eng",), dpi=200)
    assert words_of(found.text) == words_of(page.text)
    drawn = page.words
    assert len(found.lines) == len(page.lines)
    for got, want in zip((w for line in found.lines for w in line.words), drawn, strict=True):
        assert got.text == want.text
        # Tesseract boxes the ink; Pillow's text box can differ by a pixel or two.
        for got_edge, want_edge in zip(
            (got.box.left, got.box.top, got.box.right, got.box.bottom), want.box, strict=True
        ):
            assert got_edge == pytest.approx(want_edge, abs=4)
    for line in found.lines:
        assert line.baseline is not None
        assert line.box.top < line.baseline <= line.box.bottom


@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "command"])
def test_missing_language_lists_the_installed_ones(in_process: bool) -> None:
    installed = installed_languages()
    assert "eng" in installed
    with pytest.raises(DependencyError) as caught:
        TesseractEngine(in_process=in_process).check(["eng", "xyz"])
    message = str(caught.value)
    assert "xyz" in message
    languages = [code for code in installed if code != "osd"]  # orientation data, not a language
    assert f"(installed: {', '.join(languages)})" in message
    assert "tesseract-ocr-xyz" in message


def test_missing_program_says_how_to_install() -> None:
    with pytest.raises(DependencyError, match="apt-get install tesseract-ocr"):
        TesseractEngine(program="no-such-tesseract", in_process=False).check(["eng"])


def test_unknown_engine_name() -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'nope'.*tesseract"):
        resolve_engine("nope")


@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "command"])
def test_orientation_is_detected(page_factory, prose_lines, in_process: bool) -> None:
    page = page_factory(prose_lines(2, 14), dpi=150)
    engine = TesseractEngine(in_process=in_process)
    for turned in (0, 90, 180, 270):
        found = engine.detect_rotation(page.image.rotate(turned, expand=True), dpi=150)
        assert found is not None
        assert found[0] == turned
    assert engine.detect_rotation(Image.new("L", (400, 400), 255), dpi=150) is None

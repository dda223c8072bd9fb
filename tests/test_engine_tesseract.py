"""The real Tesseract engine on drawn pages."""

from __future__ import annotations

import pytest
from conftest import words_of

from pdfocr.engines import resolve_engine
from pdfocr.engines.tesseract import TesseractEngine, installed_languages
from pdfocr.errors import DependencyError, UsageError


def test_recognizes_words_where_they_are_drawn(page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(1, 4), dpi=200)
    found = TesseractEngine().recognize(page.image, languages=("eng",), dpi=200)
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


def test_missing_language_lists_the_installed_ones() -> None:
    installed = installed_languages()
    assert "eng" in installed
    with pytest.raises(DependencyError) as caught:
        TesseractEngine().check(["eng", "xyz"])
    message = str(caught.value)
    assert "xyz" in message
    assert ", ".join(installed) in message
    assert "tesseract-ocr-xyz" in message


def test_missing_program_says_how_to_install() -> None:
    with pytest.raises(DependencyError, match="apt-get install tesseract-ocr"):
        TesseractEngine(program="no-such-tesseract").check(["eng"])


def test_unknown_engine_name() -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'nope'.*tesseract"):
        resolve_engine("nope")

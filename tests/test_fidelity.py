"""Text layer fidelity, end to end with the real Tesseract: whatever text the engine
returns comes back out of the PDF (pdftotext and pypdf) in reading order, line by line,
and every word sits where the engine saw it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from conftest import pdftotext, pdftotext_words, save_page
from pypdf import PdfReader
from synthetic_pages import CJK

import pdfocr
from pdfocr.engines.tesseract import TesseractEngine
from pdfocr.inputs import expand_inputs, load_page

# pdftotext marks right-to-left runs with Unicode embedding controls; they are not text.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _lines(text: str) -> list[str]:
    clean = _BIDI_CONTROLS.sub("", unicodedata.normalize("NFC", text))
    return [" ".join(line.split()) for line in clean.splitlines() if line.strip()]


def _round_trip(tmp_path: Path, image_path: Path, languages: str) -> tuple[str, Path]:
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(image_path, output, languages=languages, jobs=1)
    return result.pages[0].text, output


def test_accented_latin(tmp_path: Path, page_factory) -> None:
    lines = ["Le café où nous étions était déjà fermé.", "Ça coûte vingt-huit euros à Noël, voilà."]
    page = page_factory(lines, dpi=300, points=14)
    engine_text, pdf = _round_trip(tmp_path, save_page(page, tmp_path / "fr.png"), "fra")
    assert _lines(engine_text) == lines  # the engine read it right...
    assert _lines(pdftotext(pdf)) == lines  # ...and the PDF gives back exactly that
    assert _lines(PdfReader(pdf).pages[0].extract_text()) == lines


def test_chinese(tmp_path: Path, page_factory) -> None:
    lines = ["扫描文件变成可搜索的文档", "每一页都保留原始图像"]
    page = page_factory(lines, dpi=300, points=16, font=CJK, separator="")
    engine_text, pdf = _round_trip(tmp_path, save_page(page, tmp_path / "zh.png"), "chi_sim")
    engine_lines = _lines(engine_text)
    assert engine_lines == lines
    assert _lines(pdftotext(pdf)) == engine_lines
    assert _lines(PdfReader(pdf).pages[0].extract_text()) == engine_lines


@pytest.mark.skipif(
    "heb" not in pdfocr.engines.tesseract.installed_languages(), reason="needs tesseract-ocr-heb"
)
def test_hebrew_right_to_left(tmp_path: Path, page_factory) -> None:
    lines = ["שלום עולם וברוכים הבאים", "המסמך נסרק במשרד הראשי"]
    # Whole lines are drawn at once so that Pillow lays them out right to left.
    page = page_factory(lines, dpi=300, points=14, separator="\n")
    engine_text, pdf = _round_trip(tmp_path, save_page(page, tmp_path / "he.png"), "heb")
    assert _lines(engine_text) == lines
    assert _lines(pdftotext(pdf)) == lines
    assert _lines(PdfReader(pdf).pages[0].extract_text()) == lines


def test_word_boxes_match_the_engine(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(5, 6), dpi=300, noise=True, seed=5)
    path = save_page(page, tmp_path / "page.png")
    (source,) = expand_inputs([path])
    loaded = load_page(source, 300)
    engine_words = [
        word
        for line in TesseractEngine().recognize(loaded.image, languages=("eng",), dpi=300).lines
        for word in line.words
    ]
    output = tmp_path / "out.pdf"
    pdfocr.convert(path, output)
    (pdf_words,) = pdftotext_words(output)
    assert [w.text for w in pdf_words] == [w.text for w in engine_words]
    scale = 72 / 300
    for got, want in zip(pdf_words, engine_words, strict=True):
        assert got.left == pytest.approx(want.box.left * scale, abs=1.0)
        assert got.right == pytest.approx(want.box.right * scale, abs=1.0)
        assert got.top <= want.box.top * scale + 1.0
        assert got.bottom >= want.box.bottom * scale - 2.0

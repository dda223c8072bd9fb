"""Text layer fidelity, end to end with the real Tesseract: whatever text the engine
returns comes back out of the PDF (pdftotext and pypdf) in reading order, line by line,
and every word sits where the engine saw it."""

from __future__ import annotations

import re
import statistics
import subprocess
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from conftest import pdftotext, pdftotext_words, save_page, words_of
from pdfminer.high_level import extract_text as pdfminer_text
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from synthetic_pages import CJK, PROSE, SANS, font_path

import pdfocr
from pdfocr.engines.tesseract import TesseractEngine
from pdfocr.inputs import expand_inputs, load_page
from pdfocr.options import ConvertOptions

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
    loaded = load_page(source, ConvertOptions(dpi=300))
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


def _two_column_page(page_factory) -> tuple[Image.Image, list[str], list[str]]:
    """A Letter page of two justified-looking columns, lines 1.5 apart (widely spaced)."""
    dpi, points = 200, 10
    words = " ".join(PROSE * 3).split()
    face = ImageFont.truetype(font_path(SANS), round(points * dpi / 72))
    image = Image.new("L", (round(8.5 * dpi), round(11 * dpi)), 255)
    draw = ImageDraw.Draw(image)
    width = round(3.4 * dpi)
    lines, current = [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=face) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    half = (len(lines) + 1) // 2
    columns = [lines[:half], lines[half:]]
    for number, column in enumerate(columns):
        left = round(0.75 * dpi) + number * (width + round(0.35 * dpi))
        for index, line in enumerate(column):
            draw.text((left, 200 + index * round(points * 1.5 * dpi / 72)), line, font=face, fill=0)
    image.info["dpi"] = (dpi, dpi)
    return image, columns[0], columns[1]


def test_two_columns_come_out_column_by_column(tmp_path: Path, page_factory) -> None:
    image, first, second = _two_column_page(page_factory)
    path = tmp_path / "columns.png"
    image.save(path, dpi=image.info["dpi"])
    output = tmp_path / "out.pdf"
    pdfocr.convert(path, output)
    expected = [" ".join(column) for column in (first, second)]
    for extracted in (
        pdftotext(output),
        PdfReader(output).pages[0].extract_text(),
        pdfminer_text(str(output)),
    ):
        flowing = " ".join(extracted.split())
        # Column one entirely before column two, each in its own reading order.
        assert words_of(flowing) == words_of(" ".join(expected)), extracted[:300]


def test_words_are_neither_glued_nor_split(tmp_path: Path, samples: Path, expected_sample_pages) -> None:
    output = tmp_path / "out.pdf"
    pdfocr.convert(samples / "page1.png", output)
    expected = expected_sample_pages[0].split()
    for extracted in (
        pdftotext(output),
        PdfReader(output).pages[0].extract_text(),
        pdfminer_text(str(output)),
    ):
        got = extracted.split()
        matching = SequenceMatcher(None, got, expected).ratio()
        assert matching > 0.97, extracted


def test_text_layer_lines_up_with_the_ink(tmp_path: Path, page_factory, prose_lines) -> None:
    """The alignment bound (issue 3): median left and right edge error under 1 pt against
    the drawn ink, and every word's box covering its ink vertically."""
    pages = [page_factory(prose_lines(n, 8), dpi=300, points=10 + n, noise=True, seed=n) for n in (1, 2)]
    paths = [save_page(page, tmp_path / f"page{n}.png") for n, page in enumerate(pages)]
    output = tmp_path / "out.pdf"
    pdfocr.convert(paths, output)
    left_errors, right_errors = [], []
    for page, found in zip(pages, pdftotext_words(output), strict=True):
        matcher = SequenceMatcher(None, [w.text for w in page.words], [w.text for w in found], autojunk=False)
        scale = 72 / page.dpi
        for block in matcher.get_matching_blocks():
            for offset in range(block.size):
                want, got = page.words[block.a + offset], found[block.b + offset]
                left_errors.append(abs(got.left - want.box[0] * scale))
                right_errors.append(abs(got.right - want.box[2] * scale))
                assert got.top <= want.box[1] * scale + 0.5
                assert got.bottom >= want.box[3] * scale - 0.5
    assert len(left_errors) > 0.9 * sum(len(page.words) for page in pages)
    assert statistics.median(left_errors) < 1
    assert statistics.median(right_errors) < 1


def test_mupdf_reads_every_line_of_a_straight_page(tmp_path: Path, page_factory, prose_lines) -> None:
    # Lines that run exactly straight across the page: MuPDF used to take the characters
    # of the glyphless font as empty boxes, and drop them.
    lines = prose_lines(7, 6)
    page = page_factory(lines, dpi=300, points=12)
    engine_text, pdf = _round_trip(tmp_path, save_page(page, tmp_path / "straight.png"), "eng")
    mutool = subprocess.run(
        ["mutool", "draw", "-F", "txt", "-o", "-", str(pdf)], capture_output=True, text=True
    )
    assert mutool.returncode == 0, mutool.stderr
    assert _lines(mutool.stdout) == _lines(engine_text) == lines

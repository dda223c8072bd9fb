"""The renderer on its own: text placed from a known page model (no OCR involved)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import pdftotext, pdftotext_words
from extractors import EXTRACTORS
from hard_pages import compare
from PIL import Image
from pypdf import PdfReader
from synthetic_pages import CJK, DrawnPage

from pdfocr.inputs import LoadedPage
from pdfocr.model import Block, Box, Line, PageText, Word
from pdfocr.render import page_size, render_page


def _model(page: DrawnPage) -> PageText:
    """The page model an ideal engine would return for a drawn page."""
    lines = []
    for drawn in page.lines:
        words = tuple(Word(w.text, Box(*w.box)) for w in drawn)
        box = Box(
            min(w.box.left for w in words),
            min(w.box.top for w in words),
            max(w.box.right for w in words),
            max(w.box.bottom for w in words),
        )
        lines.append(Line(words=words, box=box))
    return PageText(page.image.width, page.image.height, (Block(tuple(lines)),))


def _render(page: DrawnPage, tmp_path: Path, model: PageText | None = None) -> Path:
    loaded = LoadedPage(image=page.image, dpi=(page.dpi, page.dpi))
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_page(loaded, model or _model(page)))
    return pdf


def test_words_land_on_their_boxes(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(1, 4), dpi=200)
    pdf = _render(page, tmp_path)
    (found,) = pdftotext_words(pdf)
    drawn = page.words
    assert [w.text for w in found] == [w.text for w in drawn]
    scale = 72 / page.dpi
    for got, want in zip(found, drawn, strict=True):
        left, top, right, bottom = (v * scale for v in want.box)
        assert got.left == pytest.approx(left, abs=0.5)
        assert got.right == pytest.approx(right, abs=0.5)
        # The selection box covers the word's ink vertically.
        assert got.top <= top + 0.5
        assert got.bottom >= bottom - 0.5


def test_lines_come_out_one_per_line_in_order(tmp_path: Path, page_factory, prose_lines) -> None:
    lines = prose_lines(2, 5)
    pdf = _render(page_factory(lines, dpi=150), tmp_path)
    extracted = [line for line in pdftotext(pdf).splitlines() if line.strip()]
    assert extracted == lines
    pypdf_lines = [
        line.strip() for line in PdfReader(pdf).pages[0].extract_text().splitlines() if line.strip()
    ]
    assert pypdf_lines == lines


def test_cjk_words_are_joined_without_spaces(tmp_path: Path, page_factory) -> None:
    lines = ["扫描文件变成可搜索的文档", "每一页都保留原始图像"]
    page = page_factory(lines, font=CJK, separator="", dpi=200)
    pdf = _render(page, tmp_path)
    assert [line for line in pdftotext(pdf).splitlines() if line.strip()] == lines
    assert "".join(PdfReader(pdf).pages[0].extract_text().split()) == "".join(lines)


def test_any_unicode_survives(tmp_path: Path) -> None:
    image = Image.new("L", (1000, 200), 255)
    texts = ["naïve", "façade", "Ωμέγα", "Привет", "שלום", "مرحبا", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]
    words = tuple(Word(text, Box(20 + 130 * i, 50, 130 + 130 * i, 90)) for i, text in enumerate(texts))
    model = PageText(1000, 200, (Block((Line(words=words, box=Box(20, 50, 940, 90)),)),))
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_page(LoadedPage(image=image, dpi=(100, 100)), model))
    extracted = PdfReader(pdf).pages[0].extract_text()
    for text in texts[:-1]:
        assert text in extracted
    assert "naïve" in pdftotext(pdf)


@pytest.mark.parametrize(
    ("size", "dpi", "points"), [((850, 1100), 100, (612, 792)), ((2480, 3508), 300, None)]
)
def test_page_size_is_pixels_over_dpi(size, dpi, points) -> None:
    page = LoadedPage(image=Image.new("L", size, 255), dpi=(dpi, dpi))
    width, height = page_size(page)
    assert (width, height) == pytest.approx((size[0] * 72 / dpi, size[1] * 72 / dpi))
    if points:
        assert (width, height) == pytest.approx(points)
    rendered = PdfReader(io.BytesIO(render_page(page, PageText(size[0], size[1])))).pages[0]
    assert (float(rendered.mediabox.width), float(rendered.mediabox.height)) == pytest.approx((width, height))


def test_jpeg_is_embedded_byte_for_byte(tmp_path: Path, page_factory, prose_lines) -> None:
    page = page_factory(prose_lines(3, 3), dpi=150)
    buffer = io.BytesIO()
    page.image.save(buffer, format="JPEG", quality=85)
    jpeg = buffer.getvalue()
    loaded = LoadedPage(image=Image.open(io.BytesIO(jpeg)), dpi=(150, 150), original=jpeg)
    pdf = render_page(loaded, _model(page))
    assert jpeg in pdf


def test_text_follows_the_image_when_the_original_cannot_be_embedded(
    tmp_path: Path, page_factory, prose_lines
) -> None:
    page = page_factory(prose_lines(4, 3), dpi=150)
    # An original img2pdf refuses: the upright pixels go in instead, with no /Rotate,
    # and the text must not be turned for a rotation that did not happen.
    loaded = LoadedPage(image=page.image, dpi=(150, 150), original=b"not an image", rotation=90)
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_page(loaded, _model(page)))
    assert PdfReader(pdf).pages[0].get("/Rotate", 0) == 0
    (found,) = pdftotext_words(pdf)
    assert [w.text for w in found] == [w.text for w in page.words]
    for got, want in zip(found, page.words, strict=True):
        assert got.left == pytest.approx(want.box[0] * 72 / 150, abs=0.5)


SCRIPTS = [
    "naïve façade résumé Ærøskøbing",
    "Ωμέγα Привет Ελλάδα",
    "扫描文件变成可搜索的文档",
    "plain text",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁",
    "ﬁ ligature ½ €100 “quoted”",
]


@pytest.mark.parametrize("extractor", list(EXTRACTORS))
def test_every_character_extracts_in_every_extractor(tmp_path: Path, extractor: str) -> None:
    """Each line in another script, past U+FFFF too, comes back as it went in: the
    layer's font shows every character with its code point as its code, so the text is
    right whether an extractor reads the ToUnicode map (most) or not (Ghostscript)."""
    image = Image.new("L", (1400, 100 + 80 * len(SCRIPTS)), 255)
    lines = []
    for row, line_text in enumerate(SCRIPTS):
        top, x = 60 + 80 * row, 40.0
        words = []
        for word_text in line_text.split():
            width = 38.0 * len(word_text)
            words.append(Word(word_text, Box(x, top, x + width, top + 50)))
            x += width + 25
        lines.append(Line(words=tuple(words), box=Box(40, top, x - 25, top + 50), baseline=top + 40))
    model = PageText(image.width, image.height, (Block(tuple(lines)),))
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_page(LoadedPage(image=image, dpi=(200, 200)), model))
    expected, extracted = SCRIPTS, EXTRACTORS[extractor](pdf)
    if extractor == "ghostscript":
        # Ghostscript reads the map, but writes each half of a surrogate pair (which is
        # how ToUnicode holds a character past U+FFFF) as a character of its own: that
        # line comes out as U+FFFD, every other line as it went in.
        expected = [line for line in SCRIPTS if all(ord(char) <= 0xFFFF for char in line)]
        extracted = "\n".join(line for line in extracted.splitlines() if "\ufffd" not in line)
    assert compare("\n".join(expected), extracted) == (1.0, 0.0)

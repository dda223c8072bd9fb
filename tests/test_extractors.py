"""The text layer reads right everywhere: every hard page of ``scripts/hard_pages.py``
(skewed, sideways, upside down, a tight table, right-to-left, Chinese, two columns), made
searchable with the real Tesseract and read back with the real extractors of
``scripts/extractors.py`` (poppler, PDFium, pdf.js, MuPDF, Ghostscript, pypdf,
pdfminer.six), gives the engine's lines, whole and in order.

Where an extractor cannot read a case in order, it is listed in ``OUT_OF_ORDER`` with
the reason (bench/extractors.py measures how far off it is, also for Tesseract's own PDFs
and OCRmyPDF's); there it must still give back every character, none lost or added."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import img2pdf
import pytest
from extractors import EXTRACTORS
from hard_pages import CASES, DPI, compare, lines_of

import pdfocr

OUT_OF_ORDER: dict[str, dict[str, str]] = {
    # Text turned a quarter: poppler's raw mode continues a line only rightwards across
    # the page, Ghostscript's txtwrite and pdfminer.six lay it out a character per line.
    "sideways": dict.fromkeys(["pdftotext -raw", "ghostscript", "pdfminer"], "text turned a quarter"),
    # Stored in display order (what PDF producers do): only pdf.js applies the Unicode
    # bidirectional algorithm to it whole; MuPDF, Ghostscript and pdfminer.six give the
    # display order, poppler moves a space at runs of digits, PDFium and pypdf mix both.
    "right-to-left": {
        name: "display order"
        for name in ["pdftotext", "pdftotext -raw", "pdfium", "mupdf", "ghostscript", "pypdf", "pdfminer"]
    },
    # Ghostscript orders text by its height on the page, whatever the columns.
    "two columns": {"ghostscript": "lines side by side"},
    # A form's boxes side by side: poppler and pdfminer.six read their labels' row, then
    # their values' row, Ghostscript by height on the page; the engine (and PDFium, pdf.js,
    # MuPDF, pypdf, poppler's raw mode) box by box.
    "boxed form": dict.fromkeys(["pdftotext", "ghostscript", "pdfminer"], "labels' row, then values'"),
    # Noise at the streak overlaps two letters' boxes: poppler's raw mode joins them.
    "streaked fax": {"pdftotext -raw": "a space lost where noise boxes overlap"},
}
UNORDERED = {"sideways"}
"""Lines that run down the page come out whole, but not always in the engine's order."""


def _characters(text: str) -> Counter[str]:
    return Counter(char for char in "".join(lines_of(text)) if not char.isspace())


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Every hard page as a searchable PDF, with the engine's own text for it."""
    folder = tmp_path_factory.mktemp("hard")
    found = {}
    for name, make in CASES.items():
        case = make()
        image = folder / f"{name.replace(' ', '-')}.png"
        case.image.save(image, dpi=(DPI, DPI))
        output = image.with_suffix(".pdf")
        # Tesseract's reading of the page as it lies: the layer is under test, lines
        # running down the page and upside down included.
        result = pdfocr.convert(
            image, output, languages=case.languages, output_type="pdf", rotate_pages=False, engine="tesseract"
        )
        found[name] = (output, result.pages[0].text)
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_every_extractor_reads_the_engines_lines(made: dict[str, tuple[Path, str]], case: str) -> None:
    pdf, engine_text = made[case]
    assert lines_of(engine_text), case  # the engine read something
    out_of_order = OUT_OF_ORDER.get(case, {})
    assert "pdf.js" not in out_of_order  # every case is read right by Firefox, at least
    for name in EXTRACTORS:
        text = EXTRACTORS[name](pdf)
        if name in out_of_order:
            why = out_of_order[name]
            assert _characters(text) == _characters(engine_text), f"{name} on {case} ({why}):\n{text}"
            continue
        if case in UNORDERED:
            right = sorted(lines_of(text)) == sorted(lines_of(engine_text))
        else:
            right = compare(engine_text, text) == (1.0, 0.0)
        assert right, f"{name} on {case}:\n{text}"


@pytest.mark.parametrize("rotation", [0, 90])
def test_a_scanned_pdfs_layer_reads_right_everywhere(tmp_path: Path, rotation: int) -> None:
    """On a PDF's page the layer is drawn in the page's own content (pdfminer.six runs the
    lines of a layer drawn as a form into each other), placed as the reader sees the
    page, also when /Rotate shows a sideways image upright."""
    upright = CASES["two columns"]().image
    stored = upright.rotate(rotation, expand=True)
    image = io.BytesIO()
    stored.save(image, format="PNG", dpi=(DPI, DPI))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert([image.getvalue()], rotation=img2pdf.Rotation[str(rotation)]))
    output = tmp_path / "searchable.pdf"
    engine_text = pdfocr.convert(scan, output, output_type="pdf").pages[0].text
    assert len(lines_of(engine_text)) > 20
    for name in EXTRACTORS:
        text = EXTRACTORS[name](output)
        if name == "ghostscript":  # two columns side by side (see OUT_OF_ORDER)
            assert _characters(text) == _characters(engine_text)
        else:
            assert compare(engine_text, text) == (1.0, 0.0), f"{name}:\n{text}"

"""The text layer reads right everywhere: every hard page of ``scripts/hard_pages.py``
(skewed, sideways, upside down, a tight table, right-to-left, Chinese, two columns), made
searchable with the real Tesseract and read back with the real extractors of
``scripts/extractors.py`` (poppler, PDFium, pdf.js, MuPDF, Ghostscript, pypdf,
pdfminer.six), gives the engine's lines, whole and in order.

Where an extractor does not read a case right yet, it is listed in ``NOT_YET`` (issue 13
is open on them; bench/extractors.py measures them) and not checked on that case."""

from __future__ import annotations

from pathlib import Path

import pytest
from extractors import EXTRACTORS
from hard_pages import CASES, DPI, compare, lines_of

import pdfocr

NOT_YET: dict[str, set[str]] = {
    "sideways": {"pdftotext -raw", "ghostscript", "pdfminer"},
    "right-to-left": {"pdftotext", "pdftotext -raw", "pdfium", "mupdf", "ghostscript", "pypdf", "pdfminer"},
    "two columns": {"pdftotext", "ghostscript"},
}
UNORDERED = {"sideways"}
"""Lines that run down the page come out whole, but not always in the engine's order."""


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
        result = pdfocr.convert(image, output, languages=case.languages, output_type="pdf")
        found[name] = (output, result.pages[0].text)
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_every_extractor_reads_the_engines_lines(made: dict[str, tuple[Path, str]], case: str) -> None:
    pdf, engine_text = made[case]
    assert lines_of(engine_text), case  # the engine read something
    checked = [name for name in EXTRACTORS if name not in NOT_YET.get(case, set())]
    assert "pdf.js" in checked  # every case is read right by Firefox, at least
    for name in checked:
        text = EXTRACTORS[name](pdf)
        if case in UNORDERED:
            right = sorted(lines_of(text)) == sorted(lines_of(engine_text))
        else:
            right = compare(engine_text, text) == (1.0, 0.0)
        assert right, f"{name} on {case}:\n{text}"

"""The text extractors that PDF viewers and document pipelines use, run on one PDF.

Shared by the tests and ``bench/extractors.py``: each function takes a PDF and returns
its text, pages separated by form feeds, as that extractor gives it:

- poppler's ``pdftotext`` (Evince, Okular), default and ``-raw``;
- PDFium (Chrome, Edge), through pypdfium2's text page;
- pdf.js (Firefox), ``tests/pdfjs/extract.mjs`` run by Node (``scripts/test-stack.sh``
  installs ``pdfjs-dist`` there);
- MuPDF's ``mutool draw -F txt`` (and PyMuPDF, which shares its code);
- Ghostscript's ``txtwrite`` device;
- pypdf and pdfminer.six.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PDFJS = ROOT / "tests" / "pdfjs"


def _run(command: list[str]) -> str:
    # Bytes that are not UTF-8 (Ghostscript writes the halves of a surrogate pair as
    # characters of their own) are shown as U+FFFD, and count as errors.
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def poppler(pdf: Path) -> str:
    return _run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"])


def poppler_raw(pdf: Path) -> str:
    return _run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"])


def pdfium(pdf: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return "\f".join(page.get_textpage().get_text_range().replace("\r\n", "\n") for page in document)
    finally:
        document.close()


def pdfjs(pdf: Path) -> str:
    return _run(["node", str(PDFJS / "extract.mjs"), str(pdf)])


def mupdf(pdf: Path) -> str:
    pages = _run(["mutool", "draw", "-F", "txt", "-o", "-", str(pdf)])
    return pages.replace("\n\f", "\f")


def ghostscript(pdf: Path) -> str:
    command = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=txtwrite", "-sOutputFile=-", str(pdf)]
    return _run(command)


def pypdf(pdf: Path) -> str:
    from pypdf import PdfReader

    return "\f".join(page.extract_text() for page in PdfReader(pdf).pages)


def pdfminer(pdf: Path) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(pdf)


EXTRACTORS: dict[str, Callable[[Path], str]] = {
    "pdftotext": poppler,
    "pdftotext -raw": poppler_raw,
    "pdfium": pdfium,
    "pdf.js": pdfjs,
    "mupdf": mupdf,
    "ghostscript": ghostscript,
    "pypdf": pypdf,
    "pdfminer": pdfminer,
}
"""Every extractor, by the name tables and messages use."""

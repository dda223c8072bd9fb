"""A job's word outputs (hOCR, ALTO, PAGE XML, JSON lines; :mod:`pdfocr.words`), written
into its folder when it succeeds, beside its PDF and text, and served as they are."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..conversion import Result
from ..merge import write_bytes
from ..words import word_pages
from ..words.alto import to_alto
from ..words.hocr import to_hocr
from ..words.jsonl import to_json_lines
from ..words.pagexml import page_file_name, to_page_xml

RESULT_HOCR = "result.hocr"
RESULT_ALTO = "result.alto.xml"
RESULT_PAGE_XML = "result.page.zip"
"""PAGE XML holds a page per document: the job's are in one ZIP archive."""
RESULT_WORDS = "result.words.jsonl"

MEDIA_TYPES = {
    RESULT_HOCR: "application/xhtml+xml",
    RESULT_ALTO: "application/xml",
    RESULT_PAGE_XML: "application/zip",
    RESULT_WORDS: "application/x-ndjson",
}


def write_word_results(folder: Path, result: Result) -> None:
    """Every word output of ``result`` into ``folder`` (each file replaced atomically)."""
    pages = word_pages(result.pages)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as written:
        for page in pages:
            written.writestr(page_file_name(page), to_page_xml(page))
    for name, data in (
        (RESULT_HOCR, to_hocr(pages).encode()),
        (RESULT_ALTO, to_alto(pages).encode()),
        (RESULT_PAGE_XML, archive.getvalue()),
        (RESULT_WORDS, to_json_lines(pages).encode()),
    ):
        write_bytes(folder / name, data)

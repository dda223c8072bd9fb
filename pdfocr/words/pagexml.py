"""PAGE XML 2019 (``http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15``),
which eScriptorium and Transkribus import. PAGE holds one page per document, so a bundle
is a document per page of the PDF (``page-0001.xml``, ...): a ``TextRegion`` per block
(its ``primaryLanguage`` where the page was read in one language PAGE names), a
``TextLine`` per line (with its ``Baseline`` where the engine gave one) and a ``Word``
per word, each with its ``Coords`` (pixels of the page as the PDF shows it) and its
``TextEquiv`` (``conf`` from 0 to 1); the regions in reading order (``ReadingOrder``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from ..model import Box, Line
from ..version import __version__
from . import PRODUCER, WordPage, block_box, line_box, pixel_box

NAMESPACE = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
SCHEMA = f"{NAMESPACE}/pagecontent.xsd"

LANGUAGE_NAMES = {
    "eng": "English", "deu": "German", "fra": "French", "ita": "Italian", "spa": "Spanish",
    "por": "Portuguese", "nld": "Dutch", "dan": "Danish", "swe": "Swedish", "nor": "Norwegian",
    "fin": "Finnish", "pol": "Polish", "ces": "Czech", "slk": "Slovak", "hun": "Hungarian",
    "ron": "Romanian", "hrv": "Croatian", "slv": "Slovenian", "lat": "Latin", "rus": "Russian",
    "ukr": "Ukrainian", "bul": "Bulgarian", "ell": "Greek", "tur": "Turkish", "heb": "Hebrew",
    "ara": "Arabic", "chi_sim": "Chinese", "chi_tra": "Chinese", "jpn": "Japanese", "kor": "Korean",
}  # fmt: skip
"""Tesseract's language codes and the names PAGE's ``LanguageSimpleType`` gives them."""


def page_file_name(page: WordPage) -> str:
    return f"page-{page.number:04d}.xml"


def to_page_xml(page: WordPage) -> str:
    """One page as a PAGE XML document."""
    root = ET.Element(
        "PcGts",
        {
            "xmlns": NAMESPACE,
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
            "pcGtsId": f"pdfocr_page_{page.number}",
        },
    )
    metadata = ET.SubElement(root, "Metadata")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    ET.SubElement(metadata, "Creator").text = f"{PRODUCER} {__version__}"
    ET.SubElement(metadata, "Created").text = now
    ET.SubElement(metadata, "LastChange").text = now
    width, height = page.size
    element = ET.SubElement(
        root, "Page", {"imageFilename": page.source, "imageWidth": str(width), "imageHeight": str(height)}
    )
    regions = [(number, block) for number, block in enumerate(page.text.blocks, start=1) if block.lines]
    if regions:
        order = ET.SubElement(
            ET.SubElement(element, "ReadingOrder"), "OrderedGroup", {"id": f"order_{page.number}"}
        )
        for index, (number, _) in enumerate(regions):
            ET.SubElement(order, "RegionRefIndexed", {"index": str(index), "regionRef": f"region_{number}"})
    language = LANGUAGE_NAMES.get(page.languages[0]) if len(page.languages) == 1 else None
    line_number = word_number = 0
    for number, block in regions:
        attributes = {"id": f"region_{number}"}
        if language:
            attributes["primaryLanguage"] = language
        region = ET.SubElement(element, "TextRegion", attributes)
        _coords(region, block_box(block))
        for line in block.lines:
            line_number += 1
            text_line = ET.SubElement(region, "TextLine", {"id": f"line_{line_number}"})
            _coords(text_line, line_box(line))
            if line.baseline is not None:
                ET.SubElement(text_line, "Baseline", {"points": _baseline(line)})
            for word in line.words:
                word_number += 1
                word_element = ET.SubElement(text_line, "Word", {"id": f"word_{word_number}"})
                _coords(word_element, word.box)
                _text(word_element, word.text, word.confidence)
            _text(text_line, line.text, None)
        _text(region, "\n".join(line.text for line in block.lines), None)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _coords(parent: ET.Element, box: Box) -> None:
    left, top, right, bottom = pixel_box(box.left, box.top, box.right, box.bottom)
    points = f"{left},{top} {right},{top} {right},{bottom} {left},{bottom}"
    ET.SubElement(parent, "Coords", {"points": points})


def _baseline(line: Line) -> str:
    assert line.baseline is not None
    left, right = line.box.left, line.box.right
    start, end = line.baseline, line.baseline + line.slope * (right - left)
    return f"{round(left)},{round(start)} {round(right)},{round(end)}"


def _text(parent: ET.Element, text: str, confidence: float | None) -> None:
    attributes = {} if confidence is None else {"conf": f"{max(0.0, min(100.0, confidence)) / 100:.3f}"}
    ET.SubElement(ET.SubElement(parent, "TextEquiv", attributes), "Unicode").text = text

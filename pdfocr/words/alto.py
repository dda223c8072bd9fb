"""ALTO v4 (``http://www.loc.gov/standards/alto/ns-v4#``): libraries' standard, which IIIF
"search within" services and library software import. One document for the bundle: a
``Page`` per page (``PHYSICAL_IMG_NR`` its number in the PDF), its ``PrintSpace`` the
page, a ``TextBlock`` per block, ``TextLine`` per line, ``String`` per word (``WC`` the
confidence from 0 to 1) with ``SP`` between; positions in pixels (``MeasurementUnit``
pixel) of the page as the PDF shows it. The input file of each page is in its
``Page``'s ``PRINTED_IMG_NR`` (its page within that file) and the document's
``sourceImageInformation`` lists the files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from ..model import Box
from ..version import __version__
from . import PRODUCER, WordPage, block_box, line_box, pixel_box

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-3.xsd"


def to_alto(pages: Sequence[WordPage]) -> str:
    """The pages as one ALTO v4 document."""
    alto = ET.Element(
        "alto",
        {
            "xmlns": NAMESPACE,
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
        },
    )
    description = ET.SubElement(alto, "Description")
    ET.SubElement(description, "MeasurementUnit").text = "pixel"
    information = ET.SubElement(description, "sourceImageInformation")
    for source in dict.fromkeys(page.source for page in pages):
        ET.SubElement(information, "fileName").text = source
    processing = ET.SubElement(description, "OCRProcessing", {"ID": "processing_1"})
    step = ET.SubElement(processing, "ocrProcessingStep")
    ET.SubElement(step, "processingDateTime").text = datetime.now(UTC).isoformat(timespec="seconds")
    software = ET.SubElement(step, "processingSoftware")
    ET.SubElement(software, "softwareName").text = PRODUCER
    ET.SubElement(software, "softwareVersion").text = __version__
    layout = ET.SubElement(alto, "Layout")
    for page in pages:
        _page(layout, page)
    ET.indent(alto, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(alto, encoding="unicode") + "\n"


def _page(layout: ET.Element, page: WordPage) -> None:
    width, height = page.size
    attributes = {
        "ID": f"page_{page.number}",
        "PHYSICAL_IMG_NR": str(page.number),
        "WIDTH": str(width),
        "HEIGHT": str(height),
    }
    if page.source_page is not None:
        attributes["PRINTED_IMG_NR"] = str(page.source_page)
    element = ET.SubElement(layout, "Page", attributes)
    space = ET.SubElement(
        element, "PrintSpace", {"ID": f"space_{page.number}", **_position(Box(0, 0, width, height))}
    )
    language = page.languages[0] if len(page.languages) == 1 else None
    line_number = word_number = 0
    for block_number, block in enumerate(page.text.blocks, start=1):
        if not block.lines:
            continue
        block_attributes = {"ID": f"block_{page.number}_{block_number}"}
        block_attributes.update(_position(block_box(block)))
        if language:
            block_attributes["LANG"] = language
        text_block = ET.SubElement(space, "TextBlock", block_attributes)
        for line in block.lines:
            line_number += 1
            text_line = ET.SubElement(
                text_block,
                "TextLine",
                {"ID": f"line_{page.number}_{line_number}", **_position(line_box(line))},
            )
            for index, word in enumerate(line.words):
                word_number += 1
                string = {"ID": f"word_{page.number}_{word_number}", "CONTENT": word.text}
                string.update(_position(word.box))
                if word.confidence is not None:
                    string["WC"] = f"{max(0.0, min(100.0, word.confidence)) / 100:.3f}"
                ET.SubElement(text_line, "String", string)
                if index < len(line.words) - 1:
                    ET.SubElement(text_line, "SP")


def _position(box: Box) -> dict[str, str]:
    left, top, right, bottom = pixel_box(box.left, box.top, box.right, box.bottom)
    return {"HPOS": str(left), "VPOS": str(top), "WIDTH": str(right - left), "HEIGHT": str(bottom - top)}

"""hOCR 1.2 (XHTML): what the Internet Archive builds its PDFs from. A ``div.ocr_page``
per page (its ``bbox`` the page in pixels, ``ppageno`` from 0), a ``div.ocr_carea`` with
a ``p.ocr_par`` per block, a ``span.ocr_line`` per line (``baseline`` as hOCR gives it:
slope, and offset from the line box's bottom-left corner) and a ``span.ocrx_word`` per
word (``x_wconf``, 0 to 100). A page kept as it was carries its own text, without
confidences; its pixels are points."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..model import Box, Line
from ..version import __version__
from . import PRODUCER, WordPage, block_box, line_box, pixel_box

CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf ocrp_lang"


def to_hocr(pages: Sequence[WordPage]) -> str:
    """The pages as one hOCR document."""
    html = ET.Element("html", {"xmlns": "http://www.w3.org/1999/xhtml"})
    languages = sorted({language for page in pages for language in page.languages})
    if len(languages) == 1:
        html.set("lang", languages[0])
        html.set("xml:lang", languages[0])
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "title").text = "OCR"
    ET.SubElement(head, "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    for name, content in (
        ("ocr-system", f"{PRODUCER} {__version__}"),
        ("ocr-capabilities", CAPABILITIES),
        ("ocr-number-of-pages", str(len(pages))),
        ("ocr-langs", " ".join(languages)),
    ):
        if content:
            ET.SubElement(head, "meta", {"name": name, "content": content})
    body = ET.SubElement(html, "body")
    for page in pages:
        _page(body, page)
    ET.indent(html, space=" ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        + ET.tostring(html, encoding="unicode")
        + "\n"
    )


def _page(body: ET.Element, page: WordPage) -> None:
    width, height = page.size
    dpi_x, dpi_y = page.words.dpi
    properties = [
        f'image "{_quoted(page.source)}"',
        f"bbox 0 0 {width} {height}",
        f"ppageno {page.number - 1}",
        f"scan_res {round(dpi_x)} {round(dpi_y)}",
    ]
    if page.source_page is not None:
        properties.append(f"x_source_page {page.source_page}")
    attributes = {"class": "ocr_page", "id": f"page_{page.number}", "title": "; ".join(properties)}
    if len(page.languages) == 1:
        attributes["lang"] = page.languages[0]
    if page.words.origin != "ocr":
        attributes["data-origin"] = page.words.origin
    element = ET.SubElement(body, "div", attributes)
    line_number = word_number = 0
    for block_number, block in enumerate(page.text.blocks, start=1):
        if not block.lines:
            continue
        box = block_box(block)
        area = ET.SubElement(
            element,
            "div",
            {"class": "ocr_carea", "id": f"block_{page.number}_{block_number}", "title": _bbox(box)},
        )
        paragraph = ET.SubElement(
            area, "p", {"class": "ocr_par", "id": f"par_{page.number}_{block_number}", "title": _bbox(box)}
        )
        for line in block.lines:
            line_number += 1
            span = ET.SubElement(
                paragraph,
                "span",
                {"class": "ocr_line", "id": f"line_{page.number}_{line_number}", "title": _line_title(line)},
            )
            for index, word in enumerate(line.words):
                word_number += 1
                title = _bbox(word.box)
                if word.confidence is not None:
                    title += f"; x_wconf {round(word.confidence)}"
                element_word = ET.SubElement(
                    span,
                    "span",
                    {"class": "ocrx_word", "id": f"word_{page.number}_{word_number}", "title": title},
                )
                element_word.text = word.text
                if index < len(line.words) - 1:
                    element_word.tail = " "


def _line_title(line: Line) -> str:
    box = line_box(line)
    title = _bbox(box)
    if line.baseline is not None:
        _, _, _, bottom = pixel_box(box.left, box.top, box.right, box.bottom)
        title += f"; baseline {line.slope:.4g} {round(line.baseline - bottom)}"
    return title


def _bbox(box: Box) -> str:
    left, top, right, bottom = pixel_box(box.left, box.top, box.right, box.bottom)
    return f"bbox {left} {top} {right} {bottom}"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')

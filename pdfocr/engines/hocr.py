"""Reading hOCR (the HTML that Tesseract writes) into the page model."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from ..errors import EngineError
from ..model import Block, Box, Line, PageText, Word

_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_textfloat", "ocr_caption"}
_XHTML = "{http://www.w3.org/1999/xhtml}"


def _properties(element: ElementTree.Element) -> dict[str, list[str]]:
    """``title="bbox 1 2 3 4; x_wconf 96"`` -> ``{"bbox": [...], "x_wconf": ["96"]}``."""
    found: dict[str, list[str]] = {}
    for item in (element.get("title") or "").split(";"):
        words = item.split()
        if words:
            found[words[0]] = words[1:]
    return found


def _box(values: list[str]) -> Box:
    left, top, right, bottom = (float(v) for v in values[:4])
    return Box(left, top, right, bottom)


def _classes(element: ElementTree.Element) -> set[str]:
    return set((element.get("class") or "").split())


def parse_hocr(document: bytes) -> PageText:
    """Parse one page of hOCR. Raises :class:`EngineError` if it is not hOCR."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as error:
        raise EngineError(f"unreadable hOCR from the engine ({error})") from None
    # Tesseract writes XHTML; strip the namespace so that plain HTML parses the same.
    for element in root.iter():
        element.tag = element.tag.removeprefix(_XHTML)
    page = next((e for e in root.iter() if "ocr_page" in _classes(e)), None)
    if page is None:
        raise EngineError("the engine's hOCR has no page")
    page_box = _box(_properties(page)["bbox"])
    blocks = []
    for paragraph in (e for e in page.iter() if "ocr_par" in _classes(e)):
        lines = [
            line
            for element in paragraph.iter()
            if _classes(element) & _LINE_CLASSES
            for line in [_line(element)]
            if line is not None
        ]
        if lines:
            blocks.append(Block(tuple(lines)))
    return PageText(width=round(page_box.width), height=round(page_box.height), blocks=tuple(blocks))


def _line(element: ElementTree.Element) -> Line | None:
    words = []
    for word_element in (e for e in element.iter() if "ocrx_word" in _classes(e)):
        text = re.sub(r"\s+", " ", "".join(word_element.itertext())).strip()
        if not text:
            continue
        properties = _properties(word_element)
        confidence = float(properties["x_wconf"][0]) if "x_wconf" in properties else None
        words.append(Word(text=text, box=_box(properties["bbox"]), confidence=confidence))
    if not words:
        return None
    properties = _properties(element)
    box = _box(properties["bbox"])
    baseline, slope = None, 0.0
    if "baseline" in properties:
        # hOCR: "baseline slope offset", offset measured from the box's bottom-left corner.
        slope, offset = (float(v) for v in properties["baseline"][:2])
        baseline = box.bottom + offset
    return Line(words=tuple(words), box=box, baseline=baseline, slope=slope)

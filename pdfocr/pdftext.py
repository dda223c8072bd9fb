"""A PDF page's own text as words with boxes, read with PDFium: for the index (which reads
the written PDF back) and for the word outputs of pages kept as they were (they had text).
Boxes are on the page as shown: from its crop box's corner, turned by its ``/Rotate``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .model import Block, Box, Line, PageText, Word

if TYPE_CHECKING:
    import pypdfium2

PointBox = tuple[float, float, float, float]
"""left, bottom, right, top in PDF points (y grows upwards)."""


def page_text_of(
    page: pypdfium2.PdfPage, textpage: pypdfium2.PdfTextPage
) -> tuple[str, list[tuple[int, str, PointBox]]]:
    """The page's text, and its words: each with the number of its line (PDFium's line
    breaks) and its box on the page as shown."""
    count = textpage.count_chars()
    text = textpage.get_text_range() if count else ""
    if len(text.encode("utf-16-le")) != 2 * count:
        # PDFium's text is not one unit per character here: word by character.
        text = "".join(textpage.get_text_range(index, 1) or " " for index in range(count))
    shown = shown_box(page.get_rotation(), page.get_cropbox())
    words = [(line, word, shown(box)) for line, word, box in _words(textpage, text)]
    return text.replace("\r\n", "\n"), words


def page_words(page: pypdfium2.PdfPage, textpage: pypdfium2.PdfTextPage) -> PageText:
    """The page's own text as the page model holds it: pixels are points (72 dpi) from
    the shown page's top-left corner, a line per PDFium line, a block per run of lines
    between empty ones; no confidences."""
    width, height = page.get_size()
    _, words = page_text_of(page, textpage)
    lines: dict[int, list[Word]] = {}
    for number, text, (left, bottom, right, top) in words:
        lines.setdefault(number, []).append(Word(text, Box(left, height - top, right, height - bottom)))
    blocks: list[list[Line]] = []
    previous = -2
    for number, line_words in sorted(lines.items()):
        if number != previous + 1 or not blocks:
            blocks.append([])
        box = Box.around(corner for word in line_words for corner in word.box.corners)
        blocks[-1].append(Line(words=tuple(line_words), box=box))
        previous = number
    return PageText(round(width), round(height), tuple(Block(tuple(block)) for block in blocks))


def shown_box(rotation: int, cropbox: Sequence[float]) -> Callable[[Sequence[float]], PointBox]:
    """What turns a box in the page's own space (where PDFium's character boxes are)
    into one on the page as shown: from the crop box's corner, turned clockwise by
    ``rotation`` (as viewers and renderings show it, and as the page's size is given)."""
    left, bottom, right, top = cropbox
    width, height = right - left, top - bottom

    def shown(box: Sequence[float]) -> PointBox:
        x0, y0, x1, y1 = box[0] - left, box[1] - bottom, box[2] - left, box[3] - bottom
        if rotation == 90:
            x0, y0, x1, y1 = y0, width - x1, y1, width - x0
        elif rotation == 180:
            x0, y0, x1, y1 = width - x1, height - y1, width - x0, height - y0
        elif rotation == 270:
            x0, y0, x1, y1 = height - y1, x0, height - y0, x1
        return (x0, y0, x1, y1)

    return shown


def _words(textpage: pypdfium2.PdfTextPage, text: str) -> list[tuple[int, str, PointBox]]:
    """The text's words, each with its line's number and the box around its characters
    (in the page's own space). The text is read once (a call per character would cost
    most of the indexing); PDFium counts characters in UTF-16 units, so one beyond the
    Basic Multilingual Plane takes two indexes."""
    words: list[tuple[int, str, PointBox]] = []
    current, box, line = "", (0.0, 0.0, 0.0, 0.0), 0
    index = 0
    for char in text:
        if char.isspace():
            if current:
                words.append((line, current, box))
            current = ""
            line += char == "\n"
        else:
            left, bottom, right, top = textpage.get_charbox(index)
            if current:
                box = (min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top))
            else:
                box = (left, bottom, right, top)
            current += char
        index += 2 if ord(char) > 0xFFFF else 1
    if current:
        words.append((line, current, box))
    return words

"""Word-level outputs of a conversion: every word, line and block with its box and
confidence, as the archives and tools of the field exchange them: hOCR (:mod:`.hocr`),
ALTO v4 (:mod:`.alto`), PAGE XML 2019 (:mod:`.pagexml`) and JSON lines (:mod:`.jsonl`).

They are made from a :class:`~pdfocr.conversion.Result` (its pages' :class:`~pdfocr.model.PageWords`),
a page per page of the written PDF, in its order: boxes in pixels of the page as the PDF
shows it (turned upright, straightened), with the mapping to PDF points
:meth:`~pdfocr.model.PageWords.to_points` gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Block, Box, Line, PageText, PageWords

if TYPE_CHECKING:
    from ..page import PageResult

PRODUCER = "pdfocr"


@dataclass(frozen=True)
class WordPage:
    """One page of the written PDF, as the word outputs describe it."""

    number: int
    """1-based, in the PDF."""
    source: str
    """The input file it came from."""
    source_page: int | None
    """Its page within that file (1-based; None for a single-page file)."""
    words: PageWords
    languages: tuple[str, ...]
    engine: str
    """The engine that read it; empty for a page kept as it was (its own text)."""

    @property
    def text(self) -> PageText:
        return self.words.text

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return self.words.text.width, self.words.text.height


def word_pages(pages: Sequence[PageResult]) -> list[WordPage]:
    """The pages of a conversion, as the word outputs describe them, numbered as the
    PDF's pages (a PDF's page left out by ``skip_bad_pages`` is in the PDF, not here)."""
    return [
        WordPage(page.number or place, page.source, page.page, page.words, page.languages, page.engine)
        for place, page in enumerate(pages, start=1)
        if page.words is not None
    ]


def pixel_box(left: float, top: float, right: float, bottom: float) -> tuple[int, int, int, int]:
    """A box in whole pixels that holds the given one (outputs give integer pixels)."""
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


def around(boxes: Iterable[Box]) -> Box:
    """The smallest box holding ``boxes``."""
    return Box.around(corner for box in boxes for corner in box.corners)


def line_box(line: Line) -> Box:
    """The line's box, grown to hold its words' (the formats nest a word's box in its
    line's; an engine's line box may leave out a word's descender or accent)."""
    return around([line.box, *(word.box for word in line.words)])


def block_box(block: Block) -> Box:
    return around(line_box(line) for line in block.lines)

"""The engine-neutral page model: what an engine found on a page, in image pixels.

Coordinates are pixels of the page image with the origin at the top-left corner, as
engines report them; the renderer converts them to PDF points using the page's dpi.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

Point = tuple[float, float]


def _is_cjk(char: str) -> bool:
    """Han, kana, CJK punctuation and full-width forms: scripts written without spaces.

    Hangul is left out on purpose: Korean separates words with spaces.
    """
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x3FFFF
    )


def needs_space(before: str, after: str) -> bool:
    """Whether two consecutive words of a line are separated by a space in the text.

    Scripts such as Chinese and Japanese are written without spaces, so two words that
    meet between CJK characters are joined directly.
    """
    if not before or not after:
        return False
    return not (_is_cjk(before[-1]) and _is_cjk(after[0]))


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: left <= right, top <= bottom (y grows downwards)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def scaled(self, factor: float, factor_y: float | None = None) -> Box:
        """The box ``factor`` times as large (across; ``factor_y`` down, if it differs)."""
        down = factor if factor_y is None else factor_y
        return Box(self.left * factor, self.top * down, self.right * factor, self.bottom * down)

    @property
    def corners(self) -> tuple[Point, Point, Point, Point]:
        return (
            (self.left, self.top),
            (self.right, self.top),
            (self.right, self.bottom),
            (self.left, self.bottom),
        )

    @staticmethod
    def around(points: Iterable[Point]) -> Box:
        """The smallest box holding ``points``."""
        xs, ys = zip(*points, strict=True)
        return Box(min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    confidence: float | None = None


@dataclass(frozen=True)
class Line:
    """One line of text, its words in reading order.

    ``baseline`` is the y of the baseline (pixels) at the line's left edge, when the engine
    knows it; ``slope`` is its gradient (dy/dx). Without a baseline the renderer uses the
    bottom of the line box.
    """

    words: tuple[Word, ...]
    box: Box
    baseline: float | None = None
    slope: float = 0.0

    @property
    def text(self) -> str:
        parts: list[str] = []
        for previous, word in zip((None, *self.words), self.words, strict=False):
            if previous is not None and needs_space(previous.text, word.text):
                parts.append(" ")
            parts.append(word.text)
        return "".join(parts)

    @property
    def runs_down(self) -> bool:
        """Whether the line runs down the page: a page scanned sideways and not turned,
        read as it lies (the engine gives a tall, narrow line whose words stand one above
        the next). A narrow line of one short word ("I", "1") is not one."""
        words = self.words
        if self.box.height < 2 * self.box.width or not words:
            return False
        if len(words) == 1:
            return len(words[0].text) > 2 and words[0].box.height > 2 * words[0].box.width
        # Each word below the one before it, across the same stretch of the page (words
        # of a line across the page stand side by side instead).
        return all(
            after.box.top >= before.box.bottom - 1
            and after.box.left < before.box.right
            and before.box.left < after.box.right
            for before, after in itertools.pairwise(words)
        )


@dataclass(frozen=True)
class Block:
    """A paragraph or text block: consecutive lines that belong together."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class PageText:
    """Everything the engine recognised on one page."""

    width: int
    height: int
    blocks: tuple[Block, ...] = ()

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for block in self.blocks for line in block.lines)

    def scaled(self, factor: float, width: int, height: int, factor_y: float | None = None) -> PageText:
        """The same text on a copy of the page ``factor`` times as large (``width`` x
        ``height`` pixels), e.g. back from a downscaled copy to the original; ``factor_y``
        down the page when it differs (a copy read with square pixels of a fax's page)."""
        down = factor if factor_y is None else factor_y
        return PageText(
            width=width,
            height=height,
            blocks=tuple(
                Block(
                    tuple(
                        replace(
                            line,
                            words=tuple(
                                replace(word, box=word.box.scaled(factor, down)) for word in line.words
                            ),
                            box=line.box.scaled(factor, down),
                            baseline=line.baseline * down if line.baseline is not None else None,
                            slope=line.slope * down / factor,
                        )
                        for line in block.lines
                    )
                )
                for block in self.blocks
            ),
        )

    def mapped(self, point: Callable[[Point], Point], width: int, height: int) -> PageText:
        """The same text on another image of the page (``width`` x ``height`` pixels) that
        ``point`` maps this one's points onto, e.g. a photo a sheet was cut out of: each
        box becomes the box around its mapped corners, and each line's baseline the line
        through its mapped ends (a level line becomes a sloping one where the photo's
        perspective tilts it)."""

        def line_on(line: Line) -> Line:
            box = Box.around(point(corner) for corner in line.box.corners)
            baseline, slope = None, 0.0
            if line.baseline is not None:
                start = point((line.box.left, line.baseline))
                end = point((line.box.right, line.baseline + line.slope * line.box.width))
                slope = (end[1] - start[1]) / (end[0] - start[0]) if end[0] > start[0] else 0.0
                baseline = start[1] + slope * (box.left - start[0])
            words = tuple(
                replace(word, box=Box.around(point(corner) for corner in word.box.corners))
                for word in line.words
            )
            return replace(line, words=words, box=box, baseline=baseline, slope=slope)

        blocks = tuple(Block(tuple(line_on(line) for line in block.lines)) for block in self.blocks)
        return PageText(width=width, height=height, blocks=blocks)

    @property
    def text(self) -> str:
        """Plain text: one line per OCR line, a blank line between blocks."""
        return "\n\n".join("\n".join(line.text for line in block.lines) for block in self.blocks)


@dataclass(frozen=True)
class PageWords:
    """A page's words as the written PDF shows the page: ``text``'s boxes are pixels of the
    page upright (turned and straightened as the PDF shows it), from its top-left corner,
    at ``dpi``; a pixel ``(x, y)`` is the point ``(x * 72 / dpi_x, height_pt - y * 72 /
    dpi_y)`` of the page's own PDF space, measured from the corner of its crop box as
    shown (see :meth:`to_points`)."""

    text: PageText
    dpi: tuple[float, float]
    origin: str = "ocr"
    """``ocr``: read by the engine; ``pdf``: a kept page's own text (read with PDFium, no
    confidences; its pixels are points, ``dpi`` 72)."""

    @property
    def size_points(self) -> tuple[float, float]:
        """The page's width and height in points, as shown."""
        return self.text.width * 72 / self.dpi[0], self.text.height * 72 / self.dpi[1]

    def to_points(self, box: Box) -> tuple[float, float, float, float]:
        """``box`` in PDF points on the page as shown: left, bottom, right, top, from the
        bottom-left corner (PDF's own orientation: y grows upwards)."""
        across, down = 72 / self.dpi[0], 72 / self.dpi[1]
        height = self.text.height * down
        return (box.left * across, height - box.bottom * down, box.right * across, height - box.top * down)

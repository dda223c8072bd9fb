"""One reading order for the page model: lines the engine cut in two are made whole.

Tesseract's page layout splits a page into blocks at a vertical streak (a scanner glass's
dirt line, a fax's), a rule or a fold: each line's left half in one block, its right half
in another, so the text read block by block gives every left half, then every right half.
A piece of a line that starts, in another block, right after a line ends on the same row
(closer than ``JOIN_GAP`` line heights: a word's gap) is that line's continuation, and
joins it. Columns stay apart: their gutter is 2.5 line heights and more (measured on a
two-column page at 300 dpi, against 0.2-0.35 across a fax's streak).
"""

from __future__ import annotations

from .model import Block, Box, Line, PageText

JOIN_GAP = 1.0
"""Pieces of one line are at most this many line heights apart."""
SAME_ROW = 0.5
"""Pieces of one line overlap vertically by at least this share of the lower one."""


def whole_lines(text: PageText) -> PageText:
    """``text`` with each line cut across blocks joined again, in the first piece's
    block; blocks left empty dropped."""
    blocks = [list(block.lines) for block in text.blocks]
    joined = False
    for index, lines in enumerate(blocks):
        position = 0
        while position < len(lines):
            found = _continuation(lines[position], blocks, index)
            if found is None:
                position += 1
                continue
            other, at = found
            lines[position] = _joined(lines[position], blocks[other].pop(at))
            joined = True  # and look again from the same line: a line cut twice
    if not joined:
        return text
    kept = tuple(Block(tuple(lines)) for lines in blocks if lines)
    return PageText(text.width, text.height, kept)


def _continuation(line: Line, blocks: list[list[Line]], own: int) -> tuple[int, int] | None:
    """Where, in another block, the piece that continues ``line`` is: (block, line).
    Lines running down the page (a page read as it lies sideways) have none: side by
    side, they are one line after the next."""
    if line.runs_down or line.box.width < line.box.height:
        return None
    best: tuple[float, int, int] | None = None
    for index, lines in enumerate(blocks):
        if index == own:
            continue
        for at, other in enumerate(lines):
            if other.runs_down:
                continue
            gap = other.box.left - line.box.right
            height = max(line.box.height, other.box.height)
            overlap = min(line.box.bottom, other.box.bottom) - max(line.box.top, other.box.top)
            level = overlap >= SAME_ROW * min(line.box.height, other.box.height)
            if 0 <= gap <= JOIN_GAP * height and level and (best is None or gap < best[0]):
                best = (gap, index, at)
    return (best[1], best[2]) if best else None


def _joined(left: Line, right: Line) -> Line:
    box = Box(
        min(left.box.left, right.box.left),
        min(left.box.top, right.box.top),
        max(left.box.right, right.box.right),
        max(left.box.bottom, right.box.bottom),
    )
    # The left piece's baseline stays: it runs on through the right one.
    return Line(left.words + right.words, box, left.baseline, left.slope)

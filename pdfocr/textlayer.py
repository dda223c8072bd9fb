"""The text layer: an invisible (render mode 3) text object per OCR line, written level,
every word on its left and right edges, drawn with reportlab on an otherwise empty page,
in the glyphless font of ``layerfont``: whatever text the engine returns is embedded and
extracted unchanged, and nothing is ever painted.
"""

from __future__ import annotations

import io
import itertools
import statistics
import unicodedata
from dataclasses import dataclass, replace

from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from . import layerfont
from .model import Block, Line, PageText, needs_space

# Lines at most this many font sizes apart read as one paragraph (see _draw_line).
MAX_PITCH_TO_SIZE = 1.25
# The font's ascent and every glyph's advance width, as fractions of the font size.
FONT_ASCENT = layerfont.ASCENT / 1000
GLYPH_ADVANCE = layerfont.ADVANCE / 1000
# The narrowest horizontal scale written (percent): boxes can overlap on noisy scans.
MIN_HORIZONTAL_SCALE = 1.0
# Gaps between the words of one line wider than this many font sizes are bridged by the
# word before (see _draw_line), which then ends this many font sizes before the next.
WIDEST_GAP = 1.0
SPACE_LEFT = 0.3
# The narrowest space written between two words, in font sizes (see _draw_line).
NARROWEST_SPACE = 0.1
# Lines kept apart (see _kept_apart) by this share of a line's size, and made at most
# this much smaller for it.
KEEP_APART = 0.02
SMALLEST_KEPT_APART = 0.5


def text_layer(text: PageText, width: float, height: float, dpi: tuple[float, float]) -> bytes:
    """A one-page PDF, ``width`` x ``height`` points, holding only ``text``'s invisible
    layer; pixel coordinates are converted with ``dpi``."""
    font = layerfont.register_font()
    buffer = io.BytesIO()
    # The initial font is ours too, so the page never refers to an unembedded Helvetica.
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=font)
    scale_x, scale_y = 72.0 / dpi[0], 72.0 / dpi[1]
    pitches = [_line_pitch(block) for block in text.blocks]
    usual = statistics.median([pitch for pitch in pitches if pitch > 0] or [0.0])
    lines = [
        (line, (pitch or usual) / MAX_PITCH_TO_SIZE, _middle(block))
        for block, pitch in zip(text.blocks, pitches, strict=True)
        for line in block.lines
    ]
    across = iter(
        _kept_apart([_place(line, least, middle) for line, least, middle in lines if not line.runs_down])
    )
    for line, _, _ in lines:
        if line.runs_down:
            _draw_vertical_line(canvas, font, line, scale_x, scale_y, height)
        else:
            _draw_line(canvas, font, next(across), scale_x, scale_y, height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Placed:
    """Where a line across the page is written: level at ``level`` (pixels down the
    page), in a font ``size`` pixels tall, its glyph boxes spanning ``size`` from
    ``FONT_ASCENT * size`` above the level."""

    line: Line
    level: float
    size: float

    @property
    def top(self) -> float:
        return self.level - FONT_ASCENT * self.size

    @property
    def bottom(self) -> float:
        return self.level + (1 - FONT_ASCENT) * self.size


def _middle(block: Block) -> float:
    """The x of the middle of the block's lines (pixels)."""
    if not block.lines:
        return 0.0
    return (min(line.box.left for line in block.lines) + max(line.box.right for line in block.lines)) / 2


def _place(line: Line, least_size: float, block_middle: float) -> _Placed:
    """The line's level and size. The glyph box spans [baseline - descent, baseline +
    ascent]: sized so its top meets the top of the line box, or taller, up to the line
    spacing, in widely spaced text: extractors (poppler, pdfminer) only see lines as one
    paragraph, and so keep columns apart, when lines are less than about 1.5 font sizes
    apart. On a skewed line the box is taller than the text by the baseline's rise
    across it: the ascent is measured where the box's top meets the text, not from its
    left end.

    The line is written level, at the height its baseline has in the middle of its block
    (where it would be if it ran across the block), also on a skewed scan: measured
    across poppler, PDFium, pdf.js, MuPDF, Ghostscript, pypdf and pdfminer, a sloping
    baseline (Tesseract's own renderer's choice) breaks lines apart in half of them
    from 1 degree on, and words on their own sloping steps in some;
    level lines read right in all of them up to 5 degrees (bench/extractors.py). The
    block's middle, not the line's own, keeps a paragraph's short last line below the
    line before it: on a page tilted 7 degrees, a short line's own middle lies higher
    than its longer neighbour's, and extractors read it first. Words keep their left
    and right edges; at a skewed block's sides they sit up to half its rise above or
    below their ink."""
    baseline = _baseline(line)
    rise = line.slope * line.box.width
    upright_height = line.box.height - abs(rise)
    ascent = max(baseline - line.box.top + min(0.0, rise), upright_height * 0.5, 1.0)
    level = baseline + line.slope * (block_middle - line.box.left)
    return _Placed(line, level, max(ascent / FONT_ASCENT, least_size))


def _kept_apart(placed: list[_Placed]) -> list[_Placed]:
    """The lines, each one that starts below the line written before it made small
    enough that their glyph boxes do not overlap: PDFium (and others) take text whose
    boxes overlap vertically as one line. On a skewed page lines of different lengths
    have their middles at different places, so their levels come closer than the
    lines' own spacing."""
    kept: list[_Placed] = []
    for current in placed:
        previous = kept[-1] if kept else None
        # Only a line below the previous one, by more than half its size: one at about
        # the same level continues the row (a table's cells), one above starts a column.
        if previous is not None and current.level - previous.level > current.size / 2:
            room = (current.level - previous.bottom) / FONT_ASCENT * (1 - KEEP_APART)
            if room < current.size:
                current = replace(current, size=max(room, current.size * SMALLEST_KEPT_APART))
        kept.append(current)
    return kept


def _baseline(line: Line) -> float:
    return line.baseline if line.baseline is not None else line.box.bottom


def _line_pitch(block: Block) -> float:
    """The usual distance between the baselines of a block's lines (pixels), 0 if unknown."""
    steps = [_baseline(b) - _baseline(a) for a, b in itertools.pairwise(block.lines)]
    steps = [step for step in steps if step > 0]
    return statistics.median(steps) if steps else 0.0


def _draw_line(
    canvas: Canvas, font: str, placed: _Placed, scale_x: float, scale_y: float, page_height: float
) -> None:
    """One text object per line; each word starts at its box's left edge, is scaled to
    the box's width, and the space after it is scaled to reach the next word, so that
    viewers see one unbroken line of words with single spaces between them."""
    size = placed.size * scale_y
    text = canvas.beginText()
    text.setTextRenderMode(3)
    text.setFont(font, size)
    # Words go in left to right, each in display order: the convention extractors
    # (pdftotext, pypdf) expect, and undo for right-to-left scripts.
    words = sorted(placed.line.words, key=lambda word: word.box.left)
    start_x = placed.line.box.left * scale_x
    start_y = page_height - placed.level * scale_y
    pen: float | None = None
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        spaced = following is not None and needs_space(word.text, following.text)
        left = word.box.left * scale_x - start_x
        right = word.box.right * scale_x - start_x
        next_left = following.box.left * scale_x - start_x if following is not None else right
        # Text must run left to right without overlaps, or viewers break the line
        # apart; and unspaced scripts run each word up to the next, so that no gap
        # reads as a space.
        if following is not None and next_left > left and not spaced:
            right = next_left
        elif following is not None and next_left - right < NARROWEST_SPACE * size:
            # Boxes that touch or overlap (noise between two words): the word ends short of
            # the next so that its space has a width, or extractors run the two together.
            right = max(left + (right - left) / 2, next_left - NARROWEST_SPACE * size)
        elif following is not None and next_left - right > WIDEST_GAP * size:
            # A gap wider than a word's (a table's cells, a form's label and value):
            # extractors such as poppler take it for a column's edge and read the line's
            # parts column by column; the word reaches across it instead, a space short.
            right = next_left - SPACE_LEFT * size
        # Move only when the pen is not already there: extractors such as pypdf read a
        # jump as a word break even where the text runs on.
        if pen is None or abs(pen - left) > 0.01:
            text.setTextTransform(1, 0, 0, 1, start_x + left, start_y)
        pen = left + _show(text, _display_order(word.text), right - left, size)
        if spaced:
            pen += _show(text, " ", next_left - pen, size)
    canvas.drawText(text)


def _draw_vertical_line(
    canvas: Canvas, font: str, line: Line, scale_x: float, scale_y: float, page_height: float
) -> None:
    """A line that runs down the page, written turned a quarter clockwise: its words
    read top to bottom, their glyphs' tops towards the right, each word spanning its
    box's height and the line's width."""
    size = max(line.box.width * scale_x, 1.0)
    baseline_x = line.box.left * scale_x + size * (1 - FONT_ASCENT)
    text = canvas.beginText()
    text.setTextRenderMode(3)
    text.setFont(font, size)
    words = sorted(line.words, key=lambda word: word.box.top)
    pen: float | None = None  # how far down the page the text has run (points)
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        top, bottom = word.box.top * scale_y, word.box.bottom * scale_y
        # As across the page: move only where the text does not run on by itself.
        if pen is None or abs(pen - top) > 0.01:
            text.setTextTransform(0, -1, 1, 0, baseline_x, page_height - top)
            pen = top
        pen += _show(text, word.text, bottom - pen, size)
        if following is not None and needs_space(word.text, following.text):
            pen += _show(text, " ", max(0.0, following.box.top * scale_y - pen), size)
    canvas.drawText(text)


_LEFT_TO_RIGHT_CLASSES = {"L", "EN", "AN"}


def _display_order(word: str) -> str:
    """The word's characters as displayed left to right: right-to-left letters reversed,
    runs of digits and left-to-right letters inside them kept as they are."""
    if not any(unicodedata.bidirectional(char) in ("R", "AL") for char in word):
        return word
    units: list[str] = []
    for char in word:
        if (
            units
            and unicodedata.bidirectional(char) in _LEFT_TO_RIGHT_CLASSES
            and unicodedata.bidirectional(units[-1][-1]) in _LEFT_TO_RIGHT_CLASSES
        ):
            units[-1] += char
        else:
            units.append(char)
    return "".join(reversed(units))


def _show(text: PDFTextObject, characters: str, width: float, size: float) -> float:
    """Show ``characters`` scaled horizontally to ``width``; returns the pen's advance."""
    natural = len(characters) * GLYPH_ADVANCE * size
    scale = max(MIN_HORIZONTAL_SCALE, 100.0 * width / natural) if natural > 0 else 100.0
    text.setHorizScale(scale)
    text.textOut(characters)
    return natural * scale / 100.0

"""The text layer: an invisible (render mode 3) text object per OCR line, written level,
every word on its left and right edges, drawn with reportlab on an otherwise empty page.

The font is ``fonts/glyphless.ttf`` (made by ``scripts/make_glyphless_font.py``): every
Unicode code point maps to one blank glyph (it has a box but paints nothing), so
whatever text the engine returns is embedded and extracted unchanged, and nothing is ever
painted.
"""

from __future__ import annotations

import functools
import io
import itertools
import statistics
import unicodedata
from collections.abc import Sequence
from importlib import resources
from typing import Any

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from .model import Block, Line, PageText, needs_space

# Lines at most this many font sizes apart read as one paragraph (see _draw_line).
MAX_PITCH_TO_SIZE = 1.25
FONT_NAME = "PdfocrGlyphless"
# The font's vertical metrics (see scripts/make_glyphless_font.py): ascent and descent
# as fractions of the font size, and every glyph's advance width.
FONT_ASCENT = 0.8
GLYPH_ADVANCE = 0.5
# The narrowest horizontal scale written (percent): boxes can overlap on noisy scans.
MIN_HORIZONTAL_SCALE = 1.0


class _EveryCodePoint(dict[int, int]):
    """``code -> value`` for every Unicode scalar value: reportlab's view of a font in
    which every character is the same blank glyph of the same width.

    reportlab would otherwise expand the font's full-Unicode cmap into per-character
    dicts: 1.1 million entries, 160 MB and 0.25 s in every worker process."""

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and 0x20 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF

    def __getitem__(self, code: int) -> int:
        if code not in self:
            raise KeyError(code)
        return self.value

    def get(self, code: int, default: int | None = None) -> int | None:  # type: ignore[override]
        return self.value if code in self else default


@functools.cache
def _register_font() -> str:
    """Register the glyphless font with reportlab, once per process (reportlab keeps
    fonts in a process-wide registry)."""
    with resources.as_file(resources.files("pdfocr") / "fonts" / "glyphless.ttf") as path:
        font = _GlyphlessFont(FONT_NAME, str(path))
    # reportlab reads only the font's small ASCII table (see scripts/make_glyphless_font.py);
    # the font maps every other code point to the same glyph too, and so does reportlab now.
    face = font.face
    face.charToGlyph = _EveryCodePoint(face.charToGlyph[ord("A")])
    face.charWidths = _EveryCodePoint(face.charWidths[ord("A")])
    pdfmetrics.registerFont(font)
    return FONT_NAME


class _GlyphlessFont(TTFont):  # type: ignore[misc]
    """reportlab's TrueType font, with ToUnicode maps that hold characters past U+FFFF.

    reportlab writes each entry as "<%04X>", which is invalid past U+FFFF (the value
    must be UTF-16BE): such characters would not extract. Only this font's own subsets
    that need it are rewritten; reportlab itself is left as it is for everyone else."""

    def addObjects(self, doc: Any) -> None:
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state is not None else []
        super().addObjects(doc)  # which forgets the document's subsets
        for number, subset in enumerate(subsets):
            if all(code <= 0xFFFF for code in subset):
                continue  # reportlab's own map is right
            parts = (ttfonts.SUBSETN(number), b"+", self.face.name, self.face.subfontNameX)
            name = b"".join(parts).decode("pdfdoc")
            doc.idToObject["toUnicodeCMap:" + name].content = _to_unicode_cmap(name, subset)


def _to_unicode_cmap(name: str, subset: Sequence[int]) -> str:
    """A ToUnicode CMap mapping one-byte codes to UTF-16BE (PDF 1.7, 9.10.3)."""
    entries = [
        f"<{code:02X}> <{chr(value).encode('utf-16-be').hex().upper()}>" for code, value in enumerate(subset)
    ]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            f"/CIDSystemInfo << /Registry ({name}) /Ordering ({name}) /Supplement 0 >> def",
            f"/CMapName /{name} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            # At most 100 entries per bfchar section.
            *(
                line
                for start in range(0, len(entries), 100)
                for line in (
                    f"{len(entries[start : start + 100])} beginbfchar",
                    *entries[start : start + 100],
                    "endbfchar",
                )
            ),
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def text_layer(text: PageText, width: float, height: float, dpi: tuple[float, float]) -> bytes:
    """A one-page PDF, ``width`` x ``height`` points, holding only ``text``'s invisible
    layer; pixel coordinates are converted with ``dpi``."""
    font = _register_font()
    buffer = io.BytesIO()
    # The initial font is ours too, so the page never refers to an unembedded Helvetica.
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=font)
    scale_x, scale_y = 72.0 / dpi[0], 72.0 / dpi[1]
    for block in text.blocks:
        least = _line_pitch(block) / MAX_PITCH_TO_SIZE
        for line in block.lines:
            if _runs_down(line):
                _draw_vertical_line(canvas, font, line, scale_x, scale_y, height)
            else:
                _draw_line(canvas, font, line, least, scale_x, scale_y, height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _baseline(line: Line) -> float:
    return line.baseline if line.baseline is not None else line.box.bottom


def _line_pitch(block: Block) -> float:
    """The usual distance between the baselines of a block's lines (pixels), 0 if unknown."""
    steps = [_baseline(b) - _baseline(a) for a, b in itertools.pairwise(block.lines)]
    steps = [step for step in steps if step > 0]
    return statistics.median(steps) if steps else 0.0


def _draw_line(
    canvas: Canvas,
    font: str,
    line: Line,
    least_size_px: float,
    scale_x: float,
    scale_y: float,
    page_height: float,
) -> None:
    """One text object per line; each word starts at its box's left edge, is scaled to
    the box's width, and the space after it is scaled to reach the next word, so that
    viewers see one unbroken line of words with single spaces between them."""
    baseline = _baseline(line)
    # The glyph box spans [baseline - descent, baseline + ascent]: sized so its top meets
    # the top of the line box, or taller, up to the line spacing, in widely spaced text:
    # extractors (poppler, pdfminer) only see lines as one paragraph, and so keep columns
    # apart, when lines are less than about 1.5 font sizes apart.
    # On a skewed line the box is taller than the text by the baseline's rise across it:
    # the ascent is measured where the box's top meets the text, not from its left end.
    rise = line.slope * line.box.width
    upright_height = line.box.height - abs(rise)
    ascent_px = max(baseline - line.box.top + min(0.0, rise), upright_height * 0.5, 1.0)
    size = max(ascent_px / FONT_ASCENT, least_size_px) * scale_y
    text = canvas.beginText()
    text.setTextRenderMode(3)
    text.setFont(font, size)
    # Words go in left to right, each in display order: the convention extractors
    # (pdftotext, pypdf) expect, and undo for right-to-left scripts.
    words = sorted(line.words, key=lambda word: word.box.left)
    # The line is written level, at the height its baseline has in its middle, also on a
    # skewed scan: measured across poppler, PDFium, pdf.js, MuPDF, Ghostscript, pypdf and
    # pdfminer, a sloping baseline (Tesseract's own renderer's choice) breaks lines apart
    # in half of them from 1 degree on, and words on their own sloping steps in some;
    # level lines read right in all of them up to 5 degrees (bench/extractors.py). Words
    # keep their left and right edges; at a skewed line's ends they sit up to half its
    # rise above or below their ink.
    start_x = line.box.left * scale_x
    start_y = page_height - (baseline + line.slope * line.box.width / 2) * scale_y
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
        if following is not None and next_left > left and (not spaced or next_left < right):
            right = next_left
        # Move only when the pen is not already there: extractors such as pypdf read a
        # jump as a word break even where the text runs on.
        if pen is None or abs(pen - left) > 0.01:
            text.setTextTransform(1, 0, 0, 1, start_x + left, start_y)
        pen = left + _show(text, _display_order(word.text), right - left, size)
        if spaced:
            pen += _show(text, " ", next_left - pen, size)
    canvas.drawText(text)


def _runs_down(line: Line) -> bool:
    """Whether the line runs down the page: a page scanned sideways and not turned, read
    as it lies (the engine gives a tall, narrow line whose words stand one above the
    next). A narrow line of one short word ("I", "1") is not one."""
    words = line.words
    if line.box.height < 2 * line.box.width or not words:
        return False
    if len(words) == 1:
        return len(words[0].text) > 2 and words[0].box.height > 2 * words[0].box.width
    # Each word below the one before it, across the same stretch of the page (words of
    # a line across the page stand side by side instead).
    return all(
        after.box.top >= before.box.bottom - 1
        and after.box.left < before.box.right
        and before.box.left < after.box.right
        for before, after in itertools.pairwise(words)
    )


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
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        top, bottom = word.box.top * scale_y, word.box.bottom * scale_y
        text.setTextTransform(0, -1, 1, 0, baseline_x, page_height - top)
        _show(text, word.text, bottom - top, size)
        if following is not None and needs_space(word.text, following.text):
            _show(text, " ", max(0.0, following.box.top * scale_y - bottom), size)
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

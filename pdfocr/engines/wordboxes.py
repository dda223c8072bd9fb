"""Word boxes for engines that report only lines (Aspose OCR gives a line's text and box).

Search highlighting and selection need a box per word. The gaps between words are read
from the image itself: within the line box, runs of columns without ink wider than a gap
between letters are word gaps, and each is matched to the word break it is nearest to.
Words the image does not separate (touching or smudged) share their stretch of the line
in proportion to their typeset width in Helvetica, which is close for Latin scripts.
"""

from __future__ import annotations

import statistics

from PIL import Image
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..model import Box, Line, Word

# A column counts as blank when its mean level is this close to white (0-255, after the
# line is reduced to black and white): one dark pixel of noise in a 40-pixel-high column
# brings the mean down by ~6, and that column should still count as ink.
_BLANK_LEVEL = 254.5
# Bounds of the narrowest word gap, as shares of the line box's height (about the font
# size): a space is a quarter to a third of the font size, and letters can sit a sixth of
# it apart ("hi" in a sans-serif face).
_MIN_GAP, _MAX_GAP = 0.15, 0.25
# Binarising: ink is darker than the midpoint between the line's darkest and lightest
# levels; a line with less contrast than this has no ink to measure.
_MIN_CONTRAST = 48


def line_with_words(image: Image.Image, text: str, box: Box, confidence: float | None = None) -> Line:
    """The line ``text`` found in ``box`` of ``image``, with a box for each of its words."""
    words = text.split()
    if not words:
        return Line(words=(), box=box)
    ink = _ink_columns(image, box)
    if not any(ink):
        spans = _proportional_spans(words, box.left, box.right)
    else:
        first = ink.index(True)
        last = len(ink) - 1 - ink[::-1].index(True)
        gaps = _word_gaps(ink, first, last, box.height)
        columns = _spans_at_gaps(words, first, last + 1, gaps)
        spans = [(box.left + start, box.left + end) for start, end in columns]
    return Line(
        words=tuple(
            Word(word, Box(start, box.top, end, box.bottom), confidence)
            for word, (start, end) in zip(words, spans, strict=True)
        ),
        box=box,
    )


def _spans_at_gaps(
    words: list[str], left: float, right: float, gaps: list[tuple[int, int]]
) -> list[tuple[float, float]]:
    """Spans for ``words`` between ``left`` and ``right``, breaking at ``gaps`` where they
    fit: each gap is matched to the word break it is nearest to (widest gaps first, the
    order of the breaks kept); the words between matched gaps share their stretch in
    proportion to their typeset width."""
    breaks = len(words) - 1
    estimate = _proportional_spans(words, left, right)
    expected = [(estimate[i][1] + estimate[i + 1][0]) / 2 for i in range(breaks)]
    matched: dict[int, tuple[int, int]] = {}
    for gap in sorted(gaps, key=lambda gap: gap[1] - gap[0], reverse=True)[:breaks]:
        middle = (gap[0] + gap[1]) / 2
        free = [
            index
            for index in range(breaks)
            if index not in matched
            and all((other < index) == (taken[0] < gap[0]) for other, taken in matched.items())
        ]
        if free:
            matched[min(free, key=lambda index: abs(expected[index] - middle))] = gap
    spans: list[tuple[float, float]] = []
    start_word, start = 0, left
    for index in [*sorted(matched), breaks]:
        end = matched[index][0] if index in matched else right
        spans += _proportional_spans(words[start_word : index + 1], start, end)
        if index in matched:
            start_word, start = index + 1, matched[index][1]
    return spans


def _ink_columns(image: Image.Image, box: Box) -> list[bool]:
    """For each pixel column of ``box``, whether it holds ink."""
    region = (
        max(0, round(box.left)),
        max(0, round(box.top)),
        min(image.width, round(box.right)),
        min(image.height, round(box.bottom)),
    )
    if region[2] <= region[0] or region[3] <= region[1]:
        return []
    crop = image.crop(region).convert("L")
    extrema = crop.getextrema()
    darkest, lightest = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]  # one band
    if lightest - darkest < _MIN_CONTRAST:
        return [False] * crop.width
    midpoint = (darkest + lightest) / 2
    binary = crop.point(lambda level: 255 if level > midpoint else 0)
    # Averaging each column down to one pixel: Pillow does it in C, in one pass.
    profile = binary.resize((crop.width, 1), Image.Resampling.BOX)
    return [level < _BLANK_LEVEL for level in profile.tobytes()]


def _word_gaps(ink: list[bool], first: int, last: int, height: float) -> list[tuple[int, int]]:
    """The runs of blank columns between ``first`` and ``last`` wide enough to be gaps
    between words in a line ``height`` pixels high, each as ``(start, end)`` (end
    exclusive)."""
    gaps: list[tuple[int, int]] = []
    start = None
    for column in range(first, last + 1):
        if not ink[column] and start is None:
            start = column
        elif ink[column] and start is not None:
            gaps.append((start, column))
            start = None
    if not gaps:
        return []
    # Most gaps in a line are between letters: a word gap is at least twice the typical
    # one, within bounds set by the line's height.
    typical = statistics.median(end - start for start, end in gaps)
    least = min(max(2 * typical, _MIN_GAP * height), _MAX_GAP * height)
    return [(start, end) for start, end in gaps if end - start >= least]


def _proportional_spans(words: list[str], left: float, right: float) -> list[tuple[float, float]]:
    """Spans for ``words`` across ``left``..``right`` in proportion to their typeset width,
    a space between each two."""
    # Characters Helvetica lacks measure 0; give them an average glyph's width.
    widths = [stringWidth(word, "Helvetica", 10) or 5.5 * len(word) for word in words]
    space = stringWidth(" ", "Helvetica", 10)
    total = sum(widths) + space * (len(words) - 1)
    scale = (right - left) / total if total else 0.0
    spans, pen = [], left
    for width in widths:
        spans.append((pen, pen + width * scale))
        pen += (width + space) * scale
    return spans

"""The ``auto`` engine: Tesseract first, and a second engine (RapidOCR, when its extra is
installed) on the pages Tesseract reads poorly, the better reading kept.

Tesseract is fast and exact on scans; its page layout finds nothing on many photos,
receipts and coloured backgrounds, where RapidOCR's detector finds the lines. Asking the
second engine costs it a read, 10 to 30 times Tesseract's (3.4 s for a receipt photo, one
thread: bench/steps.py), so it is asked only when Tesseract's own result is poor:

- little text on an inked page: under ``MIN_CHARACTERS`` read where the page has ink, or
  the lines read holding less than ``COVERED`` of the page's ink; or
- a mean word confidence under ``POOR_CONFIDENCE``.

Of the two readings the one with more characters read well (characters weighted by
confidence, :attr:`pdfocr.quality.Reading.score`) is kept. Which engine read a page is in
its result. The choice happens after the page is turned upright (see
:func:`pdfocr.reading.read_page`): a page upside down reads poorly until it is turned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageDraw, ImageStat

from ..errors import PdfocrError
from ..model import PageText
from ..quality import MIN_CHARACTERS, Reading
from .rapidocr import RapidOcrEngine
from .tesseract import TESSERACT_OPTIONS, TesseractEngine

POOR_CONFIDENCE = 75.0
"""Tesseract's readings of clean and faded scans score 85-96; below this a page is worth
a second engine's read."""
INKED = 0.005
"""A page with more ink than this share has something on it to read."""
UNMEASURED_CONFIDENCE = 90.0
"""Where the print cannot be told from its background, a reading less sure than this is
poor (clean scans score 92-96)."""
BLANK_SPREAD = 8.0
"""A page whose levels spread less than this (standard deviation) is blank paper."""
MIN_CONTRAST = 40
"""A page whose darkest print is less darker than its paper than this has no ink."""
COVERED = 0.6
"""A reading whose lines hold less of the page's ink than this share left text unread
(or the page has pictures, which the second engine then looks at too)."""
INK_SAMPLE_WIDTH = 400
SOLID = 3
"""Ink this many sample pixels thick all through (a sixteenth of an inch on a letter
page) is an area, not print."""


@dataclass(frozen=True)
class AutoEngine:
    """Tesseract, and RapidOCR where Tesseract reads poorly (if RapidOCR is installed)."""

    name: str = "auto"
    primary: TesseractEngine = field(default_factory=TesseractEngine)
    fallback: RapidOcrEngine = field(default_factory=RapidOcrEngine)

    def describe(self) -> str:
        """One line for ``pdfocr --list-engines``."""
        second = "RapidOCR on pages it reads poorly" if self._has_fallback(()) else "RapidOCR not installed"
        return f"Tesseract first, {second}; {self.primary.describe()}"

    def check(self, languages: Sequence[str]) -> None:
        self.primary.check(languages)

    def _has_fallback(self, languages: Sequence[str]) -> bool:
        try:
            self.fallback.check(languages)
        except PdfocrError:
            return False
        return True

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        return self.primary.recognize(image, languages=languages, dpi=dpi)

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        return self.primary.detect_rotation(image, dpi=dpi)

    def detect_script(self, image: Image.Image, *, dpi: float) -> str | None:
        return self.primary.detect_script(image, dpi=dpi)

    def installed_languages(self) -> list[str]:
        return self.primary.installed_languages()

    def reconsider(
        self, image: Image.Image, text: PageText, *, languages: Sequence[str], dpi: float
    ) -> tuple[PageText, str]:
        """The better of ``text`` (Tesseract's reading of ``image``) and the second
        engine's, when Tesseract's is poor; and the name of the engine that read it."""
        if not is_poor(image, text) or not self._has_fallback(languages):
            return text, self.primary.name
        second = self.fallback.recognize(image, languages=languages, dpi=dpi)
        if Reading.of(second).score > Reading.of(text).score:
            return second, self.fallback.name
        return text, self.primary.name


def auto_engine(**tesseract_settings: object) -> AutoEngine:
    """The ``auto`` engine, its Tesseract made with ``tesseract_settings`` (the keywords
    of :class:`~pdfocr.engines.tesseract.TesseractEngine`: ``psm``, ``config``...)."""
    return AutoEngine(primary=TesseractEngine(**tesseract_settings))  # type: ignore[arg-type]


auto_engine.cli_options = TESSERACT_OPTIONS  # type: ignore[attr-defined]  # the same knobs as Tesseract's


def is_poor(image: Image.Image, text: PageText) -> bool:
    """Whether ``text``, a reading of ``image``, is poor: little text where the page has
    ink (a receipt Tesseract finds nothing on; lines of a faded copy it skipped), or low
    confidence."""
    reading = Reading.of(text)
    if reading.confidence is not None and reading.confidence < POOR_CONFIDENCE:
        return True
    sample = _sample(image)
    if reading.characters < MIN_CHARACTERS:
        return ImageStat.Stat(sample).stddev[0] > BLANK_SPREAD  # something is on the page
    ink = _thin_ink(sample)
    if ink is None:  # print not told from its background (a photo's table): be stricter
        return reading.confidence is not None and reading.confidence < UNMEASURED_CONFIDENCE
    return _covered(ink, text, image.width / ink.width) < COVERED


def _sample(image: Image.Image) -> Image.Image:
    """A small gray copy of the page, about ``INK_SAMPLE_WIDTH`` wide (box-averaged by a
    whole factor: a tenth of the time of a resampled one)."""
    gray = image.convert("L")
    factor = max(1, gray.width // INK_SAMPLE_WIDTH)
    return gray.reduce(factor) if factor > 1 else gray


def _thin_ink(sample: Image.Image) -> Image.Image | None:
    """A mask of the sample's thin ink (255 where there is some), the strokes of print:
    solid areas (a heading's black bar, a form's coloured fill, a photo) left out; None
    for a page with too little of it. Ink is darker than halfway from the paper (the
    median) to the darkest print (the 1st percentile), so that faint print counts too."""
    histogram = sample.histogram()
    total = sample.width * sample.height
    paper = _percentile(histogram, total, 0.5)
    darkest = _percentile(histogram, total, 0.01)
    if paper - darkest < MIN_CONTRAST:
        return None
    threshold = (paper + darkest) / 2
    mask = sample.point(lambda level: 255 if level < threshold else 0)
    thin = ImageChops.subtract(mask, _solid(mask, SOLID))
    return thin if ImageStat.Stat(thin).mean[0] / 255.0 > INKED else None


def _solid(mask: Image.Image, size: int) -> Image.Image:
    """The mask's solid areas: its blocks of ``size`` x ``size`` pixels that are ink all
    through (print's strokes are thinner). Block averages in Pillow take a millisecond,
    where a morphological opening would take 50 (Pillow's rank filters) or load numpy or
    OpenCV into every worker."""
    blocks = mask.reduce(size).point(lambda level: 255 if level == 255 else 0)
    return blocks.resize((blocks.width * size, blocks.height * size), Image.Resampling.NEAREST).crop(
        (0, 0, mask.width, mask.height)
    )


def _percentile(histogram: list[int], total: int, share: float) -> int:
    seen = 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= total * share:
            return level
    return 255


def _covered(ink: Image.Image, text: PageText, scale: float) -> float:
    """The share of ``ink`` that lies within the reading's lines (their boxes grown by a
    line's height, which takes in the ink of accents, underlines and box rules)."""
    inside = Image.new("L", ink.size, 0)
    draw = ImageDraw.Draw(inside)
    for line in text.lines:
        margin = line.box.height * 0.5
        draw.rectangle(
            (
                (line.box.left - margin) / scale,
                (line.box.top - margin) / scale,
                (line.box.right + margin) / scale,
                (line.box.bottom + margin) / scale,
            ),
            fill=255,
        )
    total = ImageStat.Stat(ink).sum[0]
    kept = ImageStat.Stat(ImageChops.multiply(ink, inside)).sum[0]
    return kept / total if total else 1.0

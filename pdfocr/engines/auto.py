"""The ``auto`` engine: Tesseract first, and a second engine (RapidOCR, when its extra is
installed) on the pages Tesseract reads poorly, the better reading kept.

Tesseract is fast and exact on scans; its page layout finds nothing on many photos,
receipts and coloured backgrounds, where RapidOCR's detector finds the lines. Asking the
second engine costs it a read (2-3 s a page, one thread), so it is asked only when
Tesseract's own result is poor:

- little text on an inked page (under ``MIN_CHARACTERS`` read where the page has ink), or
- a mean word confidence under ``POOR_CONFIDENCE``.

Of the two readings the one with more characters read well (characters weighted by
confidence, :attr:`pdfocr.quality.Reading.score`) is kept. Which engine read a page is in
its result. The choice happens after the page is turned upright (see
:func:`pdfocr.reading.read_page`): a page upside down reads poorly until it is turned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageStat

from ..errors import PdfocrError
from ..model import PageText
from ..quality import MIN_CHARACTERS, Reading
from .rapidocr import RapidOcrEngine
from .tesseract import TESSERACT_OPTIONS, TesseractEngine

POOR_CONFIDENCE = 75.0
"""Tesseract's readings of clean and faded scans score 85-96; below this a page is worth
a second engine's read."""
INKED = 0.005
"""A page with more dark pixels than this share has something on it to read."""
INK_SAMPLE_WIDTH = 400


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

    def reconsider(
        self, image: Image.Image, text: PageText, *, languages: Sequence[str], dpi: float
    ) -> tuple[PageText, str]:
        """The better of ``text`` (Tesseract's reading of ``image``) and the second
        engine's, when Tesseract's is poor; and the name of the engine that read it."""
        if not is_poor(image, Reading.of(text)) or not self._has_fallback(languages):
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


def is_poor(image: Image.Image, reading: Reading) -> bool:
    """Whether a reading of ``image`` is poor: little text where the page has ink, or
    low confidence."""
    if reading.characters < MIN_CHARACTERS:
        return ink_share(image) > INKED
    return reading.confidence is not None and reading.confidence < POOR_CONFIDENCE


def ink_share(image: Image.Image) -> float:
    """The share of the page that is darker than its paper by a clear margin."""
    gray = image.convert("L")
    factor = min(1.0, INK_SAMPLE_WIDTH / max(1, gray.width))
    sample = gray.resize((max(1, round(gray.width * factor)), max(1, round(gray.height * factor))))
    paper = ImageStat.Stat(sample).median[0]
    dark = sample.point(lambda level: 255 if level < paper * 0.6 else 0)
    return float(ImageStat.Stat(dark).mean[0]) / 255.0

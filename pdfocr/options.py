"""Conversion options: one frozen dataclass, validated once when it is built."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .engines import OcrEngine
from .errors import UsageError

DEFAULT_DPI = 300.0
"""Resolution assumed for images that do not declare one (documented in the README)."""

MIN_DPI, MAX_DPI = 10.0, 10_000.0

MAX_MEGAPIXELS = 1000.0
"""Images larger than this (width x height / 10^6) are refused as likely decompression
bombs: an A0 sheet scanned at 600 dpi is 560 megapixels."""

OCR_MAX_MEGAPIXELS = 50.0
"""Images larger than this are OCRed on a downscaled copy (the PDF keeps the original):
Tesseract gains nothing from more than ~400 dpi on A3 and slows down with every pixel."""

DEFAULT_PAGE_TIMEOUT = 300.0
"""Seconds a page may take in its worker before it is stopped. Tesseract needs a few
seconds for a dense page and about a minute for the largest page it is given (50
megapixels); a page still running after five minutes is stuck."""

DEFAULT_ROTATE_THRESHOLD = 8.0
"""Orientation confidence (Tesseract OSD) needed before a page is turned. Text pages score
10 to 30; photos and near-empty pages score below 2 and are left alone."""

# Tesseract language codes: "eng", "chi_sim", "script/Latin"; never a path that escapes.
_LANGUAGE_CODE = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")


def parse_languages(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Language codes from ``"eng+fra"`` or ``("eng", "fra")``, blanks dropped."""
    codes = spec.split("+") if isinstance(spec, str) else spec
    return tuple(code.strip() for code in codes if code.strip())


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert a scan bundle. Invalid values raise :class:`UsageError` at once."""

    languages: tuple[str, ...] = ("eng",)
    """Tesseract codes (a string such as ``"eng+fra"`` is accepted and split)."""
    jobs: int | None = None
    """Pages OCRed at once; ``None`` means one per CPU."""
    dpi: float = DEFAULT_DPI
    """Resolution assumed for images that carry none."""
    engine: str | OcrEngine = "tesseract"
    """An engine's name, or an engine object (see :class:`pdfocr.engines.OcrEngine`)."""
    rotate_pages: bool = False
    """Turn pages scanned sideways or upside down upright (needs an engine that detects
    orientation)."""
    rotate_threshold: float = DEFAULT_ROTATE_THRESHOLD
    deskew: bool = False
    """Straighten pages scanned slightly askew before OCR."""
    ocr_max_megapixels: float = OCR_MAX_MEGAPIXELS
    """Pages larger than this are OCRed on a downscaled copy."""
    skip_bad_pages: bool = False
    """Convert what can be converted: inputs and pages that fail (unreadable, corrupt, the
    engine failing, crashing or timing out on them) are left out and listed instead of
    stopping the run."""
    page_timeout: float | None = DEFAULT_PAGE_TIMEOUT
    """Seconds a page may take in its worker before it is stopped and reported; None for
    no limit."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", parse_languages(self.languages))
        if not self.languages:
            raise UsageError("at least one OCR language is needed")
        for code in self.languages:
            if not _LANGUAGE_CODE.match(code):
                raise UsageError(f"invalid language code {code!r} (expected codes like eng or chi_sim)")
        if self.jobs is not None and (
            not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 1
        ):
            raise UsageError(f"jobs must be a positive whole number, not {self.jobs!r}")
        if not isinstance(self.dpi, (int, float)) or isinstance(self.dpi, bool):
            raise UsageError(f"dpi must be a number, not {self.dpi!r}")
        if not MIN_DPI <= self.dpi <= MAX_DPI:
            raise UsageError(f"dpi must be between {MIN_DPI:g} and {MAX_DPI:g}, not {self.dpi:g}")
        if not self.engine:
            raise UsageError("an engine name is needed")
        if self.ocr_max_megapixels <= 0:
            raise UsageError(f"ocr_max_megapixels must be positive, not {self.ocr_max_megapixels:g}")
        if self.page_timeout is not None and (
            not isinstance(self.page_timeout, (int, float))
            or isinstance(self.page_timeout, bool)
            or not self.page_timeout > 0
        ):
            raise UsageError(
                f"the page timeout must be a positive number of seconds, not {self.page_timeout!r}"
            )
        if self.rotate_threshold < 0:
            raise UsageError(f"the rotation threshold must not be negative, not {self.rotate_threshold:g}")

    @property
    def worker_count(self) -> int:
        """The number of pages OCRed at once."""
        return self.jobs or os.cpu_count() or 1

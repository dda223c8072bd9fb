"""Conversion options: one frozen dataclass, validated once when it is built.

:class:`ConvertOptions` is the one description of a conversion. The CLI builds one; every
face of the library (:class:`pdfocr.Converter`, the module-level functions) takes one,
and also takes its fields as keywords (:class:`OptionKeywords`) for convenience.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from .engines import OcrEngine
from .errors import UsageError
from .languages import AUTO, first_read
from .pageranges import parse_ranges

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

OUTPUT_TYPES = ("auto", "pdf", "pdfa", "pdfa-1", "pdfa-2", "pdfa-3", "none")
"""What ``output_type`` takes: ``pdfa`` is PDF/A-2b; ``auto`` PDF/A-2b when that loses
nothing of the inputs, else plain PDF; ``none`` no PDF at all (the text and words only)."""
DEFAULT_ROTATE_THRESHOLD = 8.0
"""Orientation confidence (Tesseract OSD) needed before a page is turned. Text pages score
10 to 30; photos and near-empty pages score below 2 and are left alone."""

# Tesseract language codes: "eng", "chi_sim", "script/Latin"; never a path that escapes.
_LANGUAGE_CODE = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")
# Tesseract data files that are not languages: "osd" reads page orientation and gives a
# text layer of gibberish; "equ" is an equation detector.
NOT_LANGUAGES = {"osd": "page orientation data (rotate_pages uses it)", "equ": "equation detection data"}


def parse_languages(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Language codes from ``"eng+fra"`` or ``("eng", "fra")``, blanks dropped."""
    codes = spec.split("+") if isinstance(spec, str) else spec
    return tuple(code.strip() for code in codes if code.strip())


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert a scan bundle. Invalid values raise :class:`UsageError` at once."""

    languages: tuple[str, ...] = ("auto",)
    """Tesseract codes (a string such as ``"eng+fra"`` is accepted and split); ``auto``
    (the default): each page read in English first, and again in its own language when
    that reading leaves doubt (see :mod:`pdfocr.languages`)."""
    jobs: int | None = None
    """Pages OCRed at once; ``None`` means one per CPU. More than the CPUs this process may
    use only slows every page down, so the workers are capped at that (see
    :attr:`worker_count`)."""
    cluster: str | None = None
    """A Dask scheduler's address (``tcp://host:8786``, ``tls://...``): the pages run on
    its workers instead of this machine's (see :mod:`pdfocr.executors.cluster`); like
    ``jobs``, chosen when a :class:`~pdfocr.Converter` is made."""
    cluster_paths: bool = False
    """The inputs are on storage every worker of the cluster reads at the same paths: their
    pages travel as paths, not bytes (inputs given as bytes still travel as bytes)."""
    dpi: float = DEFAULT_DPI
    """Resolution assumed for images that carry none (see ``force_dpi``)."""
    force_dpi: bool = False
    """Use ``dpi`` for every image, also those that declare a resolution (a scanner that
    wrote 72 dpi into a 300-dpi scan makes a page of 35 x 46 inches)."""
    engine: str | OcrEngine = "auto"
    """An engine's name, or an engine object (see :class:`pdfocr.engines.OcrEngine`).
    ``auto``: Tesseract, and RapidOCR on the pages Tesseract reads poorly when the
    ``rapidocr`` extra is installed (see :mod:`pdfocr.engines.auto`)."""
    rotate_pages: bool | None = None
    """Turn pages scanned sideways or upside down upright: a page whose reading looks
    turned (lines running down the page, or confidence collapsing) gets the engine's
    orientation detection and a second read. None (the default): where the engine can
    tell which way up a page is; True: that, or a :class:`UsageError` for an engine that
    cannot; False: pages are read as they lie."""
    rotate_threshold: float = DEFAULT_ROTATE_THRESHOLD
    deskew: bool = False
    """Straighten pages scanned slightly askew before OCR."""
    flatten_photos: bool = True
    """Phone photos: the sheet found in the photo, its perspective corrected, cropped and
    its light made even, for OCR and for the page shown (see :mod:`pdfocr.photo`); False
    shows and reads a photo as it was taken."""
    keep_photos: bool = False
    """Phone photos whose sheet was found: read flattened, but shown as they were taken
    (their own bytes), the words placed where they lie in the photo."""

    pages: str | None = None
    """Which of the bundle's pages to read (``"1-3,7,10-end"``, 1-based over the pages as
    they come out; :mod:`pdfocr.pageranges`); the others are kept as they were (an image
    placed without a text layer, a PDF's page untouched). None: all."""
    ocr_max_megapixels: float = OCR_MAX_MEGAPIXELS
    """Pages larger than this are OCRed on a downscaled copy."""
    max_megapixels: float = MAX_MEGAPIXELS
    """Images larger than this are refused as likely decompression bombs."""
    password: str | None = field(default=None, repr=False)
    """The password that opens input PDFs that need one (the output carries none)."""
    redo_ocr: bool = False
    """Read again the scanned pages of input PDFs that have text already: invisible text
    (an earlier OCR, by any tool) is removed and a new layer grafted on; visible text
    stays, masked while the page is read (OCRmyPDF's ``--redo-ocr``)."""
    force_ocr: bool = False
    """Read every page of an input PDF, also those that have text already or only vector
    drawings: what each shows is replaced by its rendering (lossless, at the resolution of
    its images, 300 dpi when it has none) with a new text layer; the page object, its
    annotations and what points at it stay. The option that changes what a PDF's pages
    show (OCRmyPDF's ``--force-ocr``)."""
    strip_ocr: bool = False
    """Remove an earlier OCR's invisible text from input PDFs and read nothing: every page
    kept as it was, but for that text (images placed without a text layer)."""
    invalidate_digital_signatures: bool = False
    """Convert a digitally signed PDF anyway (refused otherwise): any change to its pages
    breaks the signature (OCRmyPDF's ``--invalidate-digital-signatures``)."""
    skip_bad_pages: bool = False
    """Convert what can be converted: inputs and pages that fail (unreadable, corrupt, the
    engine failing, crashing or timing out on them) are left out and listed instead of
    stopping the run."""
    page_timeout: float | None = DEFAULT_PAGE_TIMEOUT
    """Seconds a page may take in its worker before it is stopped and reported; None for
    no limit."""
    output_type: str = "auto"
    optimize: str = "none"
    """``lossless``: images stored smaller where they decode to exactly the same pixels
    (:mod:`pdfocr.optimize`); ``lossy`` or ``lossy=QUALITY``: that, and image pages shown
    as JPEGs where the engine reads them the same (:mod:`pdfocr.lossy`); ``none`` keeps
    every image's bytes."""
    """``auto``: PDF/A-2b when the result can be PDF/A without losing anything of the
    inputs, else plain PDF with a warning; ``pdfa`` (PDF/A-2b), ``pdfa-1``, ``pdfa-2``,
    ``pdfa-3``: that or an :class:`~pdfocr.errors.ArchivalError`; ``pdf``: plain PDF."""
    title: str | None = None
    """The document's title (None: the first input PDF's own, if the bundle starts with
    one); likewise ``author``, ``subject`` and ``keywords``."""
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None
    index: str | None = None
    """A full-text index (an SQLite file, made if missing, or a ``postgresql://`` URL) to
    add the written PDF's pages to, replacing what it held for that file (see
    :mod:`pdfocr.index`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", parse_languages(self.languages))
        if not self.languages:
            raise UsageError("at least one OCR language is needed")
        if AUTO in self.languages and len(self.languages) > 1:
            raise UsageError(f"{AUTO!r} chooses the languages itself: it goes alone, not with others")
        for code in self.languages:
            if not _LANGUAGE_CODE.match(code):
                raise UsageError(f"invalid language code {code!r} (expected codes like eng or chi_sim)")
            if code.lower() in NOT_LANGUAGES:
                raise UsageError(f"{code!r} is not a language but Tesseract's {NOT_LANGUAGES[code.lower()]}")
        if self.jobs is not None and (
            not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 1
        ):
            raise UsageError(f"jobs must be a positive whole number, not {self.jobs!r}")
        if self.cluster is not None and not (
            isinstance(self.cluster, str) and re.match(r"^(tcp|tls)://[^\s/]+$", self.cluster)
        ):
            raise UsageError(
                f"a cluster is a Dask scheduler's address (tcp://host:port), not {self.cluster!r}"
            )
        if self.cluster is not None and self.jobs is not None:
            raise UsageError(
                "jobs and cluster exclude each other: a cluster runs as many pages as its workers"
            )
        _check_number("dpi", self.dpi, low=MIN_DPI, high=MAX_DPI)
        if not self.engine:
            raise UsageError("an engine name is needed")
        if self.pages is not None:
            if not isinstance(self.pages, str):
                raise UsageError(
                    f"pages must be text such as '1-3,7,10-end', not {type(self.pages).__name__}"
                )
            parse_ranges(self.pages)
        _check_number("ocr_max_megapixels", self.ocr_max_megapixels, positive=True)
        _check_number("max_megapixels", self.max_megapixels, positive=True)
        if self.page_timeout is not None:
            _check_number("the page timeout", self.page_timeout, positive=True)
        if self.rotate_pages not in (None, True, False):
            raise UsageError(f"rotate_pages must be True, False or None, not {self.rotate_pages!r}")
        _check_number("the rotation threshold", self.rotate_threshold, low=0.0)
        quality = re.fullmatch(r"lossy(?:=(\d{1,3}))?", self.optimize)
        if self.optimize not in ("none", "lossless") and not (
            quality and 1 <= int(quality.group(1) or 60) <= 95
        ):
            levels = "none, lossless, lossy or lossy=1..95"
            raise UsageError(f"unknown optimize level {self.optimize!r} ({levels})")
        if self.output_type not in OUTPUT_TYPES:
            raise UsageError(f"unknown output type {self.output_type!r} (one of {', '.join(OUTPUT_TYPES)})")
        for name in ("title", "author", "subject", "keywords", "index"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{name} must be text, not {type(value).__name__}")
        if self.strip_ocr and (self.force_ocr or self.redo_ocr or self.pages is not None):
            raise UsageError("strip_ocr reads no page: not with force_ocr, redo_ocr or pages")
        if self.force_ocr and self.redo_ocr:
            raise UsageError("force_ocr and redo_ocr exclude each other (--force-ocr reads every page anew)")

    @property
    def engine_languages(self) -> tuple[str, ...]:
        """The languages the engine must have: those named, or the first read's (``auto``)."""
        return first_read(self.languages)

    @property
    def worker_count(self) -> int:
        """The number of pages OCRed at once: ``jobs``, at most one per usable CPU."""
        return min(self.jobs or usable_cpus(), usable_cpus())

    def replace(self, **changes: object) -> ConvertOptions:
        """A copy with ``changes`` (field names as keywords), validated like a new one."""
        unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(self)})
        if unknown:
            raise UsageError(f"unknown option {unknown[0]!r}")
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


class OptionKeywords(TypedDict, total=False):
    """:class:`ConvertOptions`'s fields as keywords, for the faces that take them."""

    languages: Sequence[str] | str
    jobs: int | None
    cluster: str | None
    cluster_paths: bool
    dpi: float
    force_dpi: bool
    engine: str | OcrEngine
    rotate_pages: bool | None
    rotate_threshold: float
    deskew: bool
    flatten_photos: bool
    keep_photos: bool
    pages: str | None
    ocr_max_megapixels: float
    max_megapixels: float
    password: str | None
    redo_ocr: bool
    force_ocr: bool
    strip_ocr: bool
    invalidate_digital_signatures: bool
    skip_bad_pages: bool
    page_timeout: float | None
    output_type: str
    optimize: str
    title: str | None
    author: str | None
    subject: str | None
    keywords: str | None
    index: str | None


def _check_number(
    name: str, value: object, *, low: float | None = None, high: float | None = None, positive: bool = False
) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number, not {value!r}")
    if positive and value <= 0:
        raise UsageError(f"{name} must be positive, not {value:g}")
    if low is not None and high is not None and not low <= value <= high:
        raise UsageError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    if low is not None and high is None and value < low:
        raise UsageError(f"{name} must not be below {low:g}, not {value:g}")

"""Reading a decoded page: prepared as the options ask (straightened), recognised, and
checked: a reading that looks like a page the wrong way up (see :mod:`pdfocr.quality`)
gets the engine's orientation detection and, if the page is turned, a second read of the
page turned upright; the better reading is kept.

Upright pages, the most, pay nothing for being checked: orientation detection costs about
a third of a read, and only pages whose reading looks turned get it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from .engines import OcrEngine, OrientationDetector, SecondOpinion, engine_boundary
from .inputs import LoadedPage, turned
from .model import PageText
from .options import ConvertOptions
from .preprocess import ocr_copy, orientation, straightened
from .quality import Reading


@dataclass(frozen=True)
class RecognizedPage:
    """A decoded, prepared page and its text."""

    page: LoadedPage
    text: PageText
    ocr_seconds: float
    """Time the engine took, every read and orientation detection of the page included."""
    rotated: int = 0
    """Degrees clockwise the page was turned to be upright (``rotate_pages``)."""
    deskewed: float = 0.0
    """Degrees counter-clockwise the page was rotated to straighten it (``deskew``)."""
    engine: str = ""
    """The engine that read the text (the ``auto`` engine's choice); empty: the one asked."""


def read_page(page: LoadedPage, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """``page`` straightened (``deskew``), recognised, turned upright and read again when
    its reading says it is not (``rotate_pages``), and, upright, read by a second engine
    when the first read it poorly and the engine has one (``auto``)."""
    found = _upright(page, engine, options)
    if not isinstance(engine, SecondOpinion):
        return found
    started = time.perf_counter()
    copy = ocr_copy(found.page, options.ocr_max_megapixels)
    text = found.text
    if not copy.is_page:  # the words as the engine's copy has them
        text = text.scaled(1 / copy.enlarge_x, copy.image.width, copy.image.height, 1 / copy.enlarge_y)
    with engine_boundary(engine):
        chosen, reader = engine.reconsider(copy.image, text, languages=options.languages, dpi=copy.dpi)
    if chosen is text:
        return _charged(replace(found, engine=reader), time.perf_counter() - started)
    if not copy.is_page:
        chosen = chosen.scaled(
            copy.enlarge_x, found.page.image.width, found.page.image.height, copy.enlarge_y
        )
    return _charged(replace(found, text=chosen, engine=reader), time.perf_counter() - started)


def _upright(page: LoadedPage, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """The page read, and turned and read again if its reading says it is not upright."""
    first = _read_as_is(page, engine, options)
    # An engine that cannot tell is refused up front when turning was asked for.
    if options.rotate_pages is False or not isinstance(engine, OrientationDetector):
        return first
    if not Reading.of(first.text).looks_turned:
        return first
    started = time.perf_counter()
    with engine_boundary(engine):
        degrees = orientation(page, engine, options.rotate_threshold)
    detection = time.perf_counter() - started
    if degrees == 0:
        return _charged(first, detection)
    second = _read_as_is(turned(page, degrees), engine, options, rotated=degrees)
    spent = detection + first.ocr_seconds
    if Reading.of(second.text).score >= Reading.of(first.text).score:
        return _charged(second, spent)
    return _charged(first, spent + second.ocr_seconds)


def _charged(found: RecognizedPage, seconds: float) -> RecognizedPage:
    return replace(found, ocr_seconds=found.ocr_seconds + seconds)


def _read_as_is(
    page: LoadedPage, engine: OcrEngine, options: ConvertOptions, rotated: int = 0
) -> RecognizedPage:
    """The page straightened if asked, and recognised (on a copy when its pixels are not
    square or it is too large, the words mapped back onto the page)."""
    deskewed = 0.0
    if options.deskew:
        page, deskewed = straightened(page)
    started = time.perf_counter()
    copy = ocr_copy(page, options.ocr_max_megapixels)
    with engine_boundary(engine):
        text = engine.recognize(copy.image, languages=options.languages, dpi=copy.dpi)
    if not copy.is_page:
        text = text.scaled(copy.enlarge_x, page.image.width, page.image.height, copy.enlarge_y)
    return RecognizedPage(page, text, time.perf_counter() - started, rotated, deskewed)

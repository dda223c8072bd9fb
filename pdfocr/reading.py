"""Reading a decoded page: prepared as the options ask (a phone photo's sheet flattened,
the page straightened), recognised, and checked. A reading that looks like a page the
wrong way up (see :mod:`pdfocr.quality`) gets the engine's orientation detection and, if
the page is turned, a second read of the page turned upright; one that leaves doubt about
its language (languages nobody named) a read in the page's own; a poor one, a second
engine's (``auto``). Each time the better reading is kept.

Upright pages, the most, pay nothing for being checked: orientation detection costs about
a third of a read, and only pages whose reading looks turned get it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from .engines import OcrEngine, OrientationDetector, ScriptDetector, SecondOpinion, engine_boundary
from .inputs import LoadedPage, turned, turned_point
from .languages import IDENTIFIED_SCRIPTS, doubtful, first_read, identified, is_auto, of_script, poor
from .model import PageText, Point
from .options import ConvertOptions
from .photo import Sheet, find_sheet, flattened, photo_point
from .preprocess import OcrCopy, ocr_copy, orientation, straightened, unstraightened_point
from .quality import Reading
from .readingorder import whole_lines


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
    languages: tuple[str, ...] = ()
    """The languages the text was read in (chosen per page when none were named)."""
    copy: OcrCopy | None = field(default=None, repr=False, compare=False)
    """The image the engine read (the page, or its square-pixel or smaller copy), kept
    for the steps that ask the engine again about the same page."""


def read_page(page: LoadedPage, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """``page`` (a phone photo: its sheet, flattened) straightened (``deskew``),
    recognised, turned upright and read again when its reading says it is not
    (``rotate_pages``), read again in its own language when none was named and the first
    reading leaves doubt (:mod:`pdfocr.languages`), and, upright, read by a second engine
    when the first read it poorly and the engine has one (``auto``)."""
    sheet = find_sheet(page.image) if page.photo and options.flatten_photos else None
    read = flattened(page, sheet) if sheet is not None else page
    found = _upright(read, engine, options, first_read(options.languages))
    if is_auto(options.languages):
        found = _in_its_language(found, engine, options)
    found = _second_opinion(found, engine, options)
    if sheet is not None and options.keep_photos:
        return _on_the_photo(found, page, sheet)
    return found


def _on_the_photo(found: RecognizedPage, photo: LoadedPage, sheet: Sheet) -> RecognizedPage:
    """The reading of a photo's flattened sheet moved onto the photo as it was taken
    (``keep_photos``), turned as the sheet was, at the resolution at which its sheet is
    its paper's size."""
    shown = turned(replace(photo, dpi=(sheet.dpi, sheet.dpi)), found.rotated)
    read_size = found.page.image.size
    on_photo = photo_point(sheet)

    def point(at: Point) -> Point:
        upright = unstraightened_point(at, read_size, found.deskewed)
        on_sheet = turned_point(upright, read_size, -found.rotated)
        return turned_point(on_photo(on_sheet), photo.image.size, found.rotated)

    text = found.text.mapped(point, *shown.image.size)
    return replace(found, page=shown, text=text, deskewed=0.0, copy=None)


def _upright(
    page: LoadedPage, engine: OcrEngine, options: ConvertOptions, languages: tuple[str, ...]
) -> RecognizedPage:
    """The page read, and turned and read again if its reading says it is not upright."""
    first = read_as_is(page, engine, options, languages)
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
    second = read_as_is(turned(page, degrees), engine, options, languages, rotated=degrees)
    best = _better(first, second, detection)
    if best is first and Reading.of(first.text).running_down > 0.5:
        # Read sideways, the page lies a quarter turn one way or the other: when the way
        # detection chose reads worse than the page as it lay, the other way is tried.
        other = (degrees + 180) % 360
        third = read_as_is(turned(page, other), engine, options, languages, rotated=other)
        best = _better(best, third, 0.0)
    return best


def _in_its_language(found: RecognizedPage, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """The page read again in the language it is in, if the first reading leaves doubt
    and that is another installed one (see :mod:`pdfocr.languages`)."""
    reading = Reading.of(found.text)
    if not isinstance(engine, ScriptDetector) or not doubtful(reading):
        return found
    started = time.perf_counter()
    with engine_boundary(engine):
        installed = engine.installed_languages()
        script = "Latin"
        if poor(reading):  # perhaps not Latin at all
            copy = _engine_copy(found, options)
            script = engine.detect_script(copy.image, dpi=copy.dpi) or "Latin"
    if script in IDENTIFIED_SCRIPTS:
        code = identified(found.text.text, installed, script)
        chosen: tuple[str, ...] = (code,) if code else ()
    else:
        chosen = of_script(script, installed)
    spent = time.perf_counter() - started
    if not chosen or chosen == found.languages:
        return _charged(found, spent)
    again = read_as_is(found.page, engine, options, chosen, rotated=found.rotated, straighten=False)
    return _better(found, replace(again, deskewed=found.deskewed), spent)


def _second_opinion(found: RecognizedPage, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """The better of the page's reading and the one the engine's second engine makes of
    it, if the first is poor (the ``auto`` engine)."""
    if not isinstance(engine, SecondOpinion):
        return found
    started = time.perf_counter()
    copy = _engine_copy(found, options)
    text = found.text
    if not copy.is_page:  # the words as the engine's copy has them
        text = text.scaled(1 / copy.enlarge_x, copy.image.width, copy.image.height, 1 / copy.enlarge_y)
    with engine_boundary(engine):
        chosen, reader = engine.reconsider(copy.image, text, languages=found.languages, dpi=copy.dpi)
    if chosen is text:
        return _charged(replace(found, engine=reader), time.perf_counter() - started)
    if not copy.is_page:
        width, height = found.page.image.size
        chosen = chosen.scaled(copy.enlarge_x, width, height, copy.enlarge_y)
    return _charged(replace(found, text=chosen, engine=reader), time.perf_counter() - started)


def _better(first: RecognizedPage, second: RecognizedPage, spent: float) -> RecognizedPage:
    """The reading that reads better (see :attr:`Reading.score`), charged with the time
    of both and ``spent`` besides."""
    if Reading.of(second.text).score >= Reading.of(first.text).score:
        return _charged(second, spent + first.ocr_seconds)
    return _charged(first, spent + second.ocr_seconds)


def _engine_copy(found: RecognizedPage, options: ConvertOptions) -> OcrCopy:
    """The image the engine read for ``found`` (made again only if it was not kept)."""
    return found.copy if found.copy is not None else ocr_copy(found.page, options.ocr_max_megapixels)


def _charged(found: RecognizedPage, seconds: float) -> RecognizedPage:
    return replace(found, ocr_seconds=found.ocr_seconds + seconds)


def read_as_is(
    page: LoadedPage,
    engine: OcrEngine,
    options: ConvertOptions,
    languages: tuple[str, ...],
    rotated: int = 0,
    straighten: bool = True,
) -> RecognizedPage:
    """The page straightened if asked, and recognised in ``languages`` (on a copy when
    its pixels are not square or it is too large, the words mapped back onto the page)."""
    deskewed = 0.0
    if options.deskew and straighten:
        page, deskewed = straightened(page)
    started = time.perf_counter()
    copy = ocr_copy(page, options.ocr_max_megapixels)
    with engine_boundary(engine):
        text = engine.recognize(copy.image, languages=languages, dpi=copy.dpi)
    text = whole_lines(text)
    if not copy.is_page:
        text = text.scaled(copy.enlarge_x, page.image.width, page.image.height, copy.enlarge_y)
    seconds = time.perf_counter() - started
    return RecognizedPage(page, text, seconds, rotated, deskewed, languages=languages, copy=copy)

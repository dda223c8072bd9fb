"""One page's work, as a worker process does it: decode the page, prepare it (upright,
straight), recognise it, draw its one-page PDF; and the result the caller gets for it."""

from __future__ import annotations

import contextlib
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from .engines import OcrEngine, engine_boundary
from .errors import PdfocrError, PdfocrWarning
from .inputs import LoadedPage, PageSource, load_page
from .model import PageText
from .options import ConvertOptions
from .preprocess import ocr_copy, straightened, upright
from .render import render_page


@dataclass(frozen=True)
class PageResult:
    """One page of a conversion."""

    source: str
    """The input file (or ``<input N>`` for in-memory data) the page came from."""
    page: int | None
    """The page within a multi-page input file (1-based); None for single-page files."""
    text: str
    ocr_seconds: float
    seconds: float
    """Time spent on the page in its worker: decoding, OCR and drawing."""
    rotated: int = 0
    """Degrees clockwise the page was turned to be upright (``rotate_pages``)."""
    deskewed: float = 0.0
    """Degrees counter-clockwise the page was rotated to straighten it (``deskew``)."""
    warnings: tuple[str, ...] = ()
    """What the page's work warned about (:class:`~pdfocr.errors.PdfocrWarning`): the
    caller issues them again, since a worker's own warnings reach nobody."""


@dataclass(frozen=True)
class SkippedPage:
    """An input or page left out of a conversion (``skip_bad_pages``), and why."""

    error: PdfocrError
    """What went wrong; its ``file`` and ``page`` say where."""

    @property
    def source(self) -> str | None:
        return self.error.file

    @property
    def page(self) -> int | None:
        return self.error.page

    @property
    def reason(self) -> str:
        return self.error.message

    def __str__(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class PageTask:
    """Everything a worker needs to turn one page into a one-page PDF: plain data that
    can travel to another process or machine (the page's input as bytes, or a path the
    worker can read)."""

    index: int
    source: PageSource
    engine: OcrEngine
    options: ConvertOptions
    draw: bool = True
    """Whether to draw the page's PDF (False: its text is all that is wanted)."""


@dataclass(frozen=True)
class PageOutcome:
    """A finished page, as a worker hands it back: what the caller sees, and the page's
    one-page PDF (empty when the task did not ask for it)."""

    index: int
    result: PageResult
    pdf: bytes


@contextlib.contextmanager
def about_page(source: PageSource) -> Iterator[None]:
    """Make every error raised in the block name the page's file and page."""
    try:
        yield
    except PdfocrError as error:
        raise error.locate(source.label, source.page_number) from None
    except Exception as error:  # a bug
        message = f"internal error: {type(error).__name__}: {error}"
        internal = PdfocrError(message, file=source.label, page=source.page_number)
        internal.detail = traceback.format_exc()
        raise internal from error


@dataclass(frozen=True)
class RecognizedPage:
    """A decoded, prepared page and its text."""

    page: LoadedPage
    text: PageText
    ocr_seconds: float
    rotated: int
    """Degrees clockwise the page was turned to be upright (``rotate_pages``)."""
    deskewed: float
    """Degrees counter-clockwise the page was rotated to straighten it (``deskew``)."""


def recognize_page(source: PageSource, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """Decode one page, prepare it as ``options`` ask, and recognise its text."""
    with about_page(source):
        page = load_page(source, options)
        rotated, deskewed = 0, 0.0
        if options.rotate_pages:
            page, rotated = upright(page, engine, options.rotate_threshold)
        if options.deskew:
            page, deskewed = straightened(page)
        started = time.perf_counter()
        image, dpi, enlarge = ocr_copy(page, options.ocr_max_megapixels)
        with engine_boundary(engine):
            text = engine.recognize(image, languages=options.languages, dpi=dpi)
        if enlarge != 1.0:
            text = text.scaled(enlarge, page.image.width, page.image.height)
        return RecognizedPage(page, text, time.perf_counter() - started, rotated, deskewed)


def process_page(task: PageTask) -> PageOutcome:
    """Decode, recognise and (if the task asks) draw one page (runs in a worker)."""
    started = time.perf_counter()
    source = task.source
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PdfocrWarning)
        found = recognize_page(source, task.engine, task.options)
        pdf = b""
        if task.draw:
            with about_page(source):
                pdf = render_page(found.page, found.text)
    result = PageResult(
        source=source.label,
        page=source.page_number,
        text=found.text.text,
        ocr_seconds=found.ocr_seconds,
        seconds=time.perf_counter() - started,
        rotated=found.rotated,
        deskewed=found.deskewed,
        warnings=tuple(str(w.message) for w in caught if issubclass(w.category, PdfocrWarning)),
    )
    return PageOutcome(index=task.index, result=result, pdf=pdf)

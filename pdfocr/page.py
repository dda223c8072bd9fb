"""One page's work, as a worker process does it: decode the page, prepare it (upright,
straight), recognise it, draw its one-page PDF; and the result the caller gets for it."""

from __future__ import annotations

import contextlib
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from .engines import OcrEngine
from .errors import PdfocrError, PdfocrWarning
from .inputs import LoadedPage, PageSource, load_page
from .lossy import lossy_page, lossy_quality
from .model import PageText, PageWords
from .options import ConvertOptions
from .pdfpages import read_pdf_page
from .reading import RecognizedPage, read_page
from .render import render_page
from .textlayer import text_layer

FEW_WORDS = 5
"""A page that shows an image and has fewer words of text than this (a stamp, a page
number added by a scanner) is kept, with a warning that it was not read."""


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
    kept: bool = False
    """A PDF page kept as it was, not OCRed: it already had text (``text`` is that), or
    shows no image to read (vector drawings only)."""
    engine: str = ""
    """The engine that read the page (``auto`` chooses one per page); empty when kept."""
    languages: tuple[str, ...] = ()
    """The languages the page was read in (chosen per page with ``languages="auto"``)."""
    words: PageWords | None = None
    """The page's words, lines and blocks with their boxes, as the written PDF shows the
    page (:class:`~pdfocr.model.PageWords`): the engine's, or a kept page's own text."""
    read: bool = True
    """False for a page left out by ``pages``: kept as it was, not read (no text)."""
    number: int | None = None
    """The page of the written PDF it is (1-based); None when no PDF was written."""


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
    read: bool = True
    """Whether to read the page (False: left out by ``pages``, kept as it was: an image
    placed without a text layer, a PDF's page untouched)."""


@dataclass(frozen=True)
class PageOutcome:
    """A finished page, as a worker hands it back: what the caller sees, and the page's
    one-page PDF (empty when the task did not ask for it). For a page of a PDF, that is
    only its text layer, to be grafted onto the original page (empty for a kept page)."""

    index: int
    result: PageResult
    pdf: bytes
    layer_only: bool = False
    """``pdf`` is a text layer for the input PDF's own page, not a whole page."""
    replaces_text: bool = False
    """The page's invisible text (an earlier OCR) is to be removed before the layer is
    grafted on (``redo_ocr``)."""
    replaces_content: bool = False
    """``pdf`` is a PDF page rendered and read anew (``force_ocr``): it replaces what the
    input PDF's own page shows, the page object staying."""


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


def recognize_page(source: PageSource, engine: OcrEngine, options: ConvertOptions) -> RecognizedPage:
    """Decode one page, prepare it as ``options`` ask, and recognise its text."""
    with about_page(source):
        return read_page(load_page(source, options), engine, options)


def process_page(task: PageTask) -> PageOutcome:
    """Decode, recognise and (if the task asks) draw one page (runs in a worker)."""
    started = time.perf_counter()
    source = task.source
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PdfocrWarning)
        if not task.read:
            found, pdf, text, words = _unread_page(task)
        elif source.is_pdf and not task.options.force_ocr:
            found, pdf, text, words = _pdf_page(task)
        else:
            found, pdf, text, words = _image_page(task)
    kept = found is None and task.read
    result = PageResult(
        source=source.label,
        page=source.page_number,
        text=text,
        ocr_seconds=found.ocr_seconds if found else 0.0,
        seconds=time.perf_counter() - started,
        rotated=found.rotated if found else 0,
        deskewed=found.deskewed if found else 0.0,
        warnings=tuple(str(w.message) for w in caught if issubclass(w.category, PdfocrWarning)),
        kept=kept,
        engine=(found.engine or task.engine.name) if found else "",
        languages=found.languages if found else (),
        words=words,
        read=task.read,
    )
    layer_only = source.is_pdf and not (task.options.force_ocr and task.read)
    replaces_text = layer_only and ((task.options.redo_ocr and not kept) or task.options.strip_ocr)
    replaces_content = source.is_pdf and task.options.force_ocr and task.read
    return PageOutcome(
        task.index,
        result,
        pdf,
        layer_only=layer_only,
        replaces_text=replaces_text,
        replaces_content=replaces_content,
    )


def _unread_page(task: PageTask) -> tuple[None, bytes, str, PageWords | None]:
    """A page left out by ``pages``: an image placed as it is, without a text layer (its
    words none, on a page of its size); a PDF's page untouched (nothing to send back)."""
    if task.source.is_pdf:
        return None, b"", "", None
    with about_page(task.source):
        page = load_page(task.source, task.options)
        blank = PageText(page.image.width, page.image.height)
        pdf = render_page(page, blank) if task.draw else b""
    return None, pdf, "", PageWords(blank, page.dpi)


def _image_page(task: PageTask) -> tuple[RecognizedPage, bytes, str, PageWords]:
    """An image, or a PDF page rendered to replace it (``force_ocr``): recognised, and
    drawn as a one-page PDF (the image, the text on top); and its text."""
    found = recognize_page(task.source, task.engine, task.options)
    pdf = b""
    if task.draw:
        with about_page(task.source):
            shown = found.page
            quality = lossy_quality(task.options.optimize)
            if quality is not None:
                shown, why = lossy_page(found, task.engine, task.options, quality)
                if why is not None:
                    label = task.source.label + (
                        f" (page {task.source.page_number})" if task.source.page_number else ""
                    )
                    warnings.warn(PdfocrWarning(f"{label}: {why}"), stacklevel=2)
            pdf = render_page(shown, found.text)
    return found, pdf, found.text.text, PageWords(found.text, found.page.dpi)


def _pdf_page(task: PageTask) -> tuple[RecognizedPage | None, bytes, str, PageWords | None]:
    """A page of a PDF: what was read (None for a page kept as it is), its text layer,
    drawn the size of the page as a reader sees it, and the page's text: a kept page's
    own; for a page read with visible text on it (``redo_ocr``), that text, then what was
    read."""
    source = task.source
    with about_page(source):
        redo = task.options.redo_ocr
        found = read_pdf_page(
            source.label,
            source.frame_in_data,
            path=source.path,
            data=source.data,
            password=task.options.password,
            redo=redo,
        )
        if not found.to_read:
            if found.has_images and len(found.text.split()) < FEW_WORDS:
                warnings.warn(
                    PdfocrWarning(
                        f"{source.label} (page {source.frame + 1}): a scan with only a little text on it "
                        f"({found.text[:40]!r}) was kept as it was; --force-ocr reads it"
                    ),
                    stacklevel=2,
                )
            kept = PageWords(found.words, (72.0, 72.0), origin="pdf") if found.words is not None else None
            return None, b"", found.text, kept
        recognized = read_page(LoadedPage(image=found.image, dpi=found.pixel_dpi), task.engine, task.options)
        page, rotated = recognized.page, recognized.rotated
        # The layer is the size of the page as the reader will see it: turned, the page's
        # sides swap; straightened, its content turns within the same box.
        width, height = found.size[::-1] if rotated in (90, 270) else found.size
        layer = text_layer(recognized.text, width, height, page.dpi) if task.draw else b""
    read = recognized.text.text
    words = PageWords(recognized.text, page.dpi)
    return recognized, layer, f"{found.visible_text}\n{read}" if found.visible_text else read, words

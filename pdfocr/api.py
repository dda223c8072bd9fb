"""The public API: ``convert`` and ``ocr_image``, each with an ``asyncio`` twin.

The sync and async faces share one implementation. The async functions run it in a
thread (the heavy work is in worker processes), so the event loop never blocks;
cancelling the awaiting task stops the workers and writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar, Union

from . import __version__
from .engines import OcrEngine, resolve_engine
from .errors import UsageError
from .inputs import InputItem, expand_inputs, load_page, ocr_ready
from .merge import atomic_output, check_writable, merge_pages
from .options import DEFAULT_DPI, ConvertOptions
from .pipeline import PageOutcome, PageTask, run_pages

T = TypeVar("T")

Inputs = InputItem | Sequence[InputItem]
"""One input or a sequence of them: paths (files or folders), bytes, binary file objects."""
Output = Union[str, "os.PathLike[str]", BinaryIO]
"""A path, or a binary file object the finished PDF is written to."""


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


@dataclass(frozen=True)
class Result:
    """What a conversion produced."""

    pages: tuple[PageResult, ...]
    seconds: float
    """Wall time of the whole conversion."""

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def text(self) -> str:
        """Every page's text, pages separated by form feeds (as in the sidecar)."""
        return "\f".join(page.text + "\n" for page in self.pages)


@dataclass(frozen=True)
class Progress:
    """Reported to the ``progress`` callback each time a page is finished."""

    done: int
    total: int
    page: PageResult
    elapsed: float


ProgressCallback = Callable[[Progress], object]


def convert(
    inputs: Inputs,
    output: Output,
    *,
    languages: Sequence[str] | str = ("eng",),
    jobs: int | None = None,
    dpi: float = DEFAULT_DPI,
    engine: str | OcrEngine = "tesseract",
    sidecar: Output | None = None,
    progress: ProgressCallback | None = None,
) -> Result:
    """Convert a scan bundle into one searchable PDF written to ``output``.

    ``inputs`` is one input or a sequence: image files, folders (their images in natural
    order), bytes or binary file objects; every frame of a multi-page TIFF is a page.
    ``languages`` are Tesseract codes (``("eng", "fra")`` or ``"eng+fra"``); ``jobs`` is
    the number of pages OCRed at once (default: one per CPU); ``dpi`` is assumed for images
    that declare no resolution. ``sidecar`` receives the plain text, pages separated by
    form feeds. ``progress`` is called after each page, in the calling thread.

    Nothing is written unless the whole conversion succeeds; an existing output file is
    replaced atomically. Raises a :class:`~pdfocr.errors.PdfocrError` subclass on failure.
    """
    options = ConvertOptions(languages=_languages(languages), jobs=jobs, dpi=dpi, engine=engine)
    return _convert(inputs, output, options, sidecar, progress, cancel=None)


async def convert_async(
    inputs: Inputs,
    output: Output,
    *,
    languages: Sequence[str] | str = ("eng",),
    jobs: int | None = None,
    dpi: float = DEFAULT_DPI,
    engine: str | OcrEngine = "tesseract",
    sidecar: Output | None = None,
    progress: ProgressCallback | None = None,
) -> Result:
    """:func:`convert` for ``asyncio``: the event loop keeps running during the conversion,
    ``progress`` is called on the event loop, and cancelling the awaiting task stops the
    workers and writes nothing."""
    options = ConvertOptions(languages=_languages(languages), jobs=jobs, dpi=dpi, engine=engine)
    loop = asyncio.get_running_loop()
    report: ProgressCallback | None = None
    if progress is not None:
        callback = progress

        def report(event: Progress) -> None:
            loop.call_soon_threadsafe(callback, event)

    cancel = threading.Event()
    work = functools.partial(_convert, inputs, output, options, sidecar, report, cancel)
    return await _in_thread(work, cancel)


def ocr_image(
    image: InputItem,
    *,
    languages: Sequence[str] | str = ("eng",),
    dpi: float = DEFAULT_DPI,
    engine: str | OcrEngine = "tesseract",
) -> str:
    """The text of one image (a path, bytes or a binary file object).

    For a multi-page TIFF, the text of every page, separated by form feeds."""
    options = ConvertOptions(languages=_languages(languages), dpi=dpi, engine=engine)
    ocr = resolve_engine(options.engine)
    ocr.check(options.languages)
    texts = []
    for source in expand_inputs([image]):
        page = load_page(source, options.dpi)
        try:
            found = ocr.recognize(ocr_ready(page.image), languages=options.languages, dpi=page.dpi[0])
        except Exception as error:
            if hasattr(error, "locate"):
                raise error.locate(source.label, source.page_number) from None
            raise
        texts.append(found.text)
    return "\f".join(texts)


async def ocr_image_async(
    image: InputItem,
    *,
    languages: Sequence[str] | str = ("eng",),
    dpi: float = DEFAULT_DPI,
    engine: str | OcrEngine = "tesseract",
) -> str:
    """:func:`ocr_image` for ``asyncio``; many calls run concurrently under ``gather``."""
    work = functools.partial(ocr_image, image, languages=languages, dpi=dpi, engine=engine)
    return await _in_thread(work, None)


async def _in_thread(work: Callable[[], T], cancel: threading.Event | None) -> T:
    future = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        # shield: a cancelled caller must still wait for the thread to clean up.
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if cancel is not None:
            cancel.set()
        with contextlib.suppress(Exception):
            await future
        raise


def _languages(languages: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(languages, str):
        return tuple(code for code in languages.split("+") if code)
    return tuple(languages)


def _as_list(inputs: Inputs) -> list[InputItem]:
    if isinstance(inputs, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(inputs, "read"):
        return [inputs]  # type: ignore[list-item]
    return list(inputs)


def _convert(
    inputs: Inputs,
    output: Output,
    options: ConvertOptions,
    sidecar: Output | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Result:
    started = time.perf_counter()
    items = _as_list(inputs)
    if not items:
        raise UsageError("no inputs given")
    targets = [target for target in (output, sidecar) if isinstance(target, (str, os.PathLike))]
    for target in targets:
        check_writable(Path(target))
    _refuse_overwriting_inputs(items, targets)
    sources = expand_inputs(items)
    engine = resolve_engine(options.engine)
    engine.check(options.languages)

    with tempfile.TemporaryDirectory(prefix="pdfocr-") as workdir:
        tasks = [
            PageTask(index, source, engine, options.languages, options.dpi, workdir)
            for index, source in enumerate(sources)
        ]
        done = 0

        def page_finished(outcome: PageOutcome) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                event = Progress(done, len(tasks), _page_result(outcome), time.perf_counter() - started)
                progress(event)

        outcomes = run_pages(tasks, options.worker_count, page_finished, cancel)
        result = Result(tuple(_page_result(o) for o in outcomes), 0.0)
        _write_outputs(outcomes, output, sidecar, result.text, Path(workdir))
    return Result(result.pages, time.perf_counter() - started)


def _page_result(outcome: PageOutcome) -> PageResult:
    return PageResult(outcome.label, outcome.page_number, outcome.text, outcome.ocr_seconds, outcome.seconds)


def _refuse_overwriting_inputs(items: Sequence[InputItem], targets: Sequence[str | os.PathLike[str]]) -> None:
    inputs = {os.path.realpath(item) for item in items if isinstance(item, (str, os.PathLike))}
    for target in targets:
        if os.path.realpath(target) in inputs:
            raise UsageError("the output would overwrite an input", file=os.fspath(target))


def _write_outputs(
    outcomes: Sequence[PageOutcome], output: Output, sidecar: Output | None, text: str, workdir: Path
) -> None:
    metadata = {"/Producer": f"pdfocr {__version__}", "/Creator": f"pdfocr {__version__}"}
    sidecar_bytes = text.encode("utf-8")
    with contextlib.ExitStack() as commits:
        # Every output is complete before any of them is put in place.
        if isinstance(output, (str, os.PathLike)):
            stream = commits.enter_context(atomic_output(Path(output)))
            merge_pages([o.pdf_path for o in outcomes], stream, metadata)
        else:
            merged = workdir / "merged.pdf"
            with merged.open("wb") as stream:
                merge_pages([o.pdf_path for o in outcomes], stream, metadata)
        if isinstance(sidecar, (str, os.PathLike)):
            commits.enter_context(atomic_output(Path(sidecar))).write(sidecar_bytes)
    # File objects cannot be replaced atomically; they are written only after the rest.
    if not isinstance(output, (str, os.PathLike)):
        with merged.open("rb") as stream:
            shutil.copyfileobj(stream, output)
    if sidecar is not None and not isinstance(sidecar, (str, os.PathLike)):
        sidecar.write(sidecar_bytes)
    if hasattr(output, "flush"):
        output.flush()

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
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar, Union

from . import __version__
from .engines import OcrEngine, OrientationDetector, resolve_engine
from .errors import Interrupted, OutputError, UsageError, os_reason
from .inputs import InputItem, PageSource, expand_inputs
from .merge import atomic_output, atomic_path, check_writable, merge_pages
from .options import (
    DEFAULT_DPI,
    DEFAULT_PAGE_TIMEOUT,
    DEFAULT_ROTATE_THRESHOLD,
    ConvertOptions,
    parse_languages,
)
from .page import PageOutcome, PageResult, PageTask, SkippedPage, recognize_page
from .pipeline import WorkerPool, run_pages

T = TypeVar("T")

Inputs = InputItem | Sequence[InputItem]
"""One input or a sequence of them: paths (files or folders), bytes, binary file objects."""
Output = Union[str, "os.PathLike[str]", BinaryIO]
"""A path, or a binary file object the finished PDF is written to."""


@dataclass(frozen=True)
class Result:
    """What a conversion produced."""

    pages: tuple[PageResult, ...]
    seconds: float
    """Wall time of the whole conversion."""
    skipped: tuple[SkippedPage, ...] = ()
    """Inputs and pages left out (``skip_bad_pages``): the inputs found bad up front, in
    bundle order, then the pages that failed, in page order."""

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def text(self) -> str:
        """Every page's text, pages separated by form feeds (as in the sidecar)."""
        return _joined_text(self.pages)


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
    rotate_pages: bool = False,
    rotate_threshold: float = DEFAULT_ROTATE_THRESHOLD,
    deskew: bool = False,
    skip_bad_pages: bool = False,
    page_timeout: float | None = DEFAULT_PAGE_TIMEOUT,
    cancel: threading.Event | None = None,
) -> Result:
    """Convert a scan bundle into one searchable PDF written to ``output``.

    ``inputs`` is one input or a sequence: image files, folders (their images in natural
    order), bytes or binary file objects; every frame of a multi-page TIFF is a page.
    ``languages`` are Tesseract codes (``("eng", "fra")`` or ``"eng+fra"``); ``jobs`` is
    the number of pages OCRed at once (default: one per CPU); ``dpi`` is assumed for images
    that declare no resolution. ``sidecar`` receives the plain text, pages separated by
    form feeds. ``progress`` is called after each page, in the calling thread.
    ``rotate_pages`` turns pages found sideways or upside down upright (when the engine is
    at least ``rotate_threshold`` sure); ``deskew`` straightens slightly skewed scans.
    ``skip_bad_pages`` leaves out inputs and pages that cannot be converted (listed in
    :attr:`Result.skipped`) instead of failing; ``page_timeout`` stops a page still
    running after that many seconds (None: no limit) and reports it as failed. Setting
    ``cancel`` (from another thread, or a signal handler) stops the conversion within a
    fraction of a second: :class:`~pdfocr.errors.Interrupted`, nothing written.

    Nothing is written unless the whole conversion succeeds; an existing output file is
    replaced atomically. Raises a :class:`~pdfocr.errors.PdfocrError` subclass on failure.
    """
    options = _options(
        languages, jobs, dpi, engine, rotate_pages, rotate_threshold, deskew, skip_bad_pages, page_timeout
    )
    return _convert(inputs, output, options, sidecar, progress, cancel)


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
    rotate_pages: bool = False,
    rotate_threshold: float = DEFAULT_ROTATE_THRESHOLD,
    deskew: bool = False,
    skip_bad_pages: bool = False,
    page_timeout: float | None = DEFAULT_PAGE_TIMEOUT,
) -> Result:
    """:func:`convert` for ``asyncio``: the event loop keeps running during the conversion,
    ``progress`` is called on the event loop, and cancelling the awaiting task stops the
    workers and writes nothing."""
    options = _options(
        languages, jobs, dpi, engine, rotate_pages, rotate_threshold, deskew, skip_bad_pages, page_timeout
    )
    # A thread of its own: a long conversion must not hold one of the loop's default
    # executor threads, which the application needs for its own blocking calls.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdfocr") as thread:
        return await _convert_async(inputs, output, options, sidecar, progress, None, thread)


async def _convert_async(
    inputs: Inputs,
    output: Output,
    options: ConvertOptions,
    sidecar: Output | None,
    progress: ProgressCallback | None,
    pool: WorkerPool | None,
    threads: Executor,
) -> Result:
    loop = asyncio.get_running_loop()
    report: ProgressCallback | None = None
    if progress is not None:
        callback = progress

        def report(event: Progress) -> None:
            loop.call_soon_threadsafe(callback, event)

    cancel = threading.Event()
    work = functools.partial(_convert, inputs, output, options, sidecar, report, cancel, pool)
    return await _in_thread(work, cancel, threads)


class Converter:
    """Conversions that share one pool of warm worker processes.

    Open one and convert any number of bundles through it, one after another or many at
    once (a web service opens one at startup): the workers stay up with their engine
    loaded, and at most ``jobs`` pages are being OCRed at any moment, whatever the number
    of conversions under way::

        async with pdfocr.Converter(jobs=2) as converter:
            results = await asyncio.gather(*(converter.convert_async(s, o) for s, o in work))

    An error in one conversion does not disturb the others; closing the converter (or
    leaving the ``with`` block) stops the workers, at once on Ctrl-C.
    """

    def __init__(self, *, jobs: int | None = None) -> None:
        self.jobs = ConvertOptions(jobs=jobs).worker_count
        self._pool = WorkerPool(self.jobs)
        # Coordination threads mostly wait for pages; they cost little and let every
        # conversion make progress while others wait for workers.
        self._threads = ThreadPoolExecutor(max_workers=64, thread_name_prefix="pdfocr")

    def convert(
        self,
        inputs: Inputs,
        output: Output,
        *,
        languages: Sequence[str] | str = ("eng",),
        dpi: float = DEFAULT_DPI,
        engine: str | OcrEngine = "tesseract",
        sidecar: Output | None = None,
        progress: ProgressCallback | None = None,
        rotate_pages: bool = False,
        rotate_threshold: float = DEFAULT_ROTATE_THRESHOLD,
        deskew: bool = False,
        skip_bad_pages: bool = False,
        page_timeout: float | None = DEFAULT_PAGE_TIMEOUT,
        cancel: threading.Event | None = None,
    ) -> Result:
        """:func:`convert`, on this converter's workers."""
        options = _options(
            languages, None, dpi, engine, rotate_pages, rotate_threshold, deskew, skip_bad_pages, page_timeout
        )
        return _convert(inputs, output, options, sidecar, progress, cancel, self._pool)

    async def convert_async(
        self,
        inputs: Inputs,
        output: Output,
        *,
        languages: Sequence[str] | str = ("eng",),
        dpi: float = DEFAULT_DPI,
        engine: str | OcrEngine = "tesseract",
        sidecar: Output | None = None,
        progress: ProgressCallback | None = None,
        rotate_pages: bool = False,
        rotate_threshold: float = DEFAULT_ROTATE_THRESHOLD,
        deskew: bool = False,
        skip_bad_pages: bool = False,
        page_timeout: float | None = DEFAULT_PAGE_TIMEOUT,
    ) -> Result:
        """:func:`convert_async`, on this converter's workers."""
        options = _options(
            languages, None, dpi, engine, rotate_pages, rotate_threshold, deskew, skip_bad_pages, page_timeout
        )
        return await _convert_async(inputs, output, options, sidecar, progress, self._pool, self._threads)

    @property
    def in_flight(self) -> int:
        """Pages being OCRed right now, across all conversions (at most ``jobs``)."""
        return self._pool.in_flight

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers (after their current pages, or at once with ``kill``)."""
        self._pool.close(kill=kill)
        self._threads.shutdown(wait=False)

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        self.close(kill=kind is not None and not issubclass(kind, Exception))

    async def __aenter__(self) -> Converter:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: object
    ) -> None:
        kill = kind is not None and not issubclass(kind, Exception)
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(self.close, kill=kill))


def ocr_image(
    image: InputItem,
    *,
    languages: Sequence[str] | str = ("eng",),
    dpi: float = DEFAULT_DPI,
    engine: str | OcrEngine = "tesseract",
) -> str:
    """The text of one image (a path, bytes or a binary file object).

    For a multi-page TIFF, the text of every page, separated by form feeds."""
    return _ocr_image(
        image, ConvertOptions(languages=parse_languages(languages), dpi=dpi, engine=engine), cancel=None
    )


def _ocr_image(image: InputItem, options: ConvertOptions, cancel: threading.Event | None) -> str:
    ocr = resolve_engine(options.engine)
    ocr.check(options.languages)
    sources = expand_inputs([image])
    if getattr(ocr, "needs_worker_process", False):
        # An engine that must not load here runs as a conversion does, in workers.
        with tempfile.TemporaryDirectory(prefix="pdfocr-", ignore_cleanup_errors=True) as workdir:
            tasks = [PageTask(index, source, ocr, options, workdir) for index, source in enumerate(sources)]
            outcomes = run_pages(tasks, options.worker_count, None, cancel)
        return "\f".join(outcome.result.text for outcome in outcomes if isinstance(outcome, PageOutcome))
    texts = []
    for source in sources:
        _stop_if_cancelled(cancel)
        texts.append(recognize_page(source, ocr, options).text.text)
    return "\f".join(texts)


async def ocr_image_async(
    image: InputItem,
    *,
    languages: Sequence[str] | str = ("eng",),
    dpi: float = DEFAULT_DPI,
    engine: str | OcrEngine = "tesseract",
) -> str:
    """:func:`ocr_image` for ``asyncio``; many calls run concurrently under ``gather``."""
    cancel = threading.Event()
    options = ConvertOptions(languages=parse_languages(languages), dpi=dpi, engine=engine)
    return await _in_thread(functools.partial(_ocr_image, image, options, cancel), cancel)


async def _in_thread(
    work: Callable[[], T], cancel: threading.Event | None, threads: Executor | None = None
) -> T:
    future = asyncio.get_running_loop().run_in_executor(threads, work)
    try:
        # shield: a cancelled caller must still wait for the thread to clean up.
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if cancel is not None:
            cancel.set()
        with contextlib.suppress(Exception):
            await future
        raise


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
    pool: WorkerPool | None = None,
) -> Result:
    started = time.perf_counter()
    items = _as_list(inputs)
    if not items:
        raise UsageError("no inputs given")
    targets = [Path(target) for target in (output, sidecar) if isinstance(target, (str, os.PathLike))]
    for target in targets:
        check_writable(target)
    if len(targets) == 2 and os.path.realpath(targets[0]) == os.path.realpath(targets[1]):
        raise UsageError("the sidecar and the PDF would be the same file", file=targets[0])
    skipped: list[SkippedPage] = []
    sources = expand_inputs(
        items, (lambda error: skipped.append(SkippedPage(error))) if options.skip_bad_pages else None
    )
    if not sources and skipped:
        raise skipped[0].error  # every input was bad: nothing to convert
    _refuse_overwriting_inputs(sources, targets)
    engine = resolve_engine(options.engine)
    engine.check(options.languages)
    if options.rotate_pages and not isinstance(engine, OrientationDetector):
        raise UsageError(f"the {engine.name} engine cannot tell which way up a page is (rotate_pages)")
    _check_picklable(engine)
    _stop_if_cancelled(cancel)

    # A failed run on a shared pool may leave pages of its own still running; their late
    # files must not turn the real error into a cleanup error.
    with tempfile.TemporaryDirectory(prefix="pdfocr-", ignore_cleanup_errors=True) as workdir:
        tasks = [PageTask(index, source, engine, options, workdir) for index, source in enumerate(sources)]
        done = 0

        def page_finished(outcome: PageOutcome) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                event = Progress(done, len(tasks), outcome.result, time.perf_counter() - started)
                progress(event)

        if pool is None:
            finished = run_pages(tasks, options.worker_count, page_finished, cancel)
        else:
            finished = pool.run(tasks, page_finished, cancel)
        outcomes = [outcome for outcome in finished if isinstance(outcome, PageOutcome)]
        skipped += [outcome for outcome in finished if isinstance(outcome, SkippedPage)]
        if not outcomes:
            raise skipped[0].error  # not one page could be converted
        pages = tuple(outcome.result for outcome in outcomes)
        # The last moment a cancelled conversion can still leave everything untouched.
        _stop_if_cancelled(cancel)
        _write_outputs(outcomes, output, sidecar, _joined_text(pages), Path(workdir), cancel)
    return Result(pages, time.perf_counter() - started, tuple(skipped))


def _options(
    languages: Sequence[str] | str,
    jobs: int | None,
    dpi: float,
    engine: str | OcrEngine,
    rotate_pages: bool,
    rotate_threshold: float,
    deskew: bool,
    skip_bad_pages: bool,
    page_timeout: float | None,
) -> ConvertOptions:
    """The options every ``convert`` face takes, as one validated value."""
    return ConvertOptions(
        languages=parse_languages(languages),
        jobs=jobs,
        dpi=dpi,
        engine=engine,
        rotate_pages=rotate_pages,
        rotate_threshold=rotate_threshold,
        deskew=deskew,
        skip_bad_pages=skip_bad_pages,
        page_timeout=page_timeout,
    )


def _check_picklable(engine: OcrEngine) -> None:
    # The engine travels to the worker processes with every page; one that cannot would
    # fail there, in the middle of the run, with a pickling error.
    try:
        pickle.dumps(engine)
    except Exception as error:
        raise UsageError(
            f"the {engine.name} engine cannot be sent to worker processes ({type(error).__name__}: "
            f"{error}); an engine must be picklable: a module-level class with plain attributes"
        ) from None


def _stop_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Interrupted("conversion cancelled")


def _joined_text(pages: Sequence[PageResult]) -> str:
    return "\f".join(page.text + "\n" for page in pages)


def _refuse_overwriting_inputs(sources: Sequence[PageSource], targets: Sequence[Path]) -> None:
    inputs = {os.path.realpath(source.path) for source in sources if source.path is not None}
    for target in targets:
        if os.path.realpath(target) in inputs:
            raise UsageError("the output would overwrite an input", file=target)


def _write_outputs(
    outcomes: Sequence[PageOutcome],
    output: Output,
    sidecar: Output | None,
    text: str,
    workdir: Path,
    cancel: threading.Event | None,
) -> None:
    """Write the PDF and the sidecar; on any failure, no output path is touched."""
    metadata = {"/Producer": f"pdfocr {__version__}", "/Creator": f"pdfocr {__version__}"}
    page_files = [outcome.pdf_path for outcome in outcomes]
    sidecar_bytes = text.encode("utf-8")
    pdf_file, sidecar_file = _file_target(output), _file_target(sidecar)
    with contextlib.ExitStack() as streams, contextlib.ExitStack() as commits:
        # Files are renamed into place when this block ends, only if all of it succeeded.
        merged = commits.enter_context(atomic_path(pdf_file)) if pdf_file else workdir / "merged.pdf"
        merge_pages(page_files, merged, metadata, workdir, target=pdf_file)
        if sidecar_file is not None:
            commits.enter_context(atomic_output(sidecar_file)).write(sidecar_bytes)
        # A stop asked for while the PDF was being assembled still leaves everything as it was.
        _stop_if_cancelled(cancel)
        # Streams cannot be rolled back, so they are written last, but before the renames:
        # a stream that fails (a closed pipe) still leaves every output file untouched.
        if pdf_file is None:
            target = _open_stream(output, streams)
            with merged.open("rb") as stream:
                _write_stream(target, lambda target: shutil.copyfileobj(stream, target))
        if sidecar is not None and sidecar_file is None:
            _write_stream(_open_stream(sidecar, streams), lambda target: target.write(sidecar_bytes))


def _file_target(output: Output | None) -> Path | None:
    """The file an output path names, to be replaced atomically; None for a stream, or a
    path that is not a file (a device such as /dev/null, a pipe): those are written to,
    never replaced. A symbolic link is followed, so the link stays."""
    if not isinstance(output, (str, os.PathLike)):
        return None
    path = Path(os.path.realpath(output))
    return None if path.exists() and not path.is_file() else path


def _open_stream(output: Output, streams: contextlib.ExitStack) -> BinaryIO:
    if not isinstance(output, (str, os.PathLike)):
        return output
    try:
        return streams.enter_context(open(output, "wb"))  # closed by the stack
    except OSError as error:
        raise OutputError(os_reason(error), file=os.fspath(output)) from None


def _write_stream(target: BinaryIO, write: Callable[[BinaryIO], object]) -> None:
    name = getattr(target, "name", None)
    try:
        write(target)
        target.flush()
    except OSError as error:
        raise OutputError(os_reason(error), file=name if isinstance(name, str) else "output stream") from None

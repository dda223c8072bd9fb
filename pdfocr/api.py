"""The public API: :class:`Converter`, and module-level functions that wrap one.

Every conversion goes through a :class:`Converter`: it owns the worker processes (through
a :class:`~pdfocr.scheduler.Scheduler` over an executor) and the default options. The
module-level :func:`convert`, :func:`convert_async`, :func:`ocr_image` and
:func:`ocr_image_async` open one for the call and close it afterwards, the way
``httpx.get`` wraps a ``Client``.

Sync and async faces share one implementation: the async methods run the sync one in a
thread of the converter's (the heavy work is in worker processes), so the event loop never
blocks, and cancelling the awaiting task stops that call's pages and writes nothing.
Engines never run in the caller's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import pickle
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, Unpack

from .admission import MACHINE_BUDGET, POLL_SECONDS, WorkerBudget
from .engines import OcrEngine, OrientationDetector, resolve_engine
from .errors import InputError, Interrupted, OutputError, PdfocrWarning, UsageError, os_reason
from .executors import PageExecutor, ProcessExecutor
from .executors.process import check_main_script
from .inputs import InputItem, PageSource, expand_inputs
from .merge import Output, check_writable, write_outputs
from .options import ConvertOptions, OptionKeywords, usable_cpus
from .page import PageOutcome, PageResult, PageTask, SkippedPage
from .scheduler import Scheduler
from .version import __version__

T = TypeVar("T")

Inputs = InputItem | Sequence[InputItem]
"""One input or a sequence of them: paths (files or folders), bytes, binary file objects."""


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


class Converter:
    """Conversions that share one pool of warm worker processes.

    Open one and convert any number of bundles through it, one after another or many at
    once (a web service opens one at startup): the workers stay up with their engine
    loaded, and at most ``jobs`` pages are being OCRed at any moment, whatever the number
    of conversions under way::

        async with pdfocr.Converter(jobs=2, languages="eng+fra") as converter:
            results = await asyncio.gather(*(converter.convert_async(s, o) for s, o in work))

    ``options`` (or the same fields as keywords) are the defaults of every call; each call
    may change any of them but ``jobs``. ``executor`` is where pages run (default: worker
    processes of this machine, :class:`~pdfocr.executors.ProcessExecutor`).

    An error in one conversion does not disturb the others. :meth:`close` (or leaving the
    ``with`` block) waits for the conversions under way, then stops the workers;
    ``close(kill=True)`` stops everything at once. A closed converter refuses new work
    with a :class:`~pdfocr.errors.UsageError`.
    """

    def __init__(
        self,
        options: ConvertOptions | None = None,
        *,
        executor: PageExecutor | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> None:
        self._init(_options(options, keywords), executor, budget=None)

    def _init(
        self, options: ConvertOptions, executor: PageExecutor | None, budget: WorkerBudget | None
    ) -> None:
        self.options = options
        if options.jobs is not None and options.jobs > usable_cpus():
            warnings.warn(
                PdfocrWarning(
                    f"{options.jobs} jobs asked for, but this process may use {usable_cpus()} CPUs: "
                    f"running {options.worker_count} pages at once (more would only slow each down)"
                ),
                stacklevel=3,
            )
        self._executor = executor
        self._budget = budget
        self._lease = contextlib.ExitStack()
        self._scheduler: Scheduler | None = None
        self._setup = threading.Lock()
        self._closed = False
        # Coordination threads mostly wait for pages; they cost little and let every
        # conversion make progress while others wait for workers.
        self._threads = ThreadPoolExecutor(max_workers=64, thread_name_prefix="pdfocr")

    @classmethod
    def _for_one_call(cls, options: ConvertOptions) -> Converter:
        """A converter for one module-level call: its workers come out of the machine's
        budget, shared by every such call in the process."""
        converter = cls.__new__(cls)
        converter._init(options, None, budget=MACHINE_BUDGET)
        return converter

    @property
    def jobs(self) -> int:
        """Pages OCRed at once, at most."""
        return self._executor.capacity if self._executor is not None else self.options.worker_count

    @property
    def in_flight(self) -> int:
        """Pages being OCRed right now, across all conversions (at most ``jobs``)."""
        scheduler = self._scheduler
        return scheduler.in_flight if scheduler is not None else 0

    # -- conversions -----------------------------------------------------------------

    def convert(
        self,
        inputs: Inputs,
        output: Output,
        options: ConvertOptions | None = None,
        *,
        sidecar: Output | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> Result:
        """Convert a scan bundle into one searchable PDF written to ``output``.

        ``inputs`` is one input or a sequence: image files, folders (their images in
        natural order), bytes or binary file objects; every frame of a multi-page TIFF is
        a page. ``options`` (default: the converter's), changed by ``keywords``, say how.
        ``sidecar`` receives the plain text, pages separated by form feeds. ``progress``
        is called after each page, in the calling thread. Setting ``cancel`` (from another
        thread, or a signal handler) stops the conversion within a fraction of a second:
        :class:`~pdfocr.errors.Interrupted`, nothing written.

        Nothing is written unless the whole conversion succeeds; an existing output file
        is replaced atomically. Raises a :class:`~pdfocr.errors.PdfocrError` on failure.
        """
        return self._convert(inputs, output, self._call_options(options, keywords), sidecar, progress, cancel)

    async def convert_async(
        self,
        inputs: Inputs,
        output: Output,
        options: ConvertOptions | None = None,
        *,
        sidecar: Output | None = None,
        progress: ProgressCallback | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> Result:
        """:meth:`convert` for ``asyncio``: the event loop keeps running, ``progress`` is
        called on the event loop, and cancelling the awaiting task stops this
        conversion's pages and writes nothing."""
        chosen = self._call_options(options, keywords)
        loop = asyncio.get_running_loop()

        def work(cancel: threading.Event) -> Result:
            report = _on_loop(progress, loop, cancel) if progress is not None else None
            return self._convert(inputs, output, chosen, sidecar, report, cancel)

        return await self._in_thread(work)

    def ocr_image(
        self,
        image: InputItem,
        options: ConvertOptions | None = None,
        *,
        cancel: threading.Event | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> str:
        """The text of one image (a path, bytes or a binary file object), read in a
        worker like any page. For a multi-page TIFF, the text of every page, separated
        by form feeds."""
        return self._ocr_image(image, self._call_options(options, keywords), cancel)

    async def ocr_image_async(
        self,
        image: InputItem,
        options: ConvertOptions | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> str:
        """:meth:`ocr_image` for ``asyncio``; many calls run concurrently under
        ``gather``, and cancelling one stops its page."""
        chosen = self._call_options(options, keywords)
        return await self._in_thread(lambda cancel: self._ocr_image(image, chosen, cancel))

    # -- closing ---------------------------------------------------------------------

    def close(self, *, kill: bool = False) -> None:
        """Refuse new work; wait for the conversions under way (or, with ``kill``, stop
        them: they raise :class:`~pdfocr.errors.Interrupted`); stop the workers."""
        self._closed = True
        with self._setup:
            scheduler = self._scheduler
        if scheduler is not None:
            scheduler.close(kill=kill)
        self._lease.close()
        self._threads.shutdown(wait=False)

    async def aclose(self, *, kill: bool = False) -> None:
        """:meth:`close`, without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(self.close, kill=kill))

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        self.close(kill=kind is not None and not issubclass(kind, Exception))

    async def __aenter__(self) -> Converter:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: object
    ) -> None:
        await self.aclose(kill=kind is not None and not issubclass(kind, Exception))

    # -- the one implementation ------------------------------------------------------

    def _call_options(self, options: ConvertOptions | None, keywords: OptionKeywords) -> ConvertOptions:
        if self._closed:
            raise UsageError("this Converter is closed")
        chosen = _options(options or self.options, keywords)
        if chosen.jobs != self.options.jobs:
            raise UsageError("jobs is set when the Converter is made, not for each call")
        return chosen

    def _scheduler_for(self, pages: int, cancel: threading.Event | None) -> Scheduler:
        """The scheduler, made on first use: a converter for one call first takes its
        workers (as many as it has pages, at most ``jobs``) from the machine's budget."""
        with self._setup:
            if self._closed:
                raise UsageError("this Converter is closed")
            if self._scheduler is None:
                executor = self._executor
                if executor is None:
                    workers = self.options.worker_count
                    if self._budget is not None:
                        workers = self._lease.enter_context(self._budget.take(min(workers, pages), cancel))
                    executor = self._executor = ProcessExecutor(workers)
                self._scheduler = Scheduler(executor)
            return self._scheduler

    def _prepare(self, options: ConvertOptions, cancel: threading.Event | None) -> OcrEngine:
        """The engine for ``options``, checked; refuses a caller workers cannot start from."""
        if self._executor is None:
            check_main_script()  # the default executor, not made yet
        else:
            self._executor.prepare()
        engine = resolve_engine(options.engine)
        engine.check(options.languages)
        if options.rotate_pages and not isinstance(engine, OrientationDetector):
            raise UsageError(f"the {engine.name} engine cannot tell which way up a page is (rotate_pages)")
        _check_picklable(engine)
        _stop_if_cancelled(cancel)
        return engine

    def _convert(
        self,
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
        targets = [Path(target) for target in (output, sidecar) if isinstance(target, (str, os.PathLike))]
        for target in targets:
            check_writable(target)
        if len(targets) == 2 and os.path.realpath(targets[0]) == os.path.realpath(targets[1]):
            raise UsageError("the sidecar and the PDF would be the same file", file=targets[0])
        skipped: list[SkippedPage] = []
        sources = _expand(items, options, skipped)
        _refuse_overwriting_inputs(sources, targets)
        engine = self._prepare(options, cancel)

        # A failed run may leave pages of its own still being stopped; their late files
        # must not turn the real error into a cleanup error.
        with tempfile.TemporaryDirectory(prefix="pdfocr-", ignore_cleanup_errors=True) as workdir:
            tasks = [PageTask(index, source, engine, options) for index, source in enumerate(sources)]
            done = 0

            def page_done(outcome: PageOutcome) -> tuple[PageResult, Path]:
                nonlocal done
                done += 1
                path = Path(workdir) / f"page-{outcome.index:06d}.pdf"
                _write_page(path, outcome.pdf, workdir)
                _issue_warnings(outcome.result)
                if progress is not None:
                    progress(Progress(done, len(tasks), outcome.result, time.perf_counter() - started))
                return outcome.result, path

            finished = self._scheduler_for(len(tasks), cancel).run(tasks, page_done, cancel)
            pages = [outcome for outcome in finished if not isinstance(outcome, SkippedPage)]
            skipped += [outcome for outcome in finished if isinstance(outcome, SkippedPage)]
            if not pages:
                raise skipped[0].error  # not one page could be converted
            results = tuple(result for result, _ in pages)
            # The last moment a cancelled conversion can still leave everything untouched.
            _stop_if_cancelled(cancel)
            metadata = {"/Producer": f"pdfocr {__version__}", "/Creator": f"pdfocr {__version__}"}
            page_files = [path for _, path in pages]
            write_outputs(page_files, output, sidecar, _joined_text(results), metadata, Path(workdir), cancel)
        return Result(results, time.perf_counter() - started, tuple(skipped))

    def _ocr_image(self, image: InputItem, options: ConvertOptions, cancel: threading.Event | None) -> str:
        skipped: list[SkippedPage] = []
        sources = _expand([image], options, skipped)
        engine = self._prepare(options, cancel)
        tasks = [PageTask(index, source, engine, options, draw=False) for index, source in enumerate(sources)]

        def page_done(outcome: PageOutcome) -> str:
            _issue_warnings(outcome.result)
            return outcome.result.text

        finished = self._scheduler_for(len(tasks), cancel).run(tasks, page_done, cancel)
        return "\f".join(text for text in finished if isinstance(text, str))

    async def _in_thread(self, work: Callable[[threading.Event], T]) -> T:
        """Run ``work`` in one of the converter's threads; a cancelled caller sets its
        cancel event and still waits for it to clean up."""
        cancel = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(self._threads, work, cancel)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.set()
            with contextlib.suppress(Exception):
                await future
            raise


# -- module-level faces: one converter per call ------------------------------------------


@contextlib.contextmanager
def _one_call(options: ConvertOptions | None, keywords: OptionKeywords) -> Iterator[Converter]:
    converter = Converter._for_one_call(_options(options, keywords))
    try:
        yield converter
    except BaseException:
        converter.close(kill=True)  # a failed or stopped call leaves nothing running
        raise
    converter.close()


def convert(
    inputs: Inputs,
    output: Output,
    options: ConvertOptions | None = None,
    *,
    sidecar: Output | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Result:
    """:meth:`Converter.convert` on a converter of its own, closed afterwards (workers
    started for the call, one per page at most ``jobs``, taken from a budget of one per
    CPU that all such calls in the process share)."""
    with _one_call(options, keywords) as converter:
        return converter.convert(inputs, output, sidecar=sidecar, progress=progress, cancel=cancel)


async def convert_async(
    inputs: Inputs,
    output: Output,
    options: ConvertOptions | None = None,
    *,
    sidecar: Output | None = None,
    progress: ProgressCallback | None = None,
    **keywords: Unpack[OptionKeywords],
) -> Result:
    """:meth:`Converter.convert_async` on a converter of its own (see :func:`convert`)."""
    converter = Converter._for_one_call(_options(options, keywords))
    try:
        result = await converter.convert_async(inputs, output, sidecar=sidecar, progress=progress)
    except BaseException:
        await converter.aclose(kill=True)
        raise
    await converter.aclose()
    return result


def ocr_image(
    image: InputItem, options: ConvertOptions | None = None, **keywords: Unpack[OptionKeywords]
) -> str:
    """:meth:`Converter.ocr_image` on a converter of its own (see :func:`convert`)."""
    with _one_call(options, keywords) as converter:
        return converter.ocr_image(image)


async def ocr_image_async(
    image: InputItem, options: ConvertOptions | None = None, **keywords: Unpack[OptionKeywords]
) -> str:
    """:meth:`Converter.ocr_image_async` on a converter of its own (see :func:`convert`)."""
    converter = Converter._for_one_call(_options(options, keywords))
    try:
        text = await converter.ocr_image_async(image)
    except BaseException:
        await converter.aclose(kill=True)
        raise
    await converter.aclose()
    return text


# -- helpers -----------------------------------------------------------------------------


def _options(options: ConvertOptions | None, keywords: OptionKeywords) -> ConvertOptions:
    """``options`` (default: the defaults) changed by ``keywords``, validated."""
    base = options if options is not None else ConvertOptions()
    if not isinstance(base, ConvertOptions):
        raise UsageError(f"options must be a ConvertOptions, not {type(base).__name__}")
    return base.replace(**keywords) if keywords else base


def _on_loop(
    progress: ProgressCallback, loop: asyncio.AbstractEventLoop, cancel: threading.Event
) -> ProgressCallback:
    """``progress`` called on the event loop. The conversion waits until it has been
    (or is cancelled): a cancellation the callback asks for lands before the next step,
    so cancelling on the last page still writes nothing."""

    def report(event: Progress) -> None:
        called = threading.Event()

        def call() -> None:
            try:
                progress(event)
            finally:
                called.set()

        loop.call_soon_threadsafe(call)
        while not called.wait(POLL_SECONDS) and not cancel.is_set():
            pass

    return report


def _as_list(inputs: Inputs) -> list[InputItem]:
    if isinstance(inputs, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(inputs, "read"):
        return [inputs]  # type: ignore[list-item]
    return list(inputs)


def _expand(
    items: Sequence[InputItem], options: ConvertOptions, skipped: list[SkippedPage]
) -> list[PageSource]:
    def skip(error: InputError) -> None:
        skipped.append(SkippedPage(error))

    sources = expand_inputs(items, skip if options.skip_bad_pages else None, options.max_megapixels)
    if not sources and skipped:
        raise skipped[0].error  # every input was bad: nothing to convert
    return sources


def _write_page(path: Path, pdf: bytes, workdir: str) -> None:
    try:
        path.write_bytes(pdf)
    except OSError as error:
        raise OutputError(f"cannot write a temporary file in {workdir}: {os_reason(error)}") from None


def _issue_warnings(result: PageResult) -> None:
    for message in result.warnings:
        warnings.warn(PdfocrWarning(message), stacklevel=2)


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

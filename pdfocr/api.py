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
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, Unpack

from .admission import MACHINE_BUDGET, POLL_SECONDS, WorkerBudget
from .conversion import (
    Inputs,
    PageRunner,
    Progress,
    ProgressCallback,
    Result,
    check_bundle,
    convert_bundle,
    read_image,
)
from .engines import OcrEngine
from .errors import Interrupted, PdfocrWarning, UsageError
from .executors import PageExecutor, ProcessExecutor
from .executors.process import check_main_script
from .inputs import InputItem
from .merge import Output
from .options import ConvertOptions, OptionKeywords, usable_cpus
from .page import PageOutcome, PageTask, SkippedPage
from .scheduler import Scheduler

T = TypeVar("T")

__all__ = [
    "Converter",
    "Inputs",
    "Output",
    "Progress",
    "ProgressCallback",
    "Result",
    "convert",
    "convert_async",
    "ocr_image",
    "ocr_image_async",
]


class Converter:
    """Conversions that share one pool of warm worker processes.

    Open one and convert any number of bundles through it, one after another or many at
    once (a web service opens one at startup): the workers stay up with their engine
    loaded, and at most ``jobs`` pages are being OCRed at any moment, whatever the number
    of conversions under way::

        async with pdfocr.Converter(jobs=2, languages="eng+fra") as converter:
            results = await asyncio.gather(*(converter.convert_async(s, o) for s, o in work))

    ``options`` (or the same fields as keywords) are the defaults of every call; each call
    may change any of them but ``jobs`` and ``cluster``. ``executor`` is where pages run
    (default: worker processes of this machine, :class:`~pdfocr.executors.ProcessExecutor`;
    with ``cluster``, a Dask cluster's workers, :class:`~pdfocr.executors.cluster.DaskExecutor`).

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
        if options.cluster is not None:
            if executor is not None:
                raise UsageError("a Converter runs its pages on a cluster or on an executor, not both")
            from .executors.cluster import DaskExecutor

            # Connected now: said now if it cannot be.
            executor, budget = DaskExecutor(options.cluster, paths=options.cluster_paths), None
        self._made_executor = options.cluster is not None
        """The converter made its executor (a cluster's): it closes it, run or not."""
        self._executor = executor
        self._budget = budget
        self._lease = contextlib.ExitStack()
        self._scheduler: Scheduler | None = None
        self._setup = threading.Lock()
        self._closed = False
        self._killed = False
        # Conversions under way (from the call on), which close() waits for; and, per
        # thread, whether that thread is inside one (a close() there would wait for itself).
        self._active = 0
        self._idle = threading.Condition()
        self._inside = threading.local()
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

    @property
    def workers_replaced(self) -> int:
        """Worker processes that ended while the converter was open (a crash, a page past
        its time limit, a cancelled page) and were replaced; for monitoring."""
        return int(getattr(self._executor, "workers_replaced", 0))

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
        chosen = self._call_options(options, keywords)
        with self._conversion(inside=True):
            return convert_bundle(self._pages, inputs, output, chosen, sidecar, progress, cancel)

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
        loop, caller = asyncio.get_running_loop(), asyncio.current_task()
        self._pages.check_caller()  # here, where the caller's own frames are

        def work(cancel: threading.Event) -> Result:
            closing = lambda: self._closed  # noqa: E731
            report = _on_loop(progress, loop, caller, cancel, closing) if progress is not None else None
            return convert_bundle(self._pages, inputs, output, chosen, sidecar, report, cancel)

        with self._conversion():
            return await self._in_thread(work)

    def check(
        self,
        inputs: Inputs,
        options: ConvertOptions | None = None,
        *,
        most: int | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> int:
        """Check, without reading any page, what :meth:`convert` would check first: the
        options, the engine and its languages, and that every input is one pdfocr reads
        (each PDF opened, each image's header read; images over ``max_megapixels``
        refused). Returns the number of pages the bundle has (given ``most``, counting
        stops as soon as there are more: a service's page limit); raises the
        :class:`~pdfocr.errors.PdfocrError` the conversion would. A service calls this
        before it accepts a job."""
        chosen = self._call_options(options, keywords)
        return check_bundle(self._pages, inputs, chosen, most)

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
        chosen = self._call_options(options, keywords)
        with self._conversion(inside=True):
            return read_image(self._pages, image, chosen, cancel)

    async def ocr_image_async(
        self,
        image: InputItem,
        options: ConvertOptions | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> str:
        """:meth:`ocr_image` for ``asyncio``; many calls run concurrently under
        ``gather``, and cancelling one stops its page."""
        chosen = self._call_options(options, keywords)
        self._pages.check_caller()  # here, where the caller's own frames are
        with self._conversion():
            return await self._in_thread(lambda cancel: read_image(self._pages, image, chosen, cancel))

    # -- closing ---------------------------------------------------------------------

    def close(self, *, kill: bool = False) -> None:
        """Refuse new work; wait for the conversions under way (or, with ``kill``, stop
        them: they raise :class:`~pdfocr.errors.Interrupted`); stop the workers."""
        with self._idle:
            self._closed = True
            self._killed = self._killed or kill
            self._idle.notify_all()
            if not self._killed:
                if getattr(self._inside, "depth", 0):
                    raise UsageError(
                        "close() inside one of this converter's conversions would wait for itself; "
                        "use close(kill=True) to stop them, or close once the call has returned"
                    )
                self._idle.wait_for(lambda: self._active == 0 or self._killed)
        with self._setup:
            scheduler = self._scheduler
        if scheduler is not None:
            scheduler.close(kill=self._killed)  # and its executor
        elif self._made_executor and self._executor is not None:
            self._executor.close(kill=self._killed)
        with self._setup:  # a conversion making its scheduler has done so by now
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

    @contextlib.contextmanager
    def _conversion(self, *, inside: bool = False) -> Iterator[None]:
        """A conversion under way (close() waits for it); ``inside``: in this thread."""
        with self._idle:
            if self._closed:
                raise UsageError("this Converter is closed")
            self._active += 1
        depth = getattr(self._inside, "depth", 0)
        if inside:
            self._inside.depth = depth + 1
        try:
            yield
        finally:
            if inside:
                self._inside.depth = depth
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _call_options(self, options: ConvertOptions | None, keywords: OptionKeywords) -> ConvertOptions:
        if self._closed:
            raise UsageError("this Converter is closed")
        chosen = _options(options or self.options, keywords)
        for name in ("jobs", "cluster"):
            if getattr(chosen, name) is not None and getattr(chosen, name) != getattr(self.options, name):
                raise UsageError(f"{name} is set when the Converter is made, not for each call")
        # A call's options that leave jobs and cluster unsaid (None) take the converter's.
        return chosen.replace(
            jobs=self.options.jobs, cluster=self.options.cluster, cluster_paths=self.options.cluster_paths
        )

    def _scheduler_for(self, pages: int, cancel: threading.Event | None) -> Scheduler:
        """The scheduler, made on first use: a converter for one call first takes its
        workers (as many as it has pages, at most ``jobs``) from the machine's budget."""
        with self._setup:  # close() releases the lease under this lock too: never one left behind
            if self._killed:
                raise Interrupted("the converter was closed")
            if self._scheduler is None:
                executor = self._executor
                if executor is None:
                    workers = self.options.worker_count
                    if self._budget is not None:
                        share = self._budget.take(min(workers, pages), cancel, lambda: self._killed)
                        workers = self._lease.enter_context(share)
                    executor = self._executor = ProcessExecutor(workers)
                self._scheduler = Scheduler(executor)
            return self._scheduler

    @property
    def _pages(self) -> PageRunner:
        return _ConverterPages(self)

    async def _in_thread(self, work: Callable[[threading.Event], T]) -> T:
        """Run ``work`` in one of the converter's threads; a cancelled caller sets its
        cancel event and still waits for it to clean up."""
        cancel = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(self._threads, work, cancel)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.set()
            # Wait for the thread to clean up, however often the caller is cancelled again
            # (asyncio.run's shutdown does): a thread left running could take workers
            # after its converter was closed.
            while not future.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(future)
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
    progress: ProgressCallback,
    loop: asyncio.AbstractEventLoop,
    caller: asyncio.Task[object] | None,
    cancel: threading.Event,
    closing: Callable[[], bool],
) -> ProgressCallback:
    """``progress`` called on the event loop. The conversion waits until it has been
    (unless it is cancelled, or the converter is closing, perhaps from the loop's own
    thread, which then cannot run the callback), and if the callback cancelled the awaiting task, stops before
    its next step: so cancelling on the last page still writes nothing."""

    def report(event: Progress) -> None:
        called = threading.Event()

        def call() -> None:
            try:
                progress(event)
            finally:
                if caller is not None and caller.cancelling():
                    cancel.set()  # now, not when the task next runs
                called.set()

        loop.call_soon_threadsafe(call)
        while not called.wait(POLL_SECONDS) and not cancel.is_set() and not closing():
            pass

    return report


class _ConverterPages:
    """A converter as its conversions see it: where their pages run."""

    def __init__(self, converter: Converter) -> None:
        self._converter = converter

    def check_caller(self) -> None:
        executor = self._converter._executor
        if executor is None:
            check_main_script()  # the default executor, not made yet
        else:
            executor.prepare()

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        executor = self._converter._executor
        if executor is None:  # this machine's workers, not made yet
            engine.check(languages)
        else:
            executor.check_engine(engine, languages)

    def run(
        self, tasks: Sequence[PageTask], on_done: Callable[[PageOutcome], T], cancel: threading.Event | None
    ) -> list[T | SkippedPage]:
        return self._converter._scheduler_for(len(tasks), cancel).run(tasks, on_done, cancel)

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
from collections.abc import Callable, Iterator
from typing import Unpack

from .admission import MACHINE_BUDGET, POLL_SECONDS, WorkerBudget
from .conversion import (
    Inputs,
    Progress,
    ProgressCallback,
    Result,
    check_bundle,
    convert_bundle,
    read_image,
)
from .errors import PdfocrWarning, UsageError
from .executors import PageExecutor
from .inputs import InputItem
from .lifecycle import CallsUnderWay, PagePlace
from .merge import Output
from .options import ConvertOptions, OptionKeywords, usable_cpus

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
        _warn_when_capped(options)
        self._calls = CallsUnderWay()
        self._place = PagePlace(options, executor, budget, lambda: self._calls.killed)

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
        return self._place.capacity

    @property
    def in_flight(self) -> int:
        """Pages being OCRed right now, across all conversions (at most ``jobs``)."""
        return self._place.in_flight

    @property
    def workers_replaced(self) -> int:
        """Worker processes that ended while the converter was open (a crash, a page past
        its time limit, a cancelled page) and were replaced; for monitoring."""
        return self._place.workers_replaced

    # -- conversions -----------------------------------------------------------------

    def convert(
        self,
        inputs: Inputs,
        output: Output | None,
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
        with self._calls.one(inside=True):
            return convert_bundle(self._place, inputs, output, chosen, sidecar, progress, cancel)

    async def convert_async(
        self,
        inputs: Inputs,
        output: Output | None,
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
        self._place.check_caller()  # here, where the caller's own frames are

        def work(cancel: threading.Event) -> Result:
            closing = lambda: self._calls.closed  # noqa: E731
            report = _on_loop(progress, loop, caller, cancel, closing) if progress is not None else None
            return convert_bundle(self._place, inputs, output, chosen, sidecar, report, cancel)

        with self._calls.one():
            return await self._calls.in_thread(work)

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
        return check_bundle(self._place, inputs, chosen, most)

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
        with self._calls.one(inside=True):
            return read_image(self._place, image, chosen, cancel)

    async def ocr_image_async(
        self,
        image: InputItem,
        options: ConvertOptions | None = None,
        **keywords: Unpack[OptionKeywords],
    ) -> str:
        """:meth:`ocr_image` for ``asyncio``; many calls run concurrently under
        ``gather``, and cancelling one stops its page."""
        chosen = self._call_options(options, keywords)
        self._place.check_caller()  # here, where the caller's own frames are
        with self._calls.one():
            return await self._calls.in_thread(lambda cancel: read_image(self._place, image, chosen, cancel))

    # -- closing ---------------------------------------------------------------------

    def close(self, *, kill: bool = False) -> None:
        """Refuse new work; wait for the conversions under way (or, with ``kill``, stop
        them: they raise :class:`~pdfocr.errors.Interrupted`); stop the workers."""
        self._calls.close(kill=kill)
        self._place.close(kill=self._calls.killed)
        self._calls.shut_down()

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
        self._calls.check_open()
        return _for_a_call(self.options, options, keywords)


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
    output: Output | None,
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
    output: Output | None,
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


def _warn_when_capped(options: ConvertOptions) -> None:
    if options.jobs is not None and options.jobs > usable_cpus():
        warnings.warn(
            PdfocrWarning(
                f"{options.jobs} jobs asked for, but this process may use {usable_cpus()} CPUs: "
                f"running {options.worker_count} pages at once (more would only slow each down)"
            ),
            stacklevel=4,  # the caller of Converter(), or of the module-level function
        )


def _for_a_call(
    defaults: ConvertOptions, options: ConvertOptions | None, keywords: OptionKeywords
) -> ConvertOptions:
    """A call's options: ``options`` (default: the converter's ``defaults``) changed by
    ``keywords``; ``jobs`` and ``cluster`` are the converter's, and only it may set them."""
    chosen = _options(options or defaults, keywords)
    for name in ("jobs", "cluster"):
        if getattr(chosen, name) is not None and getattr(chosen, name) != getattr(defaults, name):
            raise UsageError(f"{name} is set when the Converter is made, not for each call")
    # A call's options that leave jobs and cluster unsaid (None) take the converter's.
    return chosen.replace(jobs=defaults.jobs, cluster=defaults.cluster, cluster_paths=defaults.cluster_paths)


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

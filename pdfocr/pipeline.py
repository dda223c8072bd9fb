"""The pipeline: pages OCRed and drawn in worker processes, results kept in page order.

Each page is one task for a pool of worker processes: decode the image, recognise it,
draw its PDF page into the run's work folder. The calling thread keeps at most a few
tasks in flight per worker, reports each finished page, and stops every worker at the
first error, on Ctrl-C, or when the caller cancels.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .engines import OcrEngine
from .errors import EngineError, Interrupted, PdfocrError, UsageError
from .inputs import LoadedPage, PageSource, allow_large_images, load_page
from .model import PageText
from .options import ConvertOptions
from .preprocess import ocr_copy, straightened, upright
from .render import render_page

# How many tasks are queued per worker: enough to keep workers busy, few enough that
# in-memory inputs are not all copied to the workers at once.
TASKS_PER_WORKER = 2
# How often the calling thread looks at the cancel flag while pages are running.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class PageTask:
    """Everything a worker needs to turn one page into a one-page PDF."""

    index: int
    source: PageSource
    engine: OcrEngine
    options: ConvertOptions
    workdir: str


@dataclass(frozen=True)
class PageOutcome:
    """A finished page: its text, where its PDF is, and how long it took."""

    index: int
    label: str
    page_number: int | None
    text: str
    pdf_path: str
    ocr_seconds: float
    seconds: float
    rotated: int
    deskewed: float


@contextlib.contextmanager
def about_page(source: PageSource) -> Iterator[None]:
    """Make every error raised in the block name the page's file and page."""
    try:
        yield
    except PdfocrError as error:
        raise error.locate(source.label, source.page_number) from None
    except Exception as error:  # a bug, or an engine failing in a way it did not report
        message = f"internal error: {type(error).__name__}: {error}"
        raise PdfocrError(message, file=source.label, page=source.page_number) from error


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
        page = load_page(source, options.dpi)
        rotated, deskewed = 0, 0.0
        if options.rotate_pages:
            page, rotated = upright(page, engine, options.rotate_threshold)
        if options.deskew:
            page, deskewed = straightened(page)
        started = time.perf_counter()
        image, dpi, enlarge = ocr_copy(page, options.ocr_max_megapixels)
        text = engine.recognize(image, languages=options.languages, dpi=dpi)
        if enlarge != 1.0:
            text = text.scaled(enlarge, page.image.width, page.image.height)
        return RecognizedPage(page, text, time.perf_counter() - started, rotated, deskewed)


def process_page(task: PageTask) -> PageOutcome:
    """Decode, recognise and draw one page (runs in a worker process)."""
    started = time.perf_counter()
    source = task.source
    found = recognize_page(source, task.engine, task.options)
    pdf_path = Path(task.workdir) / f"page-{task.index:06d}.pdf"
    with about_page(source):
        pdf_path.write_bytes(render_page(found.page, found.text))
    return PageOutcome(
        index=task.index,
        label=source.label,
        page_number=source.page_number,
        text=found.text.text,
        pdf_path=str(pdf_path),
        ocr_seconds=found.ocr_seconds,
        seconds=time.perf_counter() - started,
        rotated=found.rotated,
        deskewed=found.deskewed,
    )


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Raising unwinds subprocess.run, which kills the engine's child process on the way.
    raise SystemExit(128 + signum)


def _init_worker() -> None:
    # Ctrl-C reaches the whole process group; only the parent decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Nobody reads a worker's stderr: Pillow's warnings (large or odd images) would only
    # garble the caller's terminal. Real problems are raised as errors.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    allow_large_images()


def run_pages(
    tasks: Sequence[PageTask],
    workers: int,
    on_page: Callable[[PageOutcome], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[PageOutcome]:
    """Run every task on up to ``workers`` processes; the outcomes in task order.

    ``on_page`` is called in this thread as each page finishes (in finishing order).
    Setting ``cancel`` stops the run with :class:`Interrupted`.
    """
    if not tasks:
        return []
    _check_main_script()
    # forkserver, not fork: the caller may have threads (asyncio, web servers), and a
    # fork of a threaded process can inherit locks held by threads that no longer exist.
    executor = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)),
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_init_worker,
    )
    outcomes: list[PageOutcome | None] = [None] * len(tasks)
    try:
        for outcome in _completed(executor, tasks, workers * TASKS_PER_WORKER, cancel):
            outcomes[outcome.index] = outcome
            if on_page is not None:
                on_page(outcome)
    except BaseException:
        _stop_workers(executor)
        raise
    executor.shutdown(wait=True)
    return [outcome for outcome in outcomes if outcome is not None]


def _check_main_script() -> None:
    # Worker processes import the main script again (multiprocessing's spawn rules); one
    # read from stdin cannot be, and every worker would die without saying why.
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is None and path is not None and not os.path.exists(path):
        raise UsageError(
            f"worker processes cannot start from the main script {path!r} "
            "(a script read from stdin?); save it to a file and run that"
        )


def _completed(
    executor: ProcessPoolExecutor, tasks: Sequence[PageTask], in_flight: int, cancel: threading.Event | None
) -> Iterator[PageOutcome]:
    queued = iter(tasks)
    pending: dict[Future[PageOutcome], PageTask] = {}
    while True:
        while len(pending) < in_flight and (task := next(queued, None)) is not None:
            pending[executor.submit(process_page, task)] = task
        if not pending:
            return
        done, _ = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        if cancel is not None and cancel.is_set():
            raise Interrupted("conversion cancelled")
        for future in done:
            task = pending.pop(future)
            try:
                yield future.result()
            except BrokenProcessPool:
                raise EngineError(
                    "a worker process died while converting this page",
                    file=task.source.label,
                    page=task.source.page_number,
                ) from None


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """End every worker now, including one in the middle of a page."""
    # ProcessPoolExecutor has no public way to end busy workers before Python 3.14
    # (terminate_workers); shutdown() alone would wait for the running pages.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

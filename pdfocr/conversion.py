"""One conversion, start to end, as every face of the library runs it: check the
outputs, expand the bundle into pages, check the engine, have the pages run, and write the
PDF and the sidecar, everything or nothing. Where and how pages run is the caller's
:class:`PageRunner` (a :class:`~pdfocr.Converter`'s scheduler)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from .archival import DocumentInfo, DocumentRequest
from .engines import OcrEngine, OrientationDetector, engine_boundary, resolve_engine
from .errors import InputError, Interrupted, OutputError, PdfocrWarning, UsageError, os_reason
from .inputs import InputItem, PageSource, expand_inputs
from .merge import Output, PagePart, check_writable, write_bytes, write_outputs
from .options import ConvertOptions
from .page import PageOutcome, PageResult, PageTask, SkippedPage
from .pageranges import selected

if TYPE_CHECKING:  # the index is imported only when a conversion uses one
    from .index import IndexStore

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
    output_type: str = "pdf"
    """What the PDF was written as: ``pdf``, or the PDF/A part it conforms to (``pdfa-1``,
    ``pdfa-2``, ``pdfa-3``), validated from the bytes written."""

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def kept_count(self) -> int:
        """Pages of input PDFs kept as they were, not OCRed (they already had text, or
        showed no image)."""
        return sum(page.kept for page in self.pages)

    @property
    def unread_count(self) -> int:
        """Pages left out by ``pages``: kept as they were, not read."""
        return sum(not page.read for page in self.pages)

    @property
    def engine_counts(self) -> dict[str, int]:
        """How many pages each engine read (pages kept as they were not counted), the
        engine that read most first."""
        counts: dict[str, int] = {}
        for page in self.pages:
            if not page.kept and page.engine:
                counts[page.engine] = counts.get(page.engine, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    @property
    def text(self) -> str:
        """Every page's text, pages separated by form feeds (as in the sidecar)."""
        return _joined_text(self.pages)

    def to_hocr(self) -> str:
        """Every page's words as one hOCR document (:mod:`pdfocr.words.hocr`)."""
        from .words import word_pages
        from .words.hocr import to_hocr

        return to_hocr(word_pages(self.pages))

    def to_alto(self) -> str:
        """Every page's words as one ALTO v4 document (:mod:`pdfocr.words.alto`)."""
        from .words import word_pages
        from .words.alto import to_alto

        return to_alto(word_pages(self.pages))

    def to_page_xml(self) -> dict[str, str]:
        """A PAGE XML document per page, by file name (:mod:`pdfocr.words.pagexml`)."""
        from .words import word_pages
        from .words.pagexml import page_file_name, to_page_xml

        return {page_file_name(page): to_page_xml(page) for page in word_pages(self.pages)}

    def to_json_lines(self) -> str:
        """Every page's words as JSON lines (:mod:`pdfocr.words.jsonl`)."""
        from .words import word_pages
        from .words.jsonl import to_json_lines

        return to_json_lines(word_pages(self.pages))


@dataclass(frozen=True)
class Progress:
    """Reported to the ``progress`` callback: once when the pages are known and the work
    starts (``done`` 0, ``page`` None), then each time a page is finished."""

    done: int
    total: int
    page: PageResult | None
    """The page just finished; None in the first report."""
    elapsed: float


ProgressCallback = Callable[[Progress], object]


class PageRunner(Protocol):
    """What a conversion needs from whoever runs its pages."""

    def check_caller(self) -> None:
        """Refuse, with a :class:`UsageError`, a caller from which pages cannot run."""

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        """Refuse an engine or language that the workers running the pages lack."""

    def run(
        self,
        tasks: Sequence[PageTask],
        on_done: Callable[[PageOutcome], T],
        cancel: threading.Event | None,
    ) -> list[T | SkippedPage]:
        """Run the pages (see :meth:`pdfocr.scheduler.Scheduler.run`)."""
        ...


def _prepare(pages: PageRunner, options: ConvertOptions, cancel: threading.Event | None) -> OcrEngine:
    """The engine for ``options``, checked; refuses a caller workers cannot start from."""
    pages.check_caller()
    engine = resolve_engine(options.engine)
    with engine_boundary(engine):
        pages.check_engine(engine, options.engine_languages)
    if options.rotate_pages is True and not isinstance(engine, OrientationDetector):
        raise UsageError(f"the {engine.name} engine cannot tell which way up a page is (rotate_pages)")
    _check_picklable(engine)
    _stop_if_cancelled(cancel)
    return engine


def check_bundle(pages: PageRunner, inputs: Inputs, options: ConvertOptions, most: int | None = None) -> int:
    """What a conversion of ``inputs`` would refuse before reading any page: unusable
    options, a missing engine or language, a bad input (unless ``skip_bad_pages``); the
    number of pages it would have (counting stops past ``most``)."""
    _prepare(pages, options, None)
    items = _as_list(inputs)
    if not items:
        raise UsageError("no inputs given")
    skip = (lambda error: None) if options.skip_bad_pages else None
    return len(expand_inputs(items, skip, options, most))


def convert_bundle(
    pages: PageRunner,
    inputs: Inputs,
    output: Output | None,
    options: ConvertOptions,
    sidecar: Output | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Result:
    """Convert ``inputs`` into one PDF at ``output`` (and the text at ``sidecar``), the
    pages run by ``pages``: check the outputs, expand the bundle, check the engine, run
    the pages, write everything or nothing. With ``output_type`` ``none`` no PDF is made
    (``output`` None): the pages are read, not drawn, and only the sidecar is written."""
    started = time.perf_counter()
    items = _as_list(inputs)
    if not items:
        raise UsageError("no inputs given")
    targets = _checked_targets(output, sidecar, options)
    # An unusable index is said before any work; the same connection adds the pages.
    with _opened_index(options.index) as search_index:
        skipped: list[SkippedPage] = []
        sources = _expand(items, options, skipped)
        _refuse_overwriting_inputs(sources, targets)
        engine = _prepare(pages, options, cancel)

        # A failed run may leave pages of its own still being stopped; their late files
        # must not turn the real error into a cleanup error.
        with _work_folder() as workdir:
            sources = _pdfs_on_disk(sources, Path(workdir))
            draw, chosen = options.output_type != "none", selected(options.pages, len(sources))
            tasks = [
                PageTask(
                    number,
                    source,
                    engine,
                    options,
                    draw=draw,
                    read=number in chosen and not options.strip_ocr,
                )
                for number, source in enumerate(sources)
            ]
            assembly = _Assembly(tasks, _documents(sources), options, Path(workdir), progress, started)
            if progress is not None:
                progress(Progress(0, len(tasks), None, time.perf_counter() - started))
            finished = pages.run(tasks, assembly.page_done, cancel)  # one outcome per task, in order
            written = [outcome for outcome in finished if not isinstance(outcome, SkippedPage)]
            skipped += [outcome for outcome in finished if isinstance(outcome, SkippedPage)]
            if not written:
                raise skipped[0].error  # not one page could be converted
            results = tuple(result for result, _ in written)
            # The last moment a cancelled conversion can still leave everything untouched.
            _stop_if_cancelled(cancel)
            if output is None:
                if sidecar is not None:
                    write_bytes(sidecar, _joined_text(results).encode("utf-8"))
                return Result(results, time.perf_counter() - started, tuple(skipped), "none")
            parts, names, numbers = assembly.parts(finished)
            results = tuple(dataclasses.replace(r, number=n) for r, n in zip(results, numbers, strict=True))
            info = _document_info(options)
            request = DocumentRequest(options.output_type, info, tuple(names), optimize=options.optimize)
            document = write_outputs(
                parts, output, sidecar, _joined_text(results), request, Path(workdir), cancel
            )
        converted = Result(results, time.perf_counter() - started, tuple(skipped), document.output_type)
        if search_index is not None:
            _add_to_index(search_index, Path(output), items, converted)  # type: ignore[arg-type]
        return dataclasses.replace(converted, seconds=time.perf_counter() - started)


def _checked_targets(output: Output | None, sidecar: Output | None, options: ConvertOptions) -> list[Path]:
    """The files the conversion writes (those given as paths), each checked writable."""
    if (output is None) != (options.output_type == "none"):
        raise UsageError(
            "output type none writes no PDF: give no output"
            if output is not None
            else "no output given for the PDF (output type none writes none)"
        )
    if output is None and options.index is not None:
        raise UsageError("an index needs the PDF written (output type none writes none)")
    targets = [Path(target) for target in (output, sidecar) if isinstance(target, (str, os.PathLike))]
    for target in targets:
        check_writable(target)
    if len(targets) == 2 and os.path.realpath(targets[0]) == os.path.realpath(targets[1]):
        raise UsageError("the sidecar and the PDF would be the same file", file=targets[0])
    if options.index is not None and not isinstance(output, (str, os.PathLike)):
        raise UsageError("an index needs the PDF written to a file (it is read back from there)")
    return targets


@dataclass
class _Assembly:
    """One conversion's pages, as they come back, made into the parts of the PDF written:
    an image's page its own one-page PDF, an input PDF's page that page, edited."""

    tasks: list[PageTask]
    documents: list[int]
    options: ConvertOptions
    workdir: Path
    progress: ProgressCallback | None
    started: float
    done: int = 0

    def page_done(self, outcome: PageOutcome) -> tuple[PageResult, PagePart]:
        self.done += 1
        path = self.workdir / f"page-{outcome.index:06d}.pdf"
        if outcome.pdf:
            _write_page(path, outcome.pdf, str(self.workdir))
        if self.tasks[outcome.index].source.is_pdf:  # the input's page stays, edited
            overlay = str(path) if outcome.pdf else None
            part = self._original_page(self.tasks[outcome.index], outcome, overlay)
        else:
            part = PagePart(file=str(path))
        _issue_warnings(outcome.result)
        if self.progress is not None:
            elapsed = time.perf_counter() - self.started
            self.progress(Progress(self.done, len(self.tasks), outcome.result, elapsed))
        return outcome.result, part

    def parts(
        self, finished: Sequence[tuple[PageResult, PagePart] | SkippedPage]
    ) -> tuple[list[PagePart], list[tuple[str, int | None]], list[int]]:
        """The parts of the PDF, in order, the file and page each came from, and the page
        of the PDF each page converted is (a PDF's pages left out stay in it)."""
        parts, names, numbers = [], [], []
        for task, outcome in zip(self.tasks, finished, strict=True):
            if not isinstance(outcome, SkippedPage):
                parts.append(outcome[1])
                numbers.append(len(parts))
            elif task.source.is_pdf:
                # A PDF's page that could not be read is still the user's page: kept
                # as it was, without a text layer (and listed as skipped).
                parts.append(self._original_page(task))
            else:
                continue
            names.append((task.source.label, task.source.page_number))
        return parts, names, numbers

    def _original_page(
        self, task: PageTask, outcome: PageOutcome | None = None, overlay: str | None = None
    ) -> PagePart:
        """The task's page of its input PDF, to keep, with ``overlay`` grafted on as
        ``outcome`` says (None: a page that could not be read, kept as it was)."""
        source = task.source
        return PagePart(
            source=source.path,
            document=self.documents[task.index],
            page=source.frame,
            overlay=overlay,
            password=self.options.password,
            replaces_text=outcome.replaces_text if outcome else False,
            replaces_content=outcome.replaces_content if outcome else False,
            turn=outcome.result.rotated if outcome else 0,
            # A page replaced by its rendering shows the straightened pixels already.
            straighten=outcome.result.deskewed if outcome and outcome.layer_only else 0.0,
        )


@contextlib.contextmanager
def _opened_index(target: str | None) -> Iterator[IndexStore | None]:
    """The index at ``target`` (None: none), open for the conversion; its errors are
    pdfocr's, naming the index."""
    if target is None:
        yield None
        return
    from .index import open_index

    index = open_index(target)
    try:
        yield index
    finally:
        index.close()


def _add_to_index(index: IndexStore, output: Path, items: list[InputItem], result: Result) -> None:
    """The written PDF's pages into the index: from the conversion's own words, or read
    back from the PDF where those do not cover every page (pages left out of a PDF)."""
    from .index import document_of, read_pdf

    sources = tuple(str(item) if isinstance(item, (str, os.PathLike)) else "<data>" for item in items)
    try:
        index.add(document_of(result, output, sources) or read_pdf(output, sources))
    except OutputError as error:
        raise OutputError(f"the PDF is written, but adding it to the index failed: {error}") from None


def _document_info(options: ConvertOptions) -> DocumentInfo:
    return DocumentInfo(options.title, options.author, options.subject, options.keywords)


def read_image(
    pages: PageRunner, image: InputItem, options: ConvertOptions, cancel: threading.Event | None
) -> str:
    """The text of ``image``'s pages (form feeds between them), read by ``pages``."""
    skipped: list[SkippedPage] = []
    sources = _expand([image], options, skipped)
    engine = _prepare(pages, options, cancel)
    with _work_folder() as workdir:
        sources = _pdfs_on_disk(sources, Path(workdir))  # not the whole PDF with every page
        tasks = [PageTask(index, source, engine, options, draw=False) for index, source in enumerate(sources)]

        def page_done(outcome: PageOutcome) -> str:
            _issue_warnings(outcome.result)
            return outcome.result.text

        finished = pages.run(tasks, page_done, cancel)
    return "\f".join(text for text in finished if isinstance(text, str))


def _documents(sources: Sequence[PageSource]) -> list[int]:
    """For each page, which input PDF of the bundle it belongs to (a number; -1 for an
    image): the same file given twice is two documents, each with its own layers."""
    numbers, current = [], -1
    for source in sources:
        if source.is_pdf and source.frame == 0:
            current += 1
        numbers.append(current if source.is_pdf else -1)
    return numbers


def _pdfs_on_disk(sources: Sequence[PageSource], workdir: Path) -> list[PageSource]:
    """PDFs given as bytes, written to the work folder once: every page's task then
    carries a path, not a copy of the whole file, and qpdf reads the pages from there."""
    written: dict[int, str] = {}
    placed = []
    for source in sources:
        if source.is_pdf and source.data is not None:
            if id(source.data) not in written:
                path = workdir / f"input-{len(written):04d}.pdf"
                _write_page(path, source.data, str(workdir))
                written[id(source.data)] = str(path)
            source = dataclasses.replace(source, path=written[id(source.data)], data=None, scratch=True)
        placed.append(source)
    return placed


@contextlib.contextmanager
def _work_folder() -> Iterator[str]:
    """A temporary folder for the pages' PDFs, removed afterwards."""
    try:
        folder = tempfile.TemporaryDirectory(prefix="pdfocr-", ignore_cleanup_errors=True)
    except OSError as error:
        where = tempfile.gettempdir()
        raise OutputError(f"cannot make a temporary folder in {where}: {os_reason(error)}") from None
    with folder as path:
        yield path


def _as_list(inputs: Inputs) -> list[InputItem]:
    if isinstance(inputs, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(inputs, "read"):
        return [inputs]  # type: ignore[list-item]
    return list(inputs)


def _expand(
    items: Sequence[InputItem], options: ConvertOptions, skipped: list[SkippedPage]
) -> list[PageSource]:
    def skip(error: InputError) -> None:
        skipped.append(SkippedPage(error))

    on_bad = skip if options.skip_bad_pages else None
    sources = expand_inputs(items, on_bad, options)
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

"""The ``pdfocr`` command: parses arguments, calls :func:`pdfocr.convert`, shows
progress, and turns errors into one line on stderr and an exit code."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from types import FrameType
from typing import Any, BinaryIO, NoReturn, TextIO

from tqdm import tqdm

from .api import Progress, Result, convert
from .archival import LABELS
from .engines import EngineOption, engine_options, engine_statuses, resolve_engine
from .errors import ExitCode, Interrupted, PdfocrError, PdfocrWarning, UsageError
from .options import (
    DEFAULT_DPI,
    DEFAULT_PAGE_TIMEOUT,
    DEFAULT_ROTATE_THRESHOLD,
    MAX_MEGAPIXELS,
    OUTPUT_TYPES,
    ConvertOptions,
    parse_languages,
)
from .version import __version__
from .words.files import WordOutputs
from .worker import kill_descendants

EPILOG = f"""\
examples:
  pdfocr scans/ -o scans.pdf                  every image in scans/, in natural order
  pdfocr cover.jpg pages.tif -o book.pdf      files in the order given (all TIFF pages)
  pdfocr scans/ -l eng+fra -j 4 -o out.pdf    English and French, 4 pages at once
  pdfocr page.png --sidecar page.txt -o -     PDF to stdout, plain text to page.txt
  pdfocr page.png --sidecar - -o page.pdf     plain text to stdout
  pdfocr scans/ --engine aspose --aspose-license Aspose.OCR.lic -o out.pdf

Images that declare no resolution are taken to be {DEFAULT_DPI:g} dpi (--dpi); --force-dpi
uses --dpi also for images that declare one.

exit codes:
  0 success          2 bad arguments     3 bad input file    4 missing engine or language
  5 cannot write     6 OCR engine failed 7 written, but pages were skipped (--skip-bad-pages)
  130 interrupted    143 terminated      1 internal error (a bug)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other error (argparse would print the usage block first).
        self.exit(int(ExitCode.USAGE), f"pdfocr: error: {message} (see pdfocr --help)\n")


SERVICE_COMMANDS = ("serve", "token")
INDEX_COMMANDS = ("search", "index")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pdfocr",
        description="Turn scans (PDFs, images, folders of them) into one searchable PDF.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="PDFs, image files, or folders of them ('-': standard input)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.pdf",
        help="the PDF to write ('-': stdout; none with --output-type none)",
    )
    _add_run_options(parser)
    _add_input_options(parser)
    _add_page_options(parser)
    _add_output_options(parser)
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="report every page")
    parser.add_argument("--version", action="version", version=f"pdfocr {__version__}")
    parser.add_argument(
        "--list-engines",
        action=_ListEngines,
        help="list the OCR engines and whether each can run here",
    )
    _add_engine_options(parser)
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """Languages, and where and how many pages run at once."""
    parser.add_argument(
        "-l",
        "--language",
        default="auto",
        metavar="LANGS",
        help="Tesseract languages joined by '+', or auto: each page in its own (default: auto)",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="pages OCRed at once (default: CPU count)"
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the pages on the workers of this Dask scheduler (tcp://host:8786, tls://...;"
        " see pdfocr worker)",
    )
    parser.add_argument(
        "--cluster-paths",
        action="store_true",
        help="the inputs are at the same paths on every worker (shared storage): send paths, not bytes",
    )


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    """How images are taken, the sidecar, and the engine."""
    parser.add_argument(
        "--dpi",
        type=float,
        default=DEFAULT_DPI,
        metavar="N",
        help=f"resolution of images that declare none (default: {DEFAULT_DPI:g})",
    )
    parser.add_argument(
        "--force-dpi",
        action="store_true",
        help="use --dpi for every image, also those that declare a resolution",
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=MAX_MEGAPIXELS,
        metavar="N",
        help=f"refuse larger images as likely decompression bombs (default: {MAX_MEGAPIXELS:g})",
    )
    parser.add_argument(
        "--sidecar",
        metavar="FILE",
        help="also write the text, pages separated by form feeds ('-': stdout)",
    )
    parser.add_argument(
        "--engine",
        default="auto",
        metavar="NAME",
        help="OCR engine (default: auto, Tesseract and RapidOCR where it reads poorly; see --list-engines)",
    )


def _add_page_options(parser: argparse.ArgumentParser) -> None:
    """What is done to each page: turned, straightened, photos flattened, PDFs' pages read."""
    parser.add_argument(
        "--rotate-pages",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="turn pages scanned sideways or upside down upright (default: on where the engine can tell)",
    )
    parser.add_argument(
        "--rotate-pages-threshold",
        type=float,
        default=DEFAULT_ROTATE_THRESHOLD,
        metavar="C",
        help=f"orientation confidence needed to turn a page (default: {DEFAULT_ROTATE_THRESHOLD:g})",
    )
    parser.add_argument("--deskew", action="store_true", help="straighten pages scanned slightly askew")
    parser.add_argument(
        "--flatten-photos",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="phone photos: find the sheet, correct its perspective, crop it, even its light (default: on)",
    )
    parser.add_argument(
        "--keep-photos",
        action="store_true",
        help="phone photos: read the flattened sheet, but show the photo as taken, the text placed on it",
    )
    parser.add_argument(
        "--pages",
        metavar="RANGES",
        help="read only these of the bundle's pages, e.g. 1-3,7,10-end; the others are kept as they were",
    )
    parser.add_argument("--password", metavar="PW", help="the password that opens input PDFs that need one")
    parser.add_argument(
        "--redo-ocr",
        action="store_true",
        help="read again scanned PDF pages that have text, replacing an earlier OCR's invisible text",
    )
    parser.add_argument(
        "--strip-ocr",
        action="store_true",
        help="remove an earlier OCR's invisible text from input PDFs and read nothing",
    )
    parser.add_argument(
        "--force-ocr",
        action="store_true",
        help="read every page of input PDFs, also those with text: each becomes its image and new text",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """The PDF written, its metadata and index, and what a run does with bad pages."""
    parser.add_argument(
        "--output-type",
        choices=OUTPUT_TYPES,
        default="auto",
        metavar="TYPE",
        help="auto (default: PDF/A-2b when nothing is lost, else PDF), pdfa (PDF/A-2b), pdfa-1, "
        "pdfa-2, pdfa-3, pdf, or none (no PDF: the sidecar and word outputs only)",
    )
    parser.add_argument(
        "--optimize",
        default="none",
        metavar="LEVEL",
        help="none (default: every image's bytes kept), lossless (images stored smaller, pixel for pixel), "
        "or lossy[=QUALITY] (image pages as JPEGs where the engine reads them the same)",
    )
    for flag, what in (
        ("--hocr", "hOCR"),
        ("--alto", "ALTO v4 XML"),
        ("--words", "JSON lines, a record per page and per word with its box in pixels and points"),
    ):
        parser.add_argument(flag, metavar="FILE", help=f"also write every word as {what} ('-': stdout)")
    parser.add_argument(
        "--page-xml", metavar="DIR", help="also write every word as PAGE XML, a document per page in DIR"
    )
    for name, what in (
        ("title", "the document's title"),
        ("author", "the document's author"),
        ("subject", "what the document is about"),
        ("keywords", "keywords for the document"),
    ):
        parser.add_argument(f"--{name}", metavar="TEXT", help=f"{what} (in its metadata)")
    parser.add_argument(
        "--index",
        metavar="INDEX",
        help="add the written PDF's pages to this full-text index (an SQLite file or a postgresql:// URL;"
        " see pdfocr search)",
    )
    parser.add_argument(
        "--invalidate-digital-signatures",
        action="store_true",
        help="convert digitally signed PDFs anyway (their signatures no longer hold)",
    )
    parser.add_argument(
        "--skip-bad-pages",
        action="store_true",
        help="leave out inputs and pages that cannot be converted, list them, and exit with 7",
    )
    parser.add_argument(
        "--page-timeout",
        type=float,
        default=DEFAULT_PAGE_TIMEOUT,
        metavar="SECONDS",
        help=f"stop a page that takes longer (default: {DEFAULT_PAGE_TIMEOUT:g}; 0: no limit)",
    )


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    """Each engine's own flags, in a group per engine (or engines sharing them)."""
    groups: dict[tuple[str, ...], argparse._ArgumentGroup] = {}
    for flag, (option, engines) in _engine_flags().items():
        dest = _engine_dest(option)
        if engines not in groups:
            names = " and ".join(engines)
            groups[engines] = parser.add_argument_group(
                f"options of the {names} engine{'s' * (len(engines) > 1)}"
            )
        group = groups[engines]
        if option.metavar is None:  # a switch
            group.add_argument(flag, dest=dest, action="store_true", default=None, help=option.help)
        elif option.repeated:
            group.add_argument(flag, dest=dest, metavar=option.metavar, action="append", help=option.help)
        else:
            group.add_argument(flag, dest=dest, metavar=option.metavar, help=option.help)


def _engine_flags() -> dict[str, tuple[EngineOption, tuple[str, ...]]]:
    """Every flag engines declare, and the engines that declare it (auto and tesseract
    share Tesseract's)."""
    flags: dict[str, tuple[EngineOption, tuple[str, ...]]] = {}
    for engine, options in engine_options().items():
        for option in options:
            known, engines = flags.get(option.flag, (option, ()))
            flags[option.flag] = (known, (*engines, engine))
    return flags


def _engine_dest(option: EngineOption) -> str:
    return "engine_" + option.flag.lstrip("-").replace("-", "_")


class _ListEngines(argparse.Action):
    """Like --version: answers and exits, whatever else is on the command line."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        statuses = engine_statuses()
        width = max((len(status.name) for status in statuses), default=0)
        for status in statuses:
            state = "ready" if status.ready else "not ready"
            print(f"{status.name:{width}}  {state}: {status.detail}")
        parser.exit(0 if statuses else int(ExitCode.DEPENDENCY))


class _Reporter:
    """Progress on stderr: a bar on a terminal, a line per page with -v, else silence."""

    def __init__(self, stream: TextIO, *, quiet: bool, verbose: bool) -> None:
        self.stream = stream
        self.verbose = verbose and not quiet
        self.bar: tqdm[None] | None = None
        self.show_bar = not quiet and stream.isatty()

    def __call__(self, event: Progress) -> None:
        if self.show_bar and self.bar is None:
            columns, lines = self._size()
            self.bar = tqdm(total=event.total, unit="page", file=self.stream, ncols=columns, nrows=lines)
            # The bar's clock is the conversion's: its rate and time left count from the start.
            self.bar.start_t -= event.elapsed
            self.bar.last_print_t = self.bar.start_t
        if event.page is None:
            return
        if self.bar is not None:
            self.bar.update(1)
        if self.verbose:
            page = event.page
            where = f"{page.source} (page {page.page})" if page.page else page.source
            turned = f", turned {page.rotated} degrees" if page.rotated else ""
            turned += f", straightened {page.deskewed:+.2f} degrees" if page.deskewed else ""
            timing = f"{page.seconds:.2f} s ({page.ocr_seconds:.2f} s OCR{turned})"
            if page.kept:
                timing = f"kept as it was (text already there, or no image to read), {page.seconds:.2f} s"
            line = f"[{event.done}/{event.total}] {where}: {timing}"
            if self.bar is not None:
                self.bar.write(line, file=self.stream)
            else:
                print(line, file=self.stream)

    def _size(self) -> tuple[int, int]:
        # A terminal that reports no size (some ptys, serial lines) is taken as 80x24;
        # tqdm would otherwise draw nothing at all.
        try:
            columns, lines = os.get_terminal_size(self.stream.fileno())
        except (OSError, ValueError):
            columns = lines = 0
        return columns or 80, lines or 24

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Stopper:
    """Ctrl-C and SIGTERM ask the conversion to stop, through its cancel event: the run
    stops where it checks (every tenth of a second), workers ended, nothing written. An
    exception raised from a signal handler could land anywhere, even between taking a
    lock and the ``try`` that releases it, and hang the process. A second signal ends
    everything at once, for a user who will not wait."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: int | None = None

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            # Asked twice: no more waiting for anything. The workers (and their engines'
            # processes) go at once; the temporary folder may stay behind.
            kill_descendants(os.getpid())
            _stopped(signum == signal.SIGINT)
            os._exit(int(ExitCode.INTERRUPTED if signum == signal.SIGINT else ExitCode.TERMINATED))
        self.signal = signum
        self.event.set()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code. ``pdfocr serve ...`` and ``pdfocr token
    ...`` are the service's commands, ``pdfocr search ...`` and ``pdfocr index ...`` the
    index's, ``pdfocr worker ...`` starts a cluster's workers (a file named ``serve`` is
    converted as ``./serve``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SERVICE_COMMANDS:
        from .service.cli import main as service_main

        return service_main(argv)
    if argv and argv[0] in INDEX_COMMANDS:
        from .index.cli import main as index_main

        return index_main(argv)
    if argv and argv[0] == "worker":
        from .executors.cluster_worker import worker_main

        return worker_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _set_up_reporting(args)
    _check_arguments(parser, args)
    stopper = _Stopper()
    stopper.install()
    reporter = _Reporter(sys.stderr, quiet=args.quiet, verbose=args.verbose)
    output = sys.stdout.buffer if args.output == "-" else args.output  # None: no PDF
    sidecar = sys.stdout.buffer if args.sidecar == "-" else args.sidecar
    word_outputs = WordOutputs(
        hocr=_stream_or_path(args.hocr),
        alto=_stream_or_path(args.alto),
        page_xml=args.page_xml,
        words=_stream_or_path(args.words),
    )
    try:
        options = _options(args)
        word_outputs.check()
        result = convert(
            _inputs(args.inputs), output, options, sidecar=sidecar, progress=reporter, cancel=stopper.event
        )
        word_outputs.write(result)
    except PdfocrError as error:
        reporter.close()
        if isinstance(error, Interrupted) and stopper.signal is not None:
            return _stopped(stopper.signal == signal.SIGINT)
        if args.verbose and error.detail:
            print(error.detail.rstrip(), file=sys.stderr)
        print(f"pdfocr: error: {error}", file=sys.stderr)
        if any(value == "-" for _, value in _stdout_flags(args)):
            _silence_stdout()
        return int(error.exit_code)
    except KeyboardInterrupt:  # before the handlers were in place
        reporter.close()
        return _stopped(True)
    except Exception as error:  # a bug: one line, and the traceback only on request
        reporter.close()
        if args.verbose:
            logging.exception("internal error")
        print(
            f"pdfocr: internal error: {type(error).__name__}: {error} (run with -v for details)",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)
    reporter.close()
    for skipped in result.skipped:  # shown even with -q: each is a problem to look at
        print(f"pdfocr: skipped {skipped}", file=sys.stderr)
    if not args.quiet:
        if args.output is None:
            print(f"pdfocr: read (no PDF written): {_summary(result, args)}", file=sys.stderr)
        else:
            where = "stdout" if args.output == "-" else args.output
            label = LABELS[result.output_type]
            print(f"pdfocr: wrote {where} ({label}): {_summary(result, args)}", file=sys.stderr)
    return int(ExitCode.SKIPPED if result.skipped else ExitCode.OK)


def _set_up_reporting(args: argparse.Namespace) -> None:
    """Logging and warnings as the command's verbosity asks."""
    if args.verbose:
        logging.basicConfig(format="pdfocr: %(message)s")
        logging.getLogger("pdfocr").setLevel(logging.DEBUG)
    else:
        # Library warnings (Pillow on odd images) would break the one-line-error promise,
        # and so would libraries' log lines (fontTools, reading an input's fonts for PDF/A).
        warnings.simplefilter("ignore")
        logging.getLogger().setLevel(logging.ERROR)
        if args.cluster:
            from .executors.cluster import quiet_dask_logging

            quiet_dask_logging()
    if not args.quiet:
        warnings.simplefilter("always", PdfocrWarning)
    warnings.showwarning = _show_warning


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What the arguments cannot ask for together, said before any work (exit 2)."""
    if args.output_type == "none":
        if args.output is not None:
            parser.error("--output-type none writes no PDF: leave out -o")
        if not (args.sidecar or args.hocr or args.alto or args.page_xml or args.words):
            parser.error("--output-type none needs --sidecar, --hocr, --alto, --page-xml or --words")
    elif args.output is None:
        parser.error("the following arguments are required: -o/--output")
    to_stdout = [flag for flag, value in _stdout_flags(args) if value == "-"]
    if len(to_stdout) > 1:
        parser.error(
            f"{' and '.join(to_stdout)} cannot {'both' if len(to_stdout) == 2 else 'all'} go to stdout"
        )
    if args.inputs.count("-") > 1:
        parser.error("- (standard input) can be given once")
    if "-" in args.inputs and sys.stdin.isatty():
        parser.error("refusing to read a scan from a terminal; redirect stdin, or give files")
    if args.output == "-" and sys.stdout.isatty():
        parser.error("refusing to write a PDF to a terminal; redirect stdout or give -o FILE")


def _inputs(given: list[str]) -> list[str | BinaryIO]:
    """The inputs, ``-`` standard input (read as a PDF or image, named ``<stdin>``)."""
    return [sys.stdin.buffer if item == "-" else item for item in given]


def _stdout_flags(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    return [
        ("-o -", args.output),
        ("--sidecar -", args.sidecar),
        ("--hocr -", args.hocr),
        ("--alto -", args.alto),
        ("--words -", args.words),
    ]


def _stream_or_path(value: str | None) -> str | BinaryIO | None:
    return sys.stdout.buffer if value == "-" else value


def _summary(result: Result, args: argparse.Namespace) -> str:
    """The summary line's account of the run: pages, time, who read them, what was kept
    or skipped."""
    rate = result.page_count / result.seconds if result.seconds else 0.0
    pages = "1 page" if result.page_count == 1 else f"{result.page_count} pages"
    readers = result.engine_counts
    read_by = ""
    if len(readers) > 1 or set(readers) - {args.engine}:  # the engine asked, alone, goes unsaid
        read_by = "; read by " + ", ".join(f"{name} {count}" for name, count in readers.items())
    summary = f"{pages} in {result.seconds:.1f} s ({rate:.2f} pages/s{read_by})"
    if result.kept_count:
        kept = (
            "1 page kept as it was"
            if result.kept_count == 1
            else f"{result.kept_count} pages kept as they were"
        )
        summary += f"; {kept} (text already there, or no image to read)"
    if result.unread_count:
        unread = "1 page" if result.unread_count == 1 else f"{result.unread_count} pages"
        why = "earlier OCR text removed, not read (--strip-ocr)" if args.strip_ocr else "not read (--pages)"
        summary += f"; {unread} {why}"
    if result.skipped:
        summary += f", {len(result.skipped)} skipped"
    return summary


def _options(args: argparse.Namespace) -> ConvertOptions:
    """The conversion the command line describes."""
    return ConvertOptions(
        languages=parse_languages(args.language),
        jobs=args.jobs,
        cluster=args.cluster,
        cluster_paths=args.cluster_paths,
        dpi=args.dpi,
        force_dpi=args.force_dpi,
        engine=resolve_engine(args.engine, **_engine_settings(args)),
        rotate_pages=args.rotate_pages,
        rotate_threshold=args.rotate_pages_threshold,
        deskew=args.deskew,
        flatten_photos=args.flatten_photos,
        keep_photos=args.keep_photos,
        pages=args.pages,
        max_megapixels=args.max_megapixels,
        force_ocr=args.force_ocr,
        strip_ocr=args.strip_ocr,
        optimize=args.optimize,
        redo_ocr=args.redo_ocr,
        password=args.password,
        invalidate_digital_signatures=args.invalidate_digital_signatures,
        output_type=args.output_type,
        title=args.title,
        author=args.author,
        subject=args.subject,
        keywords=args.keywords,
        index=args.index,
        skip_bad_pages=args.skip_bad_pages,
        page_timeout=_page_timeout(args.page_timeout),
    )


def _page_timeout(seconds: float) -> float | None:
    if seconds < 0:
        raise UsageError(f"--page-timeout must be 0 (no limit) or a number of seconds, not {seconds:g}")
    return seconds or None


def _stopped(by_interrupt: bool) -> int:
    word = "interrupted" if by_interrupt else "terminated"
    print(f"pdfocr: {word}; nothing was written", file=sys.stderr)
    return int(ExitCode.INTERRUPTED if by_interrupt else ExitCode.TERMINATED)


def _engine_settings(args: argparse.Namespace) -> dict[str, object]:
    """The options engines declared that were given, as settings of the chosen engine."""
    settings: dict[str, object] = {}
    for flag, (option, engines) in _engine_flags().items():
        value = getattr(args, _engine_dest(option), None)
        if value is None:
            continue
        if args.engine not in engines:
            raise UsageError(f"{flag} is for --engine {' or '.join(engines)}")
        settings[option.setting] = tuple(value) if option.repeated else value
    return settings


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"pdfocr: warning: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    # After a failed write to a closed pipe, Python would complain again at exit when it
    # flushes stdout; point stdout at /dev/null so the one error line stays the only one.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

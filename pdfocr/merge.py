"""Merging: one-page PDFs into the final document, and writing outputs atomically.

An output path is only ever replaced by a complete file: everything is written to a
temporary file in the same folder and renamed over the target at the end, so a failed
or interrupted run leaves an existing file exactly as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Union, cast

import pikepdf

from .archival import DocumentRequest, Written, write_document
from .errors import Interrupted, OutputError, os_reason
from .graft import InvisibleTextRemover, graft, replace_content, turn

Output = Union[str, "os.PathLike[str]", BinaryIO]
"""A path, or a binary file object the finished PDF (or the sidecar) is written to."""


@dataclass(frozen=True)
class PagePart:
    """One page of the output, as the merge takes it: a one-page PDF drawn by pdfocr (an
    image page), or a page of an input PDF (``source``, 0-based ``page``) kept as it is,
    with a text layer to graft onto it (``overlay``, a one-page PDF) or none."""

    file: str | None = None
    source: str | None = None
    document: int = -1
    """Which input PDF of the bundle (the same file given twice is two documents)."""
    page: int = 0
    overlay: str | None = None
    password: str | None = field(default=None, repr=False)
    """What opens ``source`` (it is then copied, decrypted, before anything else)."""
    replaces_text: bool = False
    """Remove the page's invisible text (an earlier OCR) before grafting ``overlay``."""
    replaces_content: bool = False
    """``overlay`` is the whole page (rendered, with its text layer): it replaces what the
    page's content shows, the page object and its annotations staying (``force_ocr``)."""
    turn: int = 0
    """Degrees clockwise to turn the page by its /Rotate (``rotate_pages``)."""
    straighten: float = 0.0
    """Degrees counter-clockwise to rotate the page's content by (``deskew``)."""


@dataclass(frozen=True)
class Assembled:
    """The pages merged into one document, to be written out (:mod:`pdfocr.archival`)."""

    path: Path
    linearized: bool = False
    """It is a linearized input PDF, every page: the output should be linearized too."""


def merge_pages(
    parts: Sequence[PagePart],
    destination: Path,
    workdir: Path,
    *,
    target: Path | None = None,
) -> Assembled:
    """Assemble ``parts``, in order, as one PDF: at ``destination``, or, for a bundle
    that is one input PDF, that PDF itself (or its copy with the layers grafted on).
    ``target`` is the output messages name.

    qpdf (run in-process through pikepdf) does all of it: text layers are grafted onto
    the pages of an input PDF with its overlay, which keeps each page's content, boxes and
    rotation as they were and places the layer the way a reader sees the page; pages are
    assembled with its page selection, which reads each page's streams only while writing
    them and reopens files as needed, so memory and open files stay flat for any number of
    pages (1,000 pages of 350 KB merge in 1.5 s within 105 MB). A bundle that is one PDF
    keeps that PDF's document-level parts too: outline, page labels, names, metadata (a
    bundle that starts with a PDF keeps that PDF's metadata)."""
    named = target or destination
    # Streams go out as they came in: no decoding, no recompression (raw bytes kept); the
    # output carries no encryption (see the README).
    keep = ["--decode-level=none", "--compress-streams=n", "--decrypt", "--object-streams=generate"]
    with contextlib.ExitStack() as opened:
        output = _qpdf_name(destination, opened, output=True)
        grafted = _grafted_sources(parts, workdir, named)
        whole, linearized = _whole_document(parts)
        if whole is not None:
            assert whole.source is not None
            return Assembled(Path(grafted.get(whole.document) or whole.source), linearized)
        first = parts[0] if parts and parts[0].source is not None else None
        if first is not None and first.source is not None:
            primary = grafted.get(first.document) or _qpdf_name(first.source, opened)
        else:
            primary = str(_carrier(workdir, named))
        arguments = [primary, *keep, "--pages"]
        for file, pages in _page_runs(parts, grafted, opened):
            arguments += [file, ",".join(pages)]
        _run_qpdf([*arguments, "--", output], named)
    _check_complete(destination, len(parts), named)
    return Assembled(destination)


def _carrier(workdir: Path, named: Path) -> Path:
    """An empty PDF as the primary input, for a bundle that does not start with a PDF:
    --pages replaces its (empty) page list with every page."""
    carrier = workdir / "carrier.pdf"
    try:
        with pikepdf.new() as document:
            document.save(carrier)
    except Exception as error:
        raise OutputError(f"could not assemble the PDF: {error}", file=named) from None
    return carrier


def _grafted_sources(parts: Sequence[PagePart], workdir: Path, named: Path) -> dict[int, str]:
    """For every input PDF (by its place in the bundle) with text layers: a copy with
    the layers grafted on.

    Each layer is drawn over its page, in the page's content, placed on the page as a reader
    sees it (its crop box within its media box, turned by its /Rotate); the page's own
    content streams are not touched, only bracketed by q/Q so that no graphics state
    leaks into the layer. Streams are written as they were read (no decoding, no
    recompression), so their raw bytes stay the same."""
    layers: dict[int, list[PagePart]] = {}
    for part in parts:
        # A PDF opened with a password is copied (decrypted) even without layers: qpdf's
        # page assembly then never needs the password.
        if part.source is not None and (part.overlay is not None or part.password or part.replaces_text):
            layers.setdefault(part.document, []).append(part)
    grafted = {}
    for document_number, overlays in layers.items():
        copy = workdir / f"grafted-{document_number}.pdf"
        first = overlays[0]
        try:
            # An open file, not the name: a name that is not UTF-8 is no text for qpdf.
            with (
                open(first.source or "", "rb") as source,
                pikepdf.open(source, password=first.password or "") as document,
            ):
                remover = InvisibleTextRemover(document)
                for part in overlays:
                    page = document.pages[part.page]
                    if part.replaces_text:  # an earlier OCR's text off (redo_ocr, strip_ocr)
                        remover.remove(page)
                    if part.overlay is None:
                        continue
                    turn(page, part.turn)
                    with pikepdf.open(part.overlay) as layer:
                        if part.replaces_content:
                            replace_content(document, page, layer)
                        else:
                            graft(document, page, layer, straighten=part.straighten)
                document.save(
                    copy,
                    encryption=False,  # see the README: the output carries no restrictions
                    compress_streams=False,
                    stream_decode_level=pikepdf.StreamDecodeLevel.none,
                )
        except Exception as error:  # qpdf reports a full disk or a bad file many ways
            raise OutputError(f"could not assemble the PDF: {error}", file=named) from None
        grafted[document_number] = str(copy)
    return grafted


def _whole_document(parts: Sequence[PagePart]) -> tuple[PagePart | None, bool]:
    """The input PDF that ``parts`` are, every page in order, if they are one (its first
    part stands for it), and whether it is linearized."""
    first = parts[0] if parts else None
    if first is None or first.source is None or any(part.document != first.document for part in parts):
        return None, False
    if [part.page for part in parts] != list(range(len(parts))):
        return None, False
    with open(first.source, "rb") as source, pikepdf.open(source, password=first.password or "") as document:
        if len(document.pages) != len(parts):
            return None, False
        return first, document.is_linearized


def _page_runs(
    parts: Sequence[PagePart], grafted: Mapping[int, str], opened: contextlib.ExitStack
) -> Iterator[tuple[str, list[str]]]:
    """(file, page numbers) for --pages, consecutive parts of one file together."""
    run_file: str | None = None
    run: list[str] = []
    for part in parts:
        if part.file is not None:
            file, page = part.file, 1
        else:
            assert part.source is not None
            file = grafted.get(part.document) or _qpdf_name(part.source, opened)
            page = part.page + 1
        if file != run_file and run:
            yield run_file or "", run
            run = []
        run_file = file
        run.append(str(page))
    if run:
        yield run_file or "", run


def _run_qpdf(arguments: Sequence[str], named: Path) -> None:
    try:
        job = pikepdf.Job(["pdfocr", *arguments])
        job.run()
    except Exception as error:  # qpdf reports a full disk or a bad page file many ways
        raise OutputError(f"could not assemble the PDF: {error}", file=named) from None
    if job.exit_code not in (0, 3):  # 3: warnings, the output is complete
        raise OutputError(f"could not assemble the PDF (qpdf exit code {job.exit_code})", file=named)


def _qpdf_name(path: str | Path, opened: contextlib.ExitStack, *, output: bool = False) -> str:
    """``path`` as qpdf's job takes it: text. A name that is not UTF-8 (bytes from an old
    file system) is handed over as the open file's /proc/self/fd path instead (Linux)."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC if output else os.O_RDONLY
        descriptor = os.open(path, flags, 0o600)
        opened.callback(os.close, descriptor)
        return f"/proc/self/fd/{descriptor}"
    return name


def _check_complete(path: Path, pages: int, named: Path) -> None:
    """Make sure the written PDF is whole: qpdf's job does not always report a write that
    failed (a full disk), and a cut file must never replace the user's output."""
    try:
        with path.open("rb") as stream, pikepdf.open(stream, attempt_recovery=False) as written:
            found = len(written.pages)
    except Exception:
        found = -1
    if found != pages:
        reason = "no space left on device?" if _nearly_full(path) else "the file is incomplete"
        raise OutputError(f"the PDF could not be written completely ({reason})", file=named)


def _nearly_full(path: Path) -> bool:
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 1024 * 1024


def check_writable(target: Path) -> None:
    """Fail early, before any OCR, if ``target`` clearly cannot be written."""
    folder = target.parent
    if not str(target):
        raise OutputError("empty output path")
    if target.is_dir():
        raise OutputError("is a folder", file=target)
    if not folder.exists():
        raise OutputError(f"folder {str(folder)!r} does not exist", file=target)
    if not folder.is_dir():
        raise OutputError(f"{str(folder)!r} is not a folder", file=target)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"no permission to write in folder {str(folder)!r}", file=target)
    if file_target(target) is not None:
        # The output is written beside it, then renamed: try that now (a read-only or
        # virtual file system such as /proc says no only when a file is created).
        _temporary_beside(target).unlink()


def _temporary_beside(target: Path) -> Path:
    """A new empty file in ``target``'s folder, to be renamed over it."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(handle)
    except OSError as error:
        folder = str(target.parent)
        # mkstemp says "no such file" in a folder that exists but takes no new files (/proc).
        reason = "it takes no new files" if isinstance(error, FileNotFoundError) else os_reason(error)
        raise OutputError(f"cannot write in folder {folder!r} ({reason})", file=target) from None
    return Path(name)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write its new content at; it replaces
    ``target`` only if the ``with`` block completes."""
    temporary = _temporary_beside(target)
    try:
        yield temporary
        try:
            with temporary.open("rb+") as written:
                os.fsync(written.fileno())
            os.chmod(temporary, _new_file_mode(target))
            os.replace(temporary, target)
        except OSError as error:
            raise _output_error(error, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[BinaryIO]:
    """A file to write ``target``'s new content to; it replaces ``target`` only if the
    ``with`` block completes. Write errors become :class:`OutputError`."""
    with atomic_path(target) as temporary:
        try:
            stream = temporary.open("wb")
        except OSError as error:
            raise _output_error(error, target) from None
        try:
            yield cast(BinaryIO, _ReportingWrites(stream, target))
            stream.flush()
        except OSError as error:
            raise _output_error(error, target) from None
        finally:
            # After a failed flush (disk full), closing fails the same way: already reported.
            with contextlib.suppress(OSError):
                stream.close()


def _output_error(error: OSError, target: Path) -> OutputError:
    return OutputError(os_reason(error), file=target)


class _ReportingWrites(io.RawIOBase):
    """A write-only view of the temporary file whose write errors (disk full) name the
    target; errors raised by whatever produces the content pass through unchanged."""

    def __init__(self, stream: BinaryIO, target: Path) -> None:
        super().__init__()
        self._stream = stream
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        try:
            return self._stream.write(data)
        except OSError as error:
            raise _output_error(error, self._target) from None

    def tell(self) -> int:
        return self._stream.tell()


def _new_file_mode(target: Path) -> int:
    """The mode an ordinary ``open(target, "w")`` would give: the old file's, or 0666
    less the umask (mkstemp's files are 0600)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads;
    # Linux reports it in /proc instead.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def write_outputs(
    parts: Sequence[PagePart],
    output: Output,
    sidecar: Output | None,
    text: str,
    request: DocumentRequest,
    workdir: Path,
    cancel: threading.Event | None,
) -> Written:
    """Write the PDF (``parts`` joined, written as ``request`` asks) and the sidecar
    ``text``; on any failure, or a stop asked for through ``cancel`` before the end, no
    output is touched."""
    sidecar_bytes = text.encode("utf-8")
    pdf_file, sidecar_file = file_target(output), file_target(sidecar)
    with contextlib.ExitStack() as streams, contextlib.ExitStack() as commits:
        # Files are renamed into place when this block ends, only if all of it succeeded.
        merged = commits.enter_context(atomic_path(pdf_file)) if pdf_file else workdir / "merged.pdf"
        assembled = merge_pages(parts, workdir / "assembled.pdf", workdir, target=pdf_file)
        # Messages name the output the user gave: a file, or a stream (stdout) by its name.
        named = pdf_file or Path(str(getattr(output, "name", "output stream")))
        written = write_document(assembled.path, merged, request, linearize=assembled.linearized, named=named)
        _check_complete(merged, len(parts), named)
        if sidecar_file is not None:
            commits.enter_context(atomic_output(sidecar_file)).write(sidecar_bytes)
        # A stop asked for while the PDF was being assembled still leaves everything as it was.
        if cancel is not None and cancel.is_set():
            raise Interrupted("conversion cancelled")
        # Streams cannot be rolled back, so they are written last, but before the renames:
        # a stream that fails (a closed pipe) still leaves every output file untouched.
        if pdf_file is None:
            target = _open_stream(output, streams)
            with merged.open("rb") as stream:
                _write_stream(target, lambda target: shutil.copyfileobj(stream, target))
        if sidecar is not None and sidecar_file is None:
            _write_stream(_open_stream(sidecar, streams), lambda target: target.write(sidecar_bytes))
    return written


def write_bytes(target: Output, data: bytes) -> None:
    """Write ``data`` on its own (a sidecar without a PDF, a word output): a file is
    replaced atomically, a device, pipe or stream written to."""
    path = file_target(target)
    if path is not None:
        with atomic_output(path) as stream:
            stream.write(data)
        return
    with contextlib.ExitStack() as streams:
        _write_stream(_open_stream(target, streams), lambda opened: opened.write(data))


def file_target(output: Output | None) -> Path | None:
    """The file an output path names, to be replaced atomically; None for a stream, or a
    path that is not a file (a device such as /dev/null or /dev/stdout, a pipe): those are
    written to, never replaced. A symbolic link to a file is followed, so the link stays."""
    if not isinstance(output, (str, os.PathLike)):
        return None
    try:
        regular = stat.S_ISREG(os.stat(output).st_mode)
    except OSError:
        regular = True  # nothing there yet (or a dangling link): a new file
    return Path(os.path.realpath(output)) if regular else None


def _open_stream(output: Output, streams: contextlib.ExitStack) -> BinaryIO:
    if not isinstance(output, (str, os.PathLike)):
        return output
    try:
        # Unbuffered: a write that fails (/dev/full) fails in _write_stream, and closing
        # has nothing left to flush that could fail again.
        return cast(BinaryIO, streams.enter_context(open(output, "wb", buffering=0)))
    except OSError as error:
        raise OutputError(os_reason(error), file=os.fspath(output)) from None


def _write_stream(target: BinaryIO, write: Callable[[BinaryIO], object]) -> None:
    name = getattr(target, "name", None)
    try:
        write(target)
        target.flush()
    except OSError as error:
        raise OutputError(os_reason(error), file=name if isinstance(name, str) else "output stream") from None

"""Merging: one-page PDFs into the final document, and writing outputs atomically.

An output path is only ever replaced by a complete file: everything is written to a
temporary file in the same folder and renamed over the target at the end, so a failed
or interrupted run leaves an existing file exactly as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

import pikepdf

from .errors import OutputError

# At most this many files are merged at once: qpdf keeps every source open and reads
# their streams only while writing, so memory stays flat, but open files are limited
# (often to 1,024). Longer documents are merged in rounds through intermediate files.
MERGE_FAN_IN = 200


def merge_pages(
    page_files: Sequence[str | Path], destination: BinaryIO, metadata: Mapping[str, str], workdir: Path
) -> None:
    """Write the pages of ``page_files``, in order, as one PDF to ``destination``;
    intermediate files, if any, go to ``workdir``."""
    files = [Path(page_file) for page_file in page_files]
    round_number = 0
    while len(files) > MERGE_FAN_IN:
        merged = []
        for start in range(0, len(files), MERGE_FAN_IN):
            part = workdir / f"merged-{round_number}-{start // MERGE_FAN_IN:05d}.pdf"
            with part.open("wb") as stream:
                _merge(files[start : start + MERGE_FAN_IN], stream, {})
            merged.append(part)
        files, round_number = merged, round_number + 1
    _merge(files, destination, metadata)


def _merge(files: Sequence[Path], destination: BinaryIO, metadata: Mapping[str, str]) -> None:
    with contextlib.ExitStack() as sources, pikepdf.new() as document:
        for file in files:
            document.pages.extend(sources.enter_context(pikepdf.open(file)).pages)
        for key, value in metadata.items():
            document.docinfo[key] = value
        # Object streams pack each page's small dictionaries (fonts, resources) together.
        document.save(
            destination,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            fix_metadata_version=False,
        )


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


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[BinaryIO]:
    """A file to write ``target``'s new content to; it replaces ``target`` only if the
    ``with`` block completes. Write errors become :class:`OutputError`."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as error:
        raise OutputError(error.strerror or str(error), file=target) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield cast(BinaryIO, _ReportingWrites(stream, target))
            try:
                stream.flush()
                os.fsync(stream.fileno())
            except OSError as error:
                raise _output_error(error, target) from None
        try:
            os.chmod(temporary, _new_file_mode(target))
            os.replace(temporary, target)
        except OSError as error:
            raise _output_error(error, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _output_error(error: OSError, target: Path) -> OutputError:
    return OutputError(error.strerror or str(error), file=target)


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

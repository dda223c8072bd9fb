"""Every error pdfocr raises, under one root, each carrying the CLI's exit code.

    PdfocrError                      (ExitCode.INTERNAL)
    +-- UsageError                   bad options or arguments (ExitCode.USAGE)
    +-- InputError                   a missing, unreadable, corrupt or unsupported input
    |                                (ExitCode.INPUT); names the file and, for a
    |                                multi-page file, the page
    +-- DependencyError              the engine, or one of its languages, is not installed
    |                                (ExitCode.DEPENDENCY)
    +-- EngineError                  the engine failed on a page (ExitCode.ENGINE)
    +-- OutputError                  the output cannot be written (ExitCode.OUTPUT)
    +-- ArchivalError                the output cannot be the PDF/A asked for
    |                                (ExitCode.ARCHIVAL); names the rule and the page
    +-- Interrupted                  the run was stopped by the user (ExitCode.INTERRUPTED)

    PdfocrWarning                    something the user must know that does not stop the
                                     run (an engine running in evaluation mode)

Policy: the library raises when the caller must act; it never prints, logs to a handler
of its own, or exits. The CLI maps each error to one line on stderr and its exit code.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any


class ExitCode(enum.IntEnum):
    """The CLI's exit codes (also documented in the README)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INPUT = 3
    DEPENDENCY = 4
    OUTPUT = 5
    ENGINE = 6
    SKIPPED = 7
    """The PDF was written, but pages were skipped (``--skip-bad-pages``)."""
    ARCHIVAL = 8
    """The output cannot be the PDF/A asked for (``--output-type pdfa-N``)."""
    INTERRUPTED = 130
    TERMINATED = 143


class PdfocrError(Exception):
    """Root of every pdfocr error. ``str(error)`` is a complete one-line message."""

    exit_code: ExitCode = ExitCode.INTERNAL
    http_status: int = 500
    """The HTTP status a service answers with for this error: 422 when the request's
    content or options are at fault, 5xx when the server is."""

    def __init__(self, message: str, *, file: str | Path | None = None, page: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.page = page
        self.detail: str | None = None
        """For an internal error (a bug): the traceback where it happened, which may be
        in a worker process (the CLI shows it with -v)."""

    def __str__(self) -> str:
        # A file name may hold a newline: escape control characters, one line stays one.
        where = re.sub(r"[\x00-\x1f\x7f]", lambda found: f"\\x{ord(found[0]):02x}", self.file or "")
        if self.page is not None:
            where = f"{where} (page {self.page})" if where else f"page {self.page}"
        return f"{where}: {self.message}" if where else self.message

    def locate(self, file: str | Path | None, page: int | None) -> PdfocrError:
        """Name the file and page this error is about, unless it already names one."""
        if self.file is None:
            self.file = str(file) if file is not None else None
            self.page = page
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross the process boundary from workers; keep the keyword-only fields.
        return (_rebuild, (type(self), self.message, self.file, self.page, self.detail))


def _rebuild(
    cls: type[PdfocrError], message: str, file: str | None, page: int | None, detail: str | None = None
) -> PdfocrError:
    try:
        error = cls(message, file=file, page=page)
    except TypeError:  # a subclass (an engine's own error) with a constructor of its own
        error = cls.__new__(cls)
        PdfocrError.__init__(error, message, file=file, page=page)
    error.detail = detail
    return error


class UsageError(PdfocrError):
    """An option or argument is invalid."""

    exit_code = ExitCode.USAGE
    http_status = 422


class InputError(PdfocrError):
    """An input is missing, unreadable, corrupt, truncated or not a supported image."""

    exit_code = ExitCode.INPUT
    http_status = 422


class DependencyError(PdfocrError):
    """The OCR engine, or a language it needs, is not installed."""

    exit_code = ExitCode.DEPENDENCY
    http_status = 422


class EngineError(PdfocrError):
    """The OCR engine failed on a page."""

    exit_code = ExitCode.ENGINE
    http_status = 422


class ClusterError(PdfocrError):
    """The cluster the pages were to run on cannot be reached, has no workers, or went
    away during the run (nothing is written)."""

    exit_code = ExitCode.DEPENDENCY
    http_status = 503


class OutputError(PdfocrError):
    """The output (PDF or sidecar) cannot be written."""

    exit_code = ExitCode.OUTPUT
    http_status = 500


class ArchivalError(PdfocrError):
    """The output cannot be the PDF/A that was asked for: an input has content PDF/A
    forbids (the message names the rule, and the input file and page)."""

    exit_code = ExitCode.ARCHIVAL
    http_status = 422


class Interrupted(PdfocrError):
    """The run was interrupted (Ctrl-C, or the calling task was cancelled)."""

    exit_code = ExitCode.INTERRUPTED
    http_status = 503


class PdfocrWarning(UserWarning):
    """Issued with :func:`warnings.warn` for what the user must know but that does not stop
    the run; the CLI prints each as a ``pdfocr: warning:`` line."""


def os_reason(error: OSError) -> str:
    """What went wrong with a file, in the words of pdfocr's messages (lower case)."""
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a folder"
    if isinstance(error, FileNotFoundError):
        return "no such file or folder"
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]  # "Too many levels of symbolic links" mid-sentence

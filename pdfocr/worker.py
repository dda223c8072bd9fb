"""A worker process's life: how it starts, how it marks the page it is working on (so
that a crash can be pinned on that page, see :mod:`pdfocr.pipeline`), and how it stops,
taking its engine's own processes with it. What it does with a page is :mod:`pdfocr.page`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import tempfile
import warnings
from pathlib import Path
from types import FrameType

from .errors import OutputError, os_reason
from .inputs import allow_large_images
from .page import PageOutcome, PageTask, process_page


def running_mark(task: PageTask) -> Path:
    """The file that says a worker is working on ``task`` (it holds the worker's pid)."""
    return Path(task.workdir) / f"running-{task.index:06d}"


def kill_descendants(pid: int) -> None:
    """SIGKILL every process below ``pid`` (Linux; elsewhere nothing)."""
    found: list[int] = []
    parents = [pid]
    while parents:
        parent = parents.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError, ValueError):
                for child in map(int, children.read_text().split()):
                    found.append(child)
                    parents.append(child)
    for child in found:
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)


def _exit_on_sigterm(mark: Path | None, signum: int, frame: FrameType | None) -> None:
    # Stopped on purpose, not dead: take the page's mark away. Then end the engine's own
    # child processes (the tesseract command) and this worker at once: raising SystemExit
    # would be caught by the pool's worker loop, which would carry on waiting for work.
    if mark is not None:
        with contextlib.suppress(OSError):
            mark.unlink()
    kill_descendants(os.getpid())
    os._exit(128 + signum)


def init_worker() -> None:
    """Set up a worker process (the pool's initializer)."""
    # Ctrl-C reaches the whole process group; only the parent decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, functools.partial(_exit_on_sigterm, None))
    # Nobody reads a worker's stderr: Pillow's warnings (large or odd images) would only
    # garble the caller's terminal. Real problems are raised as errors.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    logging.getLogger("img2pdf").setLevel(logging.ERROR)
    allow_large_images()


def run_page(task: PageTask) -> PageOutcome:
    """:func:`process_page` in a worker, with the page's running mark in place."""
    mark = running_mark(task)
    signal.signal(signal.SIGTERM, functools.partial(_exit_on_sigterm, mark))
    # The engine's temporary files go in the run's folder, which the caller removes even
    # when this worker is killed in the middle of the page.
    tempfile.tempdir = task.workdir
    try:
        try:
            mark.write_text(str(os.getpid()))
        except OSError as error:
            raise OutputError(
                f"cannot write a temporary file in {task.workdir}: {os_reason(error)}"
            ) from None
        return process_page(task)
    finally:
        tempfile.tempdir = None
        signal.signal(signal.SIGTERM, functools.partial(_exit_on_sigterm, None))
        with contextlib.suppress(OSError):
            mark.unlink()

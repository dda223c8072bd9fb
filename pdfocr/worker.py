"""A worker process's life: how it starts, how it takes pages from its executor and
answers, and how it stops, taking its engine's own processes with it. What it does with a
page is :mod:`pdfocr.page`; the parent side is :mod:`pdfocr.executors.process`.

The conversation on the worker's pipe: the worker says ``READY`` once it has started;
then, for each :class:`~pdfocr.page.PageTask` it is sent, it answers with the page's
:class:`~pdfocr.page.PageOutcome` or the page's :class:`~pdfocr.errors.PdfocrError`.
``None`` (or the pipe closing) tells it to exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import traceback
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType

from .errors import PdfocrError, UsageError
from .page import PageOutcome, process_page

READY = "ready"


def kill_descendants(pid: int) -> None:
    """SIGKILL every process below ``pid`` (Linux; elsewhere nothing)."""
    found: list[int] = []
    parents = [pid]
    while parents:
        parent = parents.pop()
        try:  # a process that ends meanwhile takes its /proc folder with it
            listings = list(Path(f"/proc/{parent}/task").glob("*/children"))
        except OSError:
            continue
        for children in listings:
            with contextlib.suppress(OSError, ValueError):
                for child in map(int, children.read_text().split()):
                    found.append(child)
                    parents.append(child)
    for child in found:
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # End the engine's own child processes (the tesseract command) and this worker at
    # once: an exception raised here could land anywhere in the page's work.
    kill_descendants(os.getpid())
    os._exit(128 + signum)


def _init(tempdir: str) -> None:
    # Ctrl-C reaches the whole process group; only the parent decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Nobody reads a worker's stderr: Pillow's warnings (large or odd images) would only
    # garble the caller's terminal. Real problems are raised as errors.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    logging.getLogger("img2pdf").setLevel(logging.ERROR)
    # Native libraries write there too (libtiff: "Using code not yet in table."); what
    # matters comes back as the page's error, and stderr is the user's terminal.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # The engine's temporary files go in this worker's own folder, which the executor
    # removes even when the worker is killed in the middle of a page.
    tempfile.tempdir = tempdir


def serve(connection: Connection, tempdir: str) -> None:
    """A worker process's main function: answer pages until told to stop."""
    _init(tempdir)
    connection.send(READY)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        except Exception as error:  # a page this process cannot unpickle (its engine's class)
            connection.send(
                UsageError(
                    f"a page cannot be loaded in a worker process ({type(error).__name__}: {error}); "
                    "an engine's class must be importable by its module's name, not defined in a "
                    "script run with -c or in a notebook"
                )
            )
            continue
        if task is None:
            return
        answer: PageOutcome | PdfocrError
        try:
            answer = process_page(task)
        except PdfocrError as error:
            answer = error
        except BaseException as error:  # process_page reports its own bugs; this is a last guard
            answer = PdfocrError(f"internal error: {type(error).__name__}: {error}")
            answer.detail = traceback.format_exc()
        try:
            connection.send(answer)
        except Exception as error:  # an answer that cannot be pickled
            failure = PdfocrError(f"internal error: the page's result cannot be sent back ({error})")
            failure.detail = traceback.format_exc()
            connection.send(failure)

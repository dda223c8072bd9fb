"""The workers' side of a Dask cluster: what runs there (a page, the engine's check) and
``pdfocr worker``, which starts them. The client's side is :mod:`.cluster`."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DependencyError, ExitCode, PdfocrError
from ..options import usable_cpus
from ..page import PageOutcome, PageTask, process_page
from ..version import __version__

if TYPE_CHECKING:
    from ..engines import OcrEngine

log = logging.getLogger("pdfocr.cluster")

STARTED_TOPIC = "pdfocr-page-started"
"""The event a worker logs when it takes a page up (its key and the worker's address):
the page's time limit runs from then, and a page stopped then has its worker restarted."""


def run_page(task: PageTask, data: bytes | None) -> PageOutcome:
    """A page, on a worker: the task with its input's bytes put back."""
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(STARTED_TOPIC, {"key": str(worker.get_current_task()), "worker": worker.address})
    if data is not None:
        task = dataclasses.replace(task, source=dataclasses.replace(task.source, data=data))
    elif task.source.path is not None and not os.path.exists(task.source.path):
        # Sent as a path (--cluster-paths): the storage is not shared with this worker.
        raise DependencyError(
            f"not found on worker {worker.address}, which --cluster-paths needs to read it at the same path",
            file=task.source.path,
        )
    try:
        return process_page(task)
    except DependencyError as error:  # this worker lacks what the page needs
        raise DependencyError(f"{error.message} (on worker {worker.address})") from None
    except PdfocrError:
        raise
    except Exception as error:  # process_page reports its own bugs; this is a last guard
        failure = PdfocrError(f"internal error on worker {worker.address}: {type(error).__name__}: {error}")
        failure.detail = traceback.format_exc()
        raise failure from None


def check_engine(engine: OcrEngine, languages: list[str]) -> tuple[str, PdfocrError | None]:
    """On a worker: its pdfocr version, and the engine's check's error (returned, to be
    told apart per worker)."""
    try:
        engine.check(languages)
    except PdfocrError as error:
        return __version__, error
    return __version__, None


def allowed_failures(dask_scheduler: Any) -> int:
    """On the scheduler: workers a page may take down before it is given up on."""
    return int(dask_scheduler.allowed_failures)


def dask_setup(worker: Any) -> None:
    """Run in each worker process started with ``--preload pdfocr.executors.cluster_worker``
    (``pdfocr worker`` does): Pillow's warnings on odd images are not the worker log's
    business (real problems are raised as errors)."""
    warnings.filterwarnings("ignore", module=r"PIL\.")
    logging.getLogger("img2pdf").setLevel(logging.ERROR)
    log.info("pdfocr %s ready on %s", __version__, worker.address)


def worker_main(argv: Sequence[str]) -> int:
    """``pdfocr worker SCHEDULER``: ``dask worker`` as pdfocr's pages want it."""
    parser = argparse.ArgumentParser(
        prog="pdfocr worker",
        description="Start pdfocr's workers for a Dask cluster: `dask worker` with one thread per worker "
        "process (a page at a time each, as pdfocr's own workers) and pdfocr's setup. Any other option "
        "is dask worker's (--host, --nanny/--no-nanny, --memory-limit, TLS...).",
    )
    parser.add_argument("scheduler", help="the scheduler's address: tcp://host:8786 or tls://host:8786")
    parser.add_argument(
        "--nworkers", type=int, default=usable_cpus(), help="worker processes (default: one per CPU)"
    )
    args, rest = parser.parse_known_args(argv)
    if importlib.util.find_spec("distributed") is None:
        print("pdfocr worker: error: Dask is not installed: pip install 'pdfocr[cluster]'", file=sys.stderr)
        return int(ExitCode.DEPENDENCY)
    command = [sys.executable, "-m", "distributed.cli.dask_worker", args.scheduler]
    command += ["--nthreads", "1", "--nworkers", str(args.nworkers), "--preload", __name__, *rest]
    os.execv(sys.executable, command)  # the worker is dask's from here on
    return 0  # not reached

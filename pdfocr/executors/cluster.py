"""Pages run as tasks on the workers of a Dask cluster (``--cluster tcp://host:8786``).

The conversion stays where the command runs: it expands the bundle, hands pages over no
faster than the cluster's workers take them (the scheduler's slots, as for local
workers), and writes the PDF as their results come back, page by page. What crosses the
network:

- each input file's bytes, once: scattered to a worker when its first page is handed over
  (the scheduler sees only its key) and released when its last page is done; a worker
  that runs a page of it fetches it from there, once;
- each page's task (its options, the file's key) through the scheduler, and each page's
  result (a one-page PDF and its text) straight from the worker that made it.

Faults keep their meaning. A worker that dies under a page is Dask's to handle: the page
runs again on another worker. A page that kills every worker it is given
(``distributed.scheduler.allowed-failures`` of them) comes back as lost that many times:
blamed like a local crash. A page past its time limit is cancelled and its worker
restarted (a thread cannot be stopped). A scheduler that goes away fails the conversion
with :class:`~pdfocr.errors.ClusterError`.

Workers need pdfocr and its engine; ``pdfocr worker tcp://host:8786`` starts one (see
:func:`run_worker`). Dask's own security settings apply (``tls://`` addresses and the
``distributed.comm.tls`` configuration).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import logging
import os
import sys
import threading
import uuid
import warnings
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ClusterError, DependencyError, ExitCode, PdfocrError
from ..options import usable_cpus
from ..page import PageOutcome, PageTask, process_page
from ..version import __version__
from . import Started, StopReason, WorkerLost

if TYPE_CHECKING:
    from ..engines import OcrEngine

log = logging.getLogger("pdfocr.cluster")

STARTED_TOPIC = "pdfocr-page-started"
"""The event a worker logs when it takes a page up: the page's time limit runs from then."""
CONNECT_SECONDS = 10.0
WORKERS_SECONDS = 30.0
SCATTER_ATTEMPTS = 3
"""How long a conversion waits for a cluster with no workers to get one."""


@dataclass(eq=False)
class _Page:
    ours: Future[PageOutcome]
    theirs: Any  # distributed.Future
    started: Started
    payload: object | None
    """The key of the input file this page's bytes came with (see ``_files``)."""


class DaskExecutor:
    """Runs pages on the workers of the Dask scheduler at ``address``."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise DependencyError("a cluster needs Dask: pip install 'pdfocr[cluster]'") from None
        self.address = address
        if address.startswith("tls://"):
            _check_tls_settings(address)
        try:
            self._client = Client(
                address, timeout=CONNECT_SECONDS, set_as_default=False, direct_to_workers=True
            )
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"cannot reach the cluster's scheduler at {address} ({error})") from None
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}  # by the task's key
        self._keys: dict[Future[PageOutcome], str] = {}
        # Input files scattered to the cluster: their data's future and how many of their
        # pages are out.
        self._files: dict[object, list[Any]] = {}
        self._files_lock = threading.Lock()
        self._closed = False
        try:
            self._capacity = self._count_threads()
            # A page given up on has killed this many workers (Dask's setting, the scheduler's).
            self._allowed_failures = int(self._client.run_on_scheduler(_allowed_failures))
            self._client.subscribe_topic(STARTED_TOPIC, self._on_started)
        except BaseException:
            self._client.close()
            raise

    def _count_threads(self) -> int:
        """The workers' threads: no page waits on a worker (one that waits there is lost
        with the worker if another page brings it down)."""
        if not self._client.nthreads():
            try:
                self._client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            except TimeoutError:
                raise ClusterError(
                    f"the cluster at {self.address} has no workers (none came in {WORKERS_SECONDS:g} s)"
                ) from None
        workers: dict[str, int] = self._client.nthreads()
        return sum(workers.values())

    @property
    def capacity(self) -> int:
        """Pages the cluster runs at once (as it was when the executor was made)."""
        return self._capacity

    def prepare(self) -> None:
        if self._client.status != "running":
            raise ClusterError(f"the cluster's scheduler at {self.address} is gone")

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        found = self._client.run(_check_engine, engine, list(languages))
        if not found:
            raise ClusterError(f"the cluster at {self.address} has no workers")
        for worker, error in sorted(found.items()):
            if error is not None:
                error.message = f"{error.message} (on worker {worker})"
                raise error

    def submit(self, task: PageTask, started: Started) -> Future[PageOutcome]:
        ours: Future[PageOutcome] = Future()
        ours.set_running_or_notify_cancel()
        payload, data = self._payload(task)
        bare = dataclasses.replace(task, source=dataclasses.replace(task.source, path=None, data=None))
        key = f"pdfocr-page-{task.index}-{uuid.uuid4().hex}"
        theirs = self._client.submit(run_page, bare, data, key=key, pure=False, retries=0)
        with self._lock:
            self._pages[key] = _Page(ours, theirs, started, payload)
            self._keys[ours] = key
        theirs.add_done_callback(self._settle)
        return ours

    def _payload(self, task: PageTask) -> tuple[object | None, Any]:
        """The page's input file on the cluster (scattered with its first page): its key
        here, and its future."""
        source = task.source
        if source.broken is not None or (source.path is None and source.data is None):
            return None, None
        payload: object = source.path if source.path is not None else id(source.data)
        with self._files_lock:
            entry = self._files.get(payload)
            if entry is not None and entry[0].status not in ("pending", "finished"):
                entry = None  # lost with the worker that held it
            if entry is None:
                entry = self._files[payload] = [self._scatter(source.read()), 0]
            entry[1] += 1
            return payload, entry[0]

    def _scatter(self, data: bytes) -> Any:
        """``data`` sent to a worker; to another if that one dies meanwhile."""
        for attempt in range(SCATTER_ATTEMPTS):
            try:
                [scattered] = self._client.scatter([data], hash=False)
                return scattered
            except OSError as error:  # Dask's CommClosedError is one
                if self._client.status != "running" or attempt == SCATTER_ATTEMPTS - 1:
                    raise ClusterError(
                        f"cannot send a page to the cluster at {self.address} ({error})"
                    ) from None
        raise AssertionError("not reached")

    def _release(self, payload: object | None) -> None:
        if payload is None:
            return
        with self._files_lock:
            entry = self._files.get(payload)
            if entry is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    del self._files[payload]  # no page needs it: the cluster forgets it

    def _on_started(self, event: tuple[float, dict[str, str]]) -> None:
        with self._lock:
            page = self._pages.get(event[1].get("key", ""))
        if page is not None and not page.ours.done():
            page.started(page.ours)

    def _settle(self, theirs: Any) -> None:
        """A page's task ended (in a thread of Dask's): its outcome, error or loss."""
        with self._lock:
            page = self._pages.pop(theirs.key, None)
            if page is not None:
                self._keys.pop(page.ours, None)
        if page is None:  # stopped already
            return
        self._release(page.payload)
        try:
            page.ours.set_result(theirs.result())
        except PdfocrError as error:  # the page's own error, raised on the worker
            page.ours.set_exception(error)
        except BaseException as error:
            page.ours.set_exception(self._lost(error))

    def _lost(self, error: BaseException) -> BaseException:
        from distributed.scheduler import KilledWorker

        if isinstance(error, KilledWorker):
            return WorkerLost(None, times=self._allowed_failures + 1)
        if self._client.status != "running" or isinstance(error, (OSError, TimeoutError)):
            return ClusterError(f"the cluster's scheduler at {self.address} went away during the run")
        if isinstance(error, CancelledError):
            # Not by us: the worker holding the page's input died, and the input with it
            # (scattered data cannot be made again). Lost without a word: tried again,
            # the input scattered anew.
            return WorkerLost(None)
        return PdfocrError(f"internal error on the cluster: {type(error).__name__}: {error}")

    def stop(self, future: Future[PageOutcome], reason: StopReason) -> None:
        with self._lock:
            key = self._keys.pop(future, None)
            page = self._pages.pop(key, None) if key is not None else None
        if page is None:
            return
        worker = None
        if reason is StopReason.TIMEOUT:  # its thread goes on: the worker must be restarted
            worker = next(
                (w for w, keys in self._client.processing().items() if page.theirs.key in keys), None
            )
        with contextlib.suppress(Exception):
            self._client.cancel([page.theirs], force=True)
        if worker is not None:
            threading.Thread(target=self._restart, args=(worker,), daemon=True).start()
        self._release(page.payload)
        page.ours.set_exception(WorkerLost(None, reason))

    def _restart(self, worker: str) -> None:
        try:
            self._client.restart_workers([worker])
        except Exception as error:  # a worker without a nanny: it stays busy until the page ends
            log.warning("could not restart worker %s after a page timeout: %s", worker, error)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            self._closed = True
            pages = list(self._pages.values())
            self._pages.clear()
            self._keys.clear()
        with contextlib.suppress(Exception):
            self._client.cancel([page.theirs for page in pages], force=True)
        for page in pages:
            page.ours.set_exception(WorkerLost(None, StopReason.CLOSED))
        with self._files_lock:
            self._files.clear()
        self._client.close()


def quiet_dask_logging() -> None:
    """Keep Dask's client from logging its own tracebacks (a scheduler gone, a failed
    reconnection): the command line says what went wrong in one line. Dask sets its
    loggers' levels when it is imported, so it is imported here first."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return  # the conversion will say Dask is missing
    for name in [*logging.root.manager.loggerDict, "distributed"]:
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _check_tls_settings(address: str) -> None:
    """A ``tls://`` cluster needs Dask's TLS settings (Dask itself would fail obscurely)."""
    import dask.config

    missing = [
        name
        for name in ("ca-file", "client.cert", "client.key")
        if not dask.config.get(f"distributed.comm.tls.{name}", default=None)
    ]
    if missing:
        variables = ", ".join(
            "DASK_DISTRIBUTED__COMM__TLS__" + name.upper().replace("-", "_").replace(".", "__")
            for name in missing
        )
        raise ClusterError(
            f"{address} is a TLS cluster, and Dask's TLS settings are missing: "
            f"distributed.comm.tls.{', '.join(missing)} (or {variables})"
        )


# -- on the workers ---------------------------------------------------------------------


def run_page(task: PageTask, data: bytes | None) -> PageOutcome:
    """A page, on a worker: the task with its input's bytes put back."""
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(STARTED_TOPIC, {"key": str(worker.get_current_task())})
    if data is not None:
        task = dataclasses.replace(task, source=dataclasses.replace(task.source, data=data))
    try:
        return process_page(task)
    except DependencyError as error:  # this worker lacks what the page needs
        error.message = f"{error.message} (on worker {worker.address})"
        raise


def _check_engine(engine: OcrEngine, languages: list[str]) -> PdfocrError | None:
    """The engine's check on a worker: its error (returned, to be told apart per worker)."""
    try:
        engine.check(languages)
    except PdfocrError as error:
        return error
    return None


def _allowed_failures(dask_scheduler: Any) -> int:
    return int(dask_scheduler.allowed_failures)


def dask_setup(worker: Any) -> None:
    """Run in each worker process started with ``--preload pdfocr.executors.cluster``
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

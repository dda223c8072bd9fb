"""Pages run as tasks on the workers of a Dask cluster (``--cluster tcp://host:8786``).

The conversion stays where the command runs: it expands the bundle, hands pages over no
faster than the cluster's workers take them (the scheduler's slots, as for local
workers), and writes the PDF as their results come back, page by page. What crosses the
network:

- each page's input: a PDF's page as a PDF of its own, an image file whole (a TIFF's
  frames share it), scattered to a worker when a page of it is handed over (the scheduler
  sees only its key) and released when no page out needs it; a worker that runs the page
  fetches it from there; with ``paths``, the inputs' paths instead (shared storage);
- each page's task (its options, the file's key) through the scheduler, and each page's
  result (a one-page PDF and its text) straight from the worker that made it.

Faults keep their meaning. A worker that dies under a page is Dask's to handle: the page
runs again on another worker. A page that kills every worker it is given
(``distributed.scheduler.allowed-failures`` of them) comes back as lost that many times:
blamed like a local crash. A page past its time limit is cancelled and its worker
restarted (a thread cannot be stopped), and so is the worker of a running page whose
conversion was cancelled or failed. A scheduler that goes away (or comes back, having
forgotten every task) fails the conversion with :class:`~pdfocr.errors.ClusterError`.

Workers need pdfocr (the same version) and its engine; ``pdfocr worker tcp://host:8786``
starts them (:mod:`.cluster_worker`, the workers' side). Dask's own security settings
apply (``tls://`` addresses and the ``distributed.comm.tls`` configuration).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ClusterError, DependencyError, InputError, PdfocrError
from ..page import PageOutcome, PageTask
from . import Started, StopReason, WorkerLost
from .cluster_connection import ClusterConnection
from .cluster_inputs import ClusterInputs
from .cluster_worker import run_page

if TYPE_CHECKING:
    from ..engines import OcrEngine

log = logging.getLogger("pdfocr.cluster")


@dataclass(eq=False)
class _Page:
    ours: Future[PageOutcome]
    theirs: Any  # distributed.Future
    started: Started
    file_key: object | None
    """The input file this page's bytes came with (see :class:`.cluster_inputs.ClusterInputs`)."""
    worker: str | None = None
    """The worker running it, once it has started."""


class DaskExecutor:
    """Runs pages on the workers of the Dask scheduler at ``address``: each page out as a
    task there, from its submission to its end. The connection is a
    :class:`~.cluster_connection.ClusterConnection`; the inputs' data on the cluster,
    :class:`~.cluster_inputs.ClusterInputs`."""

    def __init__(self, address: str, *, paths: bool = False) -> None:
        """``paths``: the inputs' paths are the same on every worker (shared storage),
        so pages travel as paths, not bytes."""
        try:
            import distributed  # noqa: F401  (missing: said before anything else)
        except ImportError:
            raise DependencyError("a cluster needs Dask: pip install 'pdfocr[cluster]'") from None
        self.address = address
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}  # by the task's key
        self._keys: dict[Future[PageOutcome], str] = {}
        self._connection = ClusterConnection(address, self._on_started)
        self._inputs = ClusterInputs(self._connection, paths=paths)

    @property
    def paths(self) -> bool:
        """The inputs travel as paths (shared storage), not bytes."""
        return self._inputs.paths

    @property
    def bytes_sent(self) -> int:
        """Input bytes sent to the cluster so far."""
        return self._inputs.bytes_sent

    @property
    def status(self) -> str:
        """The connection to the scheduler, as Dask's client has it: ``running``,
        ``connecting`` (again, after the scheduler went away), ``closed``..."""
        return self._connection.status

    @property
    def capacity(self) -> int:
        """Pages the cluster runs at once: its workers' threads, counted again every
        few seconds (workers come and go), at least one."""
        return self._connection.capacity

    def prepare(self) -> None:
        """Before each run: a client whose scheduler went away is made again (a service's
        converter outlives a scheduler's restart), and the start events are subscribed
        to again (a reconnection forgets them)."""
        self._connection.prepare()

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        """The engine's check on every worker there is now, naming a worker that fails
        it, lacks pdfocr or runs another version of it."""
        self._connection.check_engine(engine, languages)

    def submit(self, task: PageTask, started: Started) -> Future[PageOutcome]:
        ours: Future[PageOutcome] = Future()
        ours.set_running_or_notify_cancel()
        try:
            bare, file_key, data = self._inputs.take(task)
        except InputError as error:  # an input that cannot be read fails its page, as at home
            ours.set_exception(error)
            return ours
        key = f"pdfocr-page-{task.index}-{uuid.uuid4().hex}"
        try:
            theirs = self._connection.client.submit(run_page, bare, data, key=key, pure=False, retries=0)
        except BaseException:
            self._inputs.release(file_key)
            raise
        with self._lock:
            self._pages[key] = _Page(ours, theirs, started, file_key)
            self._keys[ours] = key
        theirs.add_done_callback(self._settle)
        return ours

    def _on_started(self, event: tuple[float, dict[str, str]]) -> None:
        with self._lock:
            page = self._pages.get(event[1].get("key", ""))
            first = page is not None and page.worker is None
            if page is not None:
                page.worker = event[1].get("worker")
        # Its time runs from its first start (a page run again after its worker died is
        # charged for the time it spent there too).
        if page is not None and first and not page.ours.done():
            page.started(page.ours)

    def _settle(self, theirs: Any) -> None:
        """A page's task ended (in a thread of Dask's): its outcome, error or loss."""
        with self._lock:
            page = self._pages.pop(theirs.key, None)
            if page is not None:
                self._keys.pop(page.ours, None)
        if page is None:  # stopped already
            return
        self._inputs.release(page.file_key)
        try:
            page.ours.set_result(theirs.result())
        except PdfocrError as error:  # the page's own error, raised on the worker
            page.ours.set_exception(error)
        except BaseException as error:
            page.ours.set_exception(self._as_page_error(error))

    def _as_page_error(self, error: BaseException) -> BaseException:
        """What a task's failure that is not the page's own error means for the page."""
        from distributed.scheduler import KilledWorker

        if isinstance(error, KilledWorker):
            return WorkerLost(None, times=self._connection.allowed_failures + 1)
        reason = str(getattr(error, "reason", ""))
        if self._connection.client.status != "running" or "scheduler-connection-lost" in reason:
            return ClusterError(f"the cluster's scheduler at {self.address} went away during the run")
        if isinstance(error, CancelledError):
            # Not by us: the worker holding the page's input died, and the input with it
            # (scattered data cannot be made again). Lost without a word: tried again,
            # the input sent anew.
            return WorkerLost(None)
        if isinstance(error, OSError):  # Dask's own connections (the page's errors are pdfocr's)
            return ClusterError(f"the cluster at {self.address} failed during the run ({error})")
        return PdfocrError(f"internal error on the cluster: {type(error).__name__}: {error}")

    def stop(self, future: Future[PageOutcome], reason: StopReason) -> None:
        with self._lock:
            key = self._keys.pop(future, None)
            page = self._pages.pop(key, None) if key is not None else None
        if page is None:
            return
        try:
            with contextlib.suppress(Exception):
                self._connection.client.cancel([page.theirs], force=True)
            if page.worker is not None:
                # A running page's thread cannot be stopped: its worker is restarted, or it
                # would take no other page until this one ends (if ever).
                threading.Thread(target=self._restart, args=(page.worker,), daemon=True).start()
            self._inputs.release(page.file_key)
        finally:
            page.ours.set_exception(WorkerLost(None, reason))

    def _restart(self, worker: str) -> None:
        try:
            self._connection.client.restart_workers([worker])
        except Exception as error:  # a worker without a nanny: it stays busy until the page ends
            log.warning("could not restart worker %s after stopping its page: %s", worker, error)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            pages = list(self._pages.values())
            self._pages.clear()
            self._keys.clear()
        with contextlib.suppress(Exception):
            self._connection.client.cancel([page.theirs for page in pages], force=True)
        for page in pages:
            page.ours.set_exception(WorkerLost(None, StopReason.CLOSED))
        self._inputs.clear()
        self._connection.close()


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

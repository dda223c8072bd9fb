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
import dataclasses
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ClusterError, DependencyError, InputError, PdfocrError
from ..page import PageOutcome, PageTask
from ..pdfpages import one_page_pdf
from ..version import __version__
from . import Started, StopReason, WorkerLost
from .cluster_worker import STARTED_TOPIC, allowed_failures, check_engine, run_page

if TYPE_CHECKING:
    from ..engines import OcrEngine

log = logging.getLogger("pdfocr.cluster")

CONNECT_SECONDS = 10.0
WORKERS_SECONDS = 30.0
"""How long a conversion waits for a cluster with no workers to get one."""
SCATTER_ATTEMPTS = 3
CAPACITY_SECONDS = 2.0
"""How often the workers' threads are counted again (Dask's client learns of workers
that come and go as often)."""
SETTLED = ("running", "closing", "closed", "failed")
"""A client's states other than reconnecting."""


@dataclass(eq=False)
class _Page:
    ours: Future[PageOutcome]
    theirs: Any  # distributed.Future
    started: Started
    file_key: object | None
    """The input file this page's bytes came with (see ``DaskExecutor._files``)."""
    worker: str | None = None
    """The worker running it, once it has started."""


@dataclass(eq=False)
class _File:
    """An input file on the cluster: its data's future, and its pages out."""

    data: Any  # distributed.Future
    pages: int = 0


class DaskExecutor:
    """Runs pages on the workers of the Dask scheduler at ``address``."""

    def __init__(self, address: str, *, paths: bool = False) -> None:
        """``paths``: the inputs' paths are the same on every worker (shared storage),
        so pages travel as paths, not bytes."""
        try:
            import distributed  # noqa: F401  (missing: said before anything else)
        except ImportError:
            raise DependencyError("a cluster needs Dask: pip install 'pdfocr[cluster]'") from None
        self.address = address
        if address.startswith("tls://"):
            _check_tls_settings(address)
        self._client = self._connect()
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}  # by the task's key
        self._keys: dict[Future[PageOutcome], str] = {}
        self._files: dict[object, _File] = {}  # by path, or by the identity of in-memory data
        self._files_lock = threading.Lock()
        self.paths = paths
        self.bytes_sent = 0
        """Input bytes sent to the cluster so far."""
        try:
            self._capacity = self._count_threads()
            self._counted = time.monotonic()
            # A page given up on has killed this many workers (Dask's setting, the scheduler's).
            self._allowed_failures = int(self._client.run_on_scheduler(allowed_failures))
            self._client.subscribe_topic(STARTED_TOPIC, self._on_started)
        except BaseException:
            self._client.close()
            raise

    def _connect(self) -> Any:
        from distributed import Client

        try:
            return Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False, direct_to_workers=True)
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"cannot reach the cluster's scheduler at {self.address} ({error})") from None

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
    def status(self) -> str:
        """The connection to the scheduler, as Dask's client has it: ``running``,
        ``connecting`` (again, after the scheduler went away), ``closed``..."""
        return str(self._client.status)

    @property
    def capacity(self) -> int:
        """Pages the cluster runs at once: its workers' threads, counted again every
        few seconds (workers come and go), at least one."""
        now = time.monotonic()
        if now - self._counted > CAPACITY_SECONDS and self._client.status == "running":
            self._counted = now
            with contextlib.suppress(Exception):  # a scheduler gone: the run says so
                self._capacity = max(1, sum(self._client.nthreads().values()))
        return self._capacity

    def prepare(self) -> None:
        """Before each run: a client whose scheduler went away is made again (a service's
        converter outlives a scheduler's restart), and the start events are subscribed
        to again (a reconnection forgets them)."""
        # Reconnecting (Dask's own tries, CONNECT_SECONDS long): wait for how they end.
        deadline = time.monotonic() + 2 * CONNECT_SECONDS
        while self._client.status not in SETTLED and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            if self._client.status != "running":
                with contextlib.suppress(Exception):
                    self._client.close()
                self._client = self._connect()
                log.info("connected again to the cluster at %s", self.address)
            self._client.subscribe_topic(STARTED_TOPIC, self._on_started)

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        """The engine's check on every worker there is now, naming a worker that fails
        it, lacks pdfocr or runs another version of it."""
        try:
            found = self._client.run(check_engine, engine, list(languages), on_error="return")
        except (OSError, TimeoutError) as error:
            raise ClusterError(
                f"the cluster's scheduler at {self.address} cannot be asked ({error})"
            ) from None
        if not found:
            raise ClusterError(f"the cluster at {self.address} has no workers")
        for worker, answer in sorted(found.items()):
            if isinstance(answer, BaseException):
                raise DependencyError(
                    f"worker {worker} cannot run pdfocr's pages ({type(answer).__name__}: {answer}); "
                    f"it needs pdfocr {__version__} and its engine"
                )
            version, refused = answer
            if version != __version__:
                raise DependencyError(
                    f"worker {worker} runs pdfocr {version}, this is {__version__}: they must match"
                )
            if refused is not None:
                raise _on_worker(refused, worker)

    def submit(self, task: PageTask, started: Started) -> Future[PageOutcome]:
        ours: Future[PageOutcome] = Future()
        ours.set_running_or_notify_cancel()
        try:
            file_key, data = self._input_of(task)
        except InputError as error:  # an input that cannot be read fails its page, as at home
            ours.set_exception(error)
            return ours
        sent_as_path = self._sent_as_path(task)
        source = task.source
        if sent_as_path:  # the worker reads it there
            assert source.path is not None
            source = dataclasses.replace(source, path=os.path.abspath(source.path))
        frame_in_data = 0 if source.is_pdf and not sent_as_path else None  # see _read
        bare = dataclasses.replace(
            task,
            source=dataclasses.replace(
                source, data=None, path=source.path if sent_as_path else None, data_frame=frame_in_data
            ),
        )
        key = f"pdfocr-page-{task.index}-{uuid.uuid4().hex}"
        try:
            theirs = self._client.submit(run_page, bare, data, key=key, pure=False, retries=0)
        except BaseException:
            self._release(file_key)
            raise
        with self._lock:
            self._pages[key] = _Page(ours, theirs, started, file_key)
            self._keys[ours] = key
        theirs.add_done_callback(self._settle)
        return ours

    def _input_of(self, task: PageTask) -> tuple[object | None, Any]:
        """The page's input file on the cluster (sent with its first page): its key here,
        and its data's future."""
        source = task.source
        if (
            source.broken is not None
            or (source.path is None and source.data is None)
            or self._sent_as_path(task)
        ):
            return None, None
        file_key: object = source.path if source.path is not None else id(source.data)
        if source.is_pdf and source.path is not None:
            file_key = (source.path, source.frame)  # a PDF's page travels alone
        with self._files_lock:
            known = self._files.get(file_key)
            if known is not None and known.data.status not in ("pending", "finished"):
                known = None  # lost with the worker that held it
            if known is None:
                data = self._read(task)
                known = self._files[file_key] = _File(self._scatter(data))
                self.bytes_sent += len(data)
            known.pages += 1
            return file_key, known.data

    def _read(self, task: PageTask) -> bytes:
        """What a worker needs of the page's input: a PDF's page as a PDF of its own, an
        image file whole (a multi-page TIFF too)."""
        source = task.source
        if source.is_pdf and source.path is not None:
            return one_page_pdf(source.label, source.path, source.frame, task.options.password)
        return source.read()

    def _sent_as_path(self, task: PageTask) -> bool:
        source = task.source
        return self.paths and source.path is not None and not source.scratch and source.data is None

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

    def _release(self, file_key: object | None) -> None:
        if file_key is None:
            return
        with self._files_lock:
            known = self._files.get(file_key)
            if known is not None:
                known.pages -= 1
                if known.pages <= 0:
                    del self._files[file_key]  # no page out needs it: the cluster forgets it

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
        self._release(page.file_key)
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
            return WorkerLost(None, times=self._allowed_failures + 1)
        reason = str(getattr(error, "reason", ""))
        if self._client.status != "running" or "scheduler-connection-lost" in reason:
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
                self._client.cancel([page.theirs], force=True)
            if page.worker is not None:
                # A running page's thread cannot be stopped: its worker is restarted, or it
                # would take no other page until this one ends (if ever).
                threading.Thread(target=self._restart, args=(page.worker,), daemon=True).start()
            self._release(page.file_key)
        finally:
            page.ours.set_exception(WorkerLost(None, reason))

    def _restart(self, worker: str) -> None:
        try:
            self._client.restart_workers([worker])
        except Exception as error:  # a worker without a nanny: it stays busy until the page ends
            log.warning("could not restart worker %s after stopping its page: %s", worker, error)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            pages = list(self._pages.values())
            self._pages.clear()
            self._keys.clear()
        with contextlib.suppress(Exception):
            self._client.cancel([page.theirs for page in pages], force=True)
        for page in pages:
            page.ours.set_exception(WorkerLost(None, StopReason.CLOSED))
        with self._files_lock:
            self._files.clear()
        with contextlib.suppress(Exception):
            self._client.close()


def _on_worker(error: PdfocrError, worker: str) -> PdfocrError:
    """``error`` as it was raised on ``worker``, saying so."""
    message = f"{error.message} (on worker {worker})"
    try:
        return type(error)(message, file=error.file, page=error.page)
    except TypeError:  # an engine's own error class, with a constructor of its own
        return DependencyError(message, file=error.file, page=error.page)


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

"""The connection of a :class:`~.cluster.DaskExecutor` to its cluster's scheduler.

It is made once (its TLS settings checked first), made again before a run when the
scheduler went away and came back (a service's converter outlives a scheduler's restart),
and says what the cluster has: its workers' threads (counted again as workers come and
go), the workers a page may take down before Dask gives up on it, and whether every
worker can run the conversion's engine.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ClusterError, DependencyError, PdfocrError
from ..version import __version__
from .cluster_worker import STARTED_TOPIC, allowed_failures, check_engine

if TYPE_CHECKING:
    from ..engines import OcrEngine

log = logging.getLogger("pdfocr.cluster")

CONNECT_SECONDS = 10.0
WORKERS_SECONDS = 30.0
"""How long a conversion waits for a cluster with no workers to get one."""
CAPACITY_SECONDS = 2.0
"""How often the workers' threads are counted again (Dask's client learns of workers
that come and go as often)."""
SETTLED = ("running", "closing", "closed", "failed")
"""A client's states other than reconnecting."""


class ClusterConnection:
    """A Dask client of the scheduler at ``address``, subscribed to the events workers
    log when they take a page up (``on_started``)."""

    def __init__(self, address: str, on_started: Callable[[Any], None]) -> None:
        self.address = address
        if address.startswith("tls://"):
            _check_tls_settings(address)
        self._on_started = on_started
        self._lock = threading.Lock()
        self.client = self._connect()
        """Dask's client: the one there is now (:meth:`prepare` may make another)."""
        try:
            self._capacity = self._count_threads()
            self._counted = time.monotonic()
            self.allowed_failures = int(self.client.run_on_scheduler(allowed_failures))
            """A page given up on has killed this many workers (Dask's setting, the scheduler's)."""
            self.client.subscribe_topic(STARTED_TOPIC, on_started)
        except BaseException:
            self.client.close()
            raise

    def _connect(self) -> Any:
        from distributed import Client

        try:
            # Dask's Client is not annotated (pyproject's mypy override for Dask's untyped
            # calls names cluster.py and cluster_worker.py, not this module).
            return Client(  # type: ignore[no-untyped-call]
                self.address, timeout=CONNECT_SECONDS, set_as_default=False, direct_to_workers=True
            )
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"cannot reach the cluster's scheduler at {self.address} ({error})") from None

    def _count_threads(self) -> int:
        """The workers' threads: no page waits on a worker (one that waits there is lost
        with the worker if another page brings it down)."""
        if not self.client.nthreads():
            try:
                self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            except TimeoutError:
                raise ClusterError(
                    f"the cluster at {self.address} has no workers (none came in {WORKERS_SECONDS:g} s)"
                ) from None
        workers: dict[str, int] = self.client.nthreads()
        return sum(workers.values())

    @property
    def status(self) -> str:
        """The connection to the scheduler, as Dask's client has it."""
        return str(self.client.status)

    @property
    def capacity(self) -> int:
        """The workers' threads, counted again every few seconds, at least one."""
        now = time.monotonic()
        if now - self._counted > CAPACITY_SECONDS and self.client.status == "running":
            self._counted = now
            with contextlib.suppress(Exception):  # a scheduler gone: the run says so
                self._capacity = max(1, sum(self.client.nthreads().values()))
        return self._capacity

    def prepare(self) -> None:
        """Before each run: a client whose scheduler went away is made again, and the start
        events are subscribed to again (a reconnection forgets them)."""
        # Reconnecting (Dask's own tries, CONNECT_SECONDS long): wait for how they end.
        deadline = time.monotonic() + 2 * CONNECT_SECONDS
        while self.client.status not in SETTLED and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            if self.client.status != "running":
                with contextlib.suppress(Exception):
                    self.client.close()
                self.client = self._connect()
                log.info("connected again to the cluster at %s", self.address)
            self.client.subscribe_topic(STARTED_TOPIC, self._on_started)

    def check_engine(self, engine: OcrEngine, languages: Sequence[str]) -> None:
        """The engine's check on every worker there is now, naming a worker that fails
        it, lacks pdfocr or runs another version of it."""
        try:
            found = self.client.run(check_engine, engine, list(languages), on_error="return")
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

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()


def _on_worker(error: PdfocrError, worker: str) -> PdfocrError:
    """``error`` as it was raised on ``worker``, saying so."""
    message = f"{error.message} (on worker {worker})"
    try:
        return type(error)(message, file=error.file, page=error.page)
    except TypeError:  # an engine's own error class, with a constructor of its own
        return DependencyError(message, file=error.file, page=error.page)


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

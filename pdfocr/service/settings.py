"""The service's settings: one frozen dataclass, checked when it is built."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..index import is_postgres_url
from ..options import MAX_MEGAPIXELS

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServiceSettings:
    """How ``pdfocr serve`` runs. Every limit is enforced before the work it guards."""

    data: Path
    """Where jobs, their files and the job table (SQLite) live; survives restarts."""
    host: str = "127.0.0.1"
    port: int = 8080
    auth: bool = True
    """Bearer tokens required (see ``pdfocr token``); off only on a loopback address."""
    jobs: int | None = None
    """Pages OCRed at once across all jobs (None: one per CPU)."""
    cluster: str | None = None
    """A Dask scheduler's address: the pages run on its workers (``jobs`` is then theirs)."""
    concurrent_jobs: int = 2
    """Jobs converted at once; the others wait in the queue."""
    queue_size: int = 50
    """Jobs that may wait; more are refused with 429 and Retry-After."""
    max_upload_bytes: int = 256 * MIB
    """A job's request body, enforced while it streams in (413)."""
    max_files: int = 200
    max_pages: int = 1000
    """Pages per job, counted before the job is accepted."""
    max_megapixels: float = MAX_MEGAPIXELS
    """A page larger than this is refused as a likely decompression bomb."""
    page_timeout: float = 300.0
    job_deadline: float = 3600.0
    """Seconds a job may run before it is stopped and failed."""
    result_ttl: float = 24 * 3600.0
    """Seconds a finished job and its files are kept."""
    sync_max_bytes: int = 20 * MIB
    """``POST /v1/ocr`` (one image, answered at once): its body, at most."""
    sync_max_megapixels: float = 50.0
    drain_seconds: float = 20.0
    """On SIGTERM, how long running jobs may take to finish before they are re-queued."""
    index: str | None = "index.db"
    """The full-text index every job's pages go to (``GET /v1/search``): an SQLite file
    (a relative path is in ``data``) or a ``postgresql://`` URL; None: no index."""

    def __post_init__(self) -> None:
        if not self.auth and not is_loopback(self.host):
            raise UsageError(f"--no-auth is only allowed on a loopback address, not {self.host}")
        for name in ("concurrent_jobs", "queue_size", "max_upload_bytes", "max_files", "max_pages"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name.replace('_', '-')} must be at least 1")
        for name in ("page_timeout", "job_deadline", "result_ttl", "max_megapixels", "sync_max_megapixels"):
            if not getattr(self, name) > 0:
                raise UsageError(f"{name.replace('_', '-')} must be more than 0")

    @property
    def database(self) -> Path:
        return self.data / "pdfocr.db"

    @property
    def jobs_folder(self) -> Path:
        return self.data / "jobs"

    @property
    def index_target(self) -> str | None:
        """Where the index is: a URL, or the SQLite file's path."""
        if self.index is None or is_postgres_url(self.index):
            return self.index
        return str(self.data / self.index)  # an absolute path stays as it is


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

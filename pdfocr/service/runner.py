"""Running the service's jobs: a queue, a few job loops over one warm
:class:`~pdfocr.Converter`, cancellation, deadlines, and what a restart finds.

A job is converted like any call of the library (``convert_async``): its pages share the
converter's workers with the other jobs'. Its state lives in the :class:`Store`, so that a
service that stops (SIGTERM) or dies puts its running jobs back in the queue and runs them
again when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from ..api import Converter, Progress
from ..errors import PdfocrError
from ..index import IndexStore, open_index, read_pdf
from ..options import ConvertOptions
from .problems import from_error, problem
from .settings import ServiceSettings
from .store import Job, JobState, Store

log = logging.getLogger("pdfocr.service")

RESULT_PDF = "result.pdf"
RESULT_TEXT = "result.txt"
MAX_ATTEMPTS = 3
"""A job interrupted this many times (each time the service stopped or died while it
ran: it may be what kills the service) fails instead of running again."""


class JobRunner:
    """Takes queued jobs, ``settings.concurrent_jobs`` at a time, and converts them."""

    def __init__(self, store: Store, settings: ServiceSettings, converter: Converter) -> None:
        self.store = store
        self.settings = settings
        self.converter = converter
        self.pages_done = 0
        """Pages finished since the service started (for /metrics)."""
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False
        self.index: IndexStore | None = None
        """Where every job's pages go (None: the service keeps no index)."""

    def folder(self, job_id: str) -> Path:
        return self.settings.jobs_folder / job_id

    def indexed_as(self, job_id: str) -> str:
        """The name a job's PDF has in the index."""
        return str((self.folder(job_id) / RESULT_PDF).resolve())

    def job_of(self, output: str) -> str | None:
        """The job whose PDF an index hit names (None: not one of this service's)."""
        job_id = Path(output).parent.name
        return job_id if output == self.indexed_as(job_id) else None

    @property
    def ready(self) -> bool:
        """Taking jobs: started, not stopping, every loop alive."""
        return bool(self._loops) and not self._stopping and not any(loop.done() for loop in self._loops)

    async def start(self) -> None:
        """Open the index, queue the jobs a previous run left queued or running (failing
        those that have been interrupted too often), and start the loops."""
        if self.settings.index_target is not None:
            self.index = await asyncio.to_thread(open_index, self.settings.index_target)
        for job in self.store.in_state(JobState.RUNNING):
            if job.attempts >= MAX_ATTEMPTS:
                found = problem(
                    500,
                    "interrupted-too-often",
                    "The service stopped while the job ran, too often",
                    detail=f"interrupted {job.attempts} times; not run again",
                )
                self.store.finish(job.id, JobState.FAILED, problem=found)
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("re-queued %d jobs interrupted by a stop", requeued, extra={"event": "requeued"})
        for job in self.store.in_state(JobState.QUEUED):
            self._queue.put_nowait(job.id)
        self._loops = [asyncio.create_task(self._loop()) for _ in range(self.settings.concurrent_jobs)]
        self._sweeper = asyncio.create_task(self._sweep())

    def submit(self, job: Job) -> None:
        self._queue.put_nowait(job.id)

    async def cancel(self, job_id: str) -> None:
        """Cancel a job (queued or running) and wait, a few seconds at most, until its
        pages have stopped; its files are then removed."""
        self.store.cancel(job_id)
        task = self._running.get(job_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
        await self.forget(job_id)

    async def stop(self) -> None:
        """Stop taking jobs; let the running ones finish for ``drain_seconds``, then put
        those still running back in the queue (they run again at the next start)."""
        self._stopping = True
        for task in [*self._loops, *([self._sweeper] if self._sweeper else [])]:
            task.cancel()
        running = list(self._running.values())
        if running:
            log.info("draining %d running jobs", len(running), extra={"event": "draining"})
            _, pending = await asyncio.wait(running, timeout=self.settings.drain_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=30)
        if self.index is not None:
            self.index.close()

    async def forget(self, job_id: str) -> None:
        """Remove a job's files and its pages from the index."""
        shutil.rmtree(self.folder(job_id), ignore_errors=True)
        if self.index is not None:
            try:
                await asyncio.to_thread(self.index.remove, self.indexed_as(job_id))
            except PdfocrError:
                log.exception(
                    "could not take a job out of the index", extra={"event": "index-error", "job": job_id}
                )

    async def _loop(self) -> None:
        while True:
            job_id = await self._queue.get()
            if self._stopping:
                return
            try:
                job = self.store.get(job_id)
                if job is None or not self.store.start(job_id):
                    continue  # cancelled or deleted while it waited
            except Exception:  # the database, busy or full: the job waits for a restart
                log.exception("could not start a job", extra={"event": "job-error", "job": job_id})
                continue
            task = asyncio.create_task(self._convert(job))
            self._running[job_id] = task
            # Waiting does not pass this loop's cancellation (a stop) on to the job, which
            # drains; a cancelled job only ends this wait.
            await asyncio.wait({task})
            self._running.pop(job_id, None)
            if not task.cancelled() and task.exception() is not None:
                log.error(
                    "a job's bookkeeping failed: %s",
                    task.exception(),
                    extra={"event": "job-error", "job": job_id},
                )

    async def _convert(self, job: Job) -> None:
        folder = self.folder(job.id)
        inputs = [folder / item.stored for item in job.inputs]
        names = {str(path): item.name for path, item in zip(inputs, job.inputs, strict=True)}
        started = time.monotonic()
        log.info("job started", extra={"event": "job-started", "job": job.id, "pages": job.pages_total})

        def progress(report: Progress) -> None:
            if report.page is not None:
                self.pages_done += 1
            self.store.progress(job.id, report.done, report.total)

        try:
            result = await asyncio.wait_for(
                self.converter.convert_async(
                    inputs,
                    folder / RESULT_PDF,
                    self.options_for(job),
                    sidecar=folder / RESULT_TEXT,
                    progress=progress,
                ),
                timeout=self.settings.job_deadline,
            )
        except TimeoutError:
            found = problem(
                422,
                "deadline",
                "The job took too long",
                detail=f"stopped after {self.settings.job_deadline:g} s (the service's job deadline)",
            )
            self.store.finish(job.id, JobState.FAILED, problem=found)
            log.info("job failed: deadline", extra={"event": "job-failed", "job": job.id})
        except asyncio.CancelledError:
            if self._stopping and self.store.get(job.id) is not None:
                self.store.requeue(job.id)
                log.info("job re-queued", extra={"event": "job-requeued", "job": job.id})
            raise
        except PdfocrError as error:
            self.store.finish(job.id, JobState.FAILED, problem=from_error(error, names))
            log.info("job failed", extra={"event": "job-failed", "job": job.id, "error": str(error)})
        except Exception as error:  # a bug: the job fails, the service goes on
            log.exception("job failed with an internal error", extra={"event": "job-error", "job": job.id})
            found = problem(500, "internal", "Internal error", detail=type(error).__name__)
            self.store.finish(job.id, JobState.FAILED, problem=found)
        else:
            # Indexed before it is said to have succeeded: once it has, a search finds it.
            await self._index(job)
            page_errors = [from_error(skipped.error, names) for skipped in result.skipped]
            self.store.finish(
                job.id, JobState.SUCCEEDED, page_errors=page_errors, output_type=result.output_type
            )
            log.info(
                "job succeeded",
                extra={
                    "event": "job-succeeded",
                    "job": job.id,
                    "pages": result.page_count,
                    "seconds": round(time.monotonic() - started, 3),
                },
            )

    async def _index(self, job: Job) -> None:
        """Add a job's pages to the index, its owner's; a failure is logged, and the job
        still succeeds (its PDF is whole)."""
        index = self.index
        if index is None:
            return
        sources = tuple(item.name for item in job.inputs)
        pdf = self.folder(job.id) / RESULT_PDF

        def add() -> None:
            index.add(read_pdf(pdf, sources, owner=job.owner))
            # Cancelled or deleted while it was indexed (this thread goes on though its
            # job's task is cancelled): taken out again. A cancel from now on finds the
            # pages there and takes them out itself.
            now = self.store.get(job.id)
            if now is None or now.state is JobState.CANCELLED:
                index.remove(self.indexed_as(job.id))

        try:
            await asyncio.to_thread(add)
        except Exception:
            log.exception("could not index a job", extra={"event": "index-error", "job": job.id})

    def options_for(self, job: Job) -> ConvertOptions:
        """The job's options, with the service's limits."""
        chosen: dict[str, Any] = dict(job.options)
        return ConvertOptions(
            **chosen,
            page_timeout=self.settings.page_timeout,
            max_megapixels=self.settings.max_megapixels,
        )

    async def _sweep(self) -> None:
        """Remove finished jobs (and their files) once they are older than the TTL, and
        folders no job owns (an upload the service died while checking)."""
        while True:
            try:
                for job_id in self.store.expired(time.time() - self.settings.result_ttl):
                    await self.forget(job_id)
                    self.store.delete(job_id)
                    log.info("job expired", extra={"event": "job-expired", "job": job_id})
                self._remove_orphans()
            except Exception:
                log.exception("sweeping failed", extra={"event": "sweep-error"})
            await asyncio.sleep(min(60.0, self.settings.result_ttl / 4))

    def _remove_orphans(self, older_than: float = 600.0) -> None:
        """Job folders with no job, untouched for ``older_than`` seconds (younger ones may
        be uploads being checked)."""
        if not self.settings.jobs_folder.is_dir():
            return
        for folder in self.settings.jobs_folder.iterdir():
            try:
                stale = time.time() - folder.stat().st_mtime > older_than
            except OSError:
                continue
            if stale and self.store.get(folder.name) is None:
                shutil.rmtree(folder, ignore_errors=True)

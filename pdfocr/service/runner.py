"""Running the service's jobs: a queue, a few job loops over one warm
:class:`~pdfocr.Converter`, cancellation, deadlines, and what a restart finds.

A job is converted like any call of the library (``convert_async``): its pages share the
converter's workers with the other jobs'. Its state lives in the :class:`Store`, so that a
service that stops (SIGTERM) or dies puts its running jobs back in the queue and runs them
again when it starts. Its pages go to the index (:mod:`~pdfocr.service.jobindex`); what has
expired is swept away (:mod:`~pdfocr.service.expiry`).
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
from ..options import ConvertOptions
from .expiry import sweep
from .jobindex import JobIndex
from .problems import from_error, problem
from .settings import ServiceSettings
from .store import Job, JobState, Store
from .wordresults import write_word_results

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
        self.index: JobIndex | None = None
        """Where every job's pages go (None: the service keeps no index)."""

    def folder(self, job_id: str) -> Path:
        return self.settings.jobs_folder / job_id

    @property
    def ready(self) -> bool:
        """Taking jobs: started, not stopping, every loop alive."""
        return bool(self._loops) and not self._stopping and not any(loop.done() for loop in self._loops)

    async def start(self) -> None:
        """Open the index, queue the jobs a previous run left queued or running (failing
        those that have been interrupted too often), and start the loops."""
        self.index = await JobIndex.open(
            self.settings, self.store, lambda job_id: self.folder(job_id) / RESULT_PDF
        )
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
        self._sweeper = asyncio.create_task(sweep(self.store, self.settings, self.forget))

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
            await self.index.remove(job_id)

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
            await asyncio.to_thread(write_word_results, folder, result)
            # Indexed before it is said to have succeeded: once it has, a search finds it.
            if self.index is not None:
                await self.index.add(job, result)
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

    def options_for(self, job: Job) -> ConvertOptions:
        """The job's options, with the service's limits."""
        chosen: dict[str, Any] = dict(job.options)
        return ConvertOptions(
            **chosen,
            page_timeout=self.settings.page_timeout,
            max_megapixels=self.settings.max_megapixels,
        )

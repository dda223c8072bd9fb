"""The service's life: what starts with it and is shared by every request while it runs
(:class:`Running`: the job table, the runner over one warm converter, the limits'
counters), and how it stops."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from fastapi import FastAPI

from ..api import Converter
from ..options import ConvertOptions
from .admission import Admission
from .metrics import Metrics
from .runner import JobRunner
from .settings import ServiceSettings
from .store import Store

log = logging.getLogger("pdfocr.service")


@dataclass(frozen=True)
class Running:
    """What the requests share, made at startup (``app.state.running``)."""

    store: Store
    runner: JobRunner
    metrics: Metrics
    admission: Admission
    ocr_slots: asyncio.Semaphore
    """One-image requests at once: as many as pages run at once; more wait as 429s."""
    preview_slots: asyncio.Semaphore
    """Pages rendered for the page at once (PDFium takes one at a time anyway)."""


def lifespan(
    settings: ServiceSettings, converter: Converter | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: ``converter`` (None: one made here with ``settings.jobs``
    workers, and closed at shutdown) is shared by every job."""

    @contextlib.asynccontextmanager
    async def running(app: FastAPI) -> AsyncIterator[None]:
        settings.jobs_folder.mkdir(parents=True, exist_ok=True)
        store = Store(settings.database)
        shared = converter or Converter(ConvertOptions(jobs=settings.jobs, cluster=settings.cluster))
        runner = JobRunner(store, settings, shared)
        app.state.running = Running(
            store=store,
            runner=runner,
            metrics=Metrics(store, runner),
            admission=Admission(store, settings.queue_size),
            ocr_slots=asyncio.Semaphore(shared.jobs),
            preview_slots=asyncio.Semaphore(2),
        )
        await runner.start()
        log.info(
            "serving",
            extra={"event": "started", "host": settings.host, "port": settings.port, "auth": settings.auth},
        )
        try:
            yield
        finally:
            await runner.stop()
            if converter is None:
                await shared.aclose(kill=True)
            store.close()
            log.info("stopped", extra={"event": "stopped"})

    return running

"""Expiry: finished jobs (and their files) removed once they are older than the results'
time to live, and job folders no job owns (an upload the service died while checking)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from .settings import ServiceSettings
from .store import Store

log = logging.getLogger("pdfocr.service")

ORPHANS_AFTER = 600.0
"""Seconds a folder with no job is left alone: a younger one may be an upload being checked."""


async def sweep(store: Store, settings: ServiceSettings, forget: Callable[[str], Awaitable[None]]) -> None:
    """Forever: remove what has expired (``forget`` removes a job's files and pages), then
    wait a while (a quarter of the TTL, a minute at most)."""
    while True:
        try:
            for job_id in store.expired(time.time() - settings.result_ttl):
                await forget(job_id)
                store.delete(job_id)
                log.info("job expired", extra={"event": "job-expired", "job": job_id})
            remove_orphans(store, settings.jobs_folder)
        except Exception:
            log.exception("sweeping failed", extra={"event": "sweep-error"})
        await asyncio.sleep(min(60.0, settings.result_ttl / 4))


def remove_orphans(store: Store, jobs_folder: Path, older_than: float = ORPHANS_AFTER) -> None:
    """Job folders with no job, untouched for ``older_than`` seconds."""
    if not jobs_folder.is_dir():
        return
    for folder in jobs_folder.iterdir():
        try:
            stale = time.time() - folder.stat().st_mtime > older_than
        except OSError:
            continue
        if stale and store.get(folder.name) is None:
            shutil.rmtree(folder, ignore_errors=True)

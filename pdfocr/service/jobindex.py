"""The service's jobs in the full-text index: each job's PDF indexed under one name (its
path), as its owner's; added before the job is said to have succeeded, taken out with it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ..conversion import Result
from ..errors import PdfocrError
from ..index import Hit, IndexStore, document_of, open_index, read_pdf
from .settings import ServiceSettings
from .store import Job, JobState, Store

log = logging.getLogger("pdfocr.service")


class JobIndex:
    """The index every job's pages go to; ``pdf_of`` says where a job's PDF is (a file
    named in the job's own folder, which is named after the job)."""

    def __init__(self, index: IndexStore, store: Store, pdf_of: Callable[[str], Path]) -> None:
        self._index = index
        self._store = store
        self._pdf_of = pdf_of

    @classmethod
    async def open(
        cls, settings: ServiceSettings, store: Store, pdf_of: Callable[[str], Path]
    ) -> JobIndex | None:
        """The service's index (None: it keeps none)."""
        if settings.index_target is None:
            return None
        return cls(await asyncio.to_thread(open_index, settings.index_target), store, pdf_of)

    def indexed_as(self, job_id: str) -> str:
        """The name a job's PDF has in the index."""
        return str(self._pdf_of(job_id).resolve())

    def job_of(self, output: str) -> str | None:
        """The job whose PDF an index hit names (None: not one of this service's)."""
        job_id = Path(output).parent.name
        return job_id if output == self.indexed_as(job_id) else None

    def search(self, text: str, limit: int, owner: str) -> list[Hit]:
        """The owner's pages that hold ``text`` (blocks: run it in a thread)."""
        return self._index.search(text, limit, owner)

    async def add(self, job: Job, result: Result | None = None) -> None:
        """Add a job's pages to the index, its owner's (from ``result``'s own words, or
        read back from its PDF); a failure is logged, and the job still succeeds (its PDF
        is whole)."""
        index = self._index
        sources = tuple(item.name for item in job.inputs)
        pdf = self._pdf_of(job.id)

        def add() -> None:
            found = document_of(result, pdf, sources, job.owner) if result is not None else None
            index.add(found or read_pdf(pdf, sources, owner=job.owner))
            # Cancelled or deleted while it was indexed (this thread goes on though its
            # job's task is cancelled): taken out again. A cancel from now on finds the
            # pages there and takes them out itself.
            now = self._store.get(job.id)
            if now is None or now.state is JobState.CANCELLED:
                index.remove(self.indexed_as(job.id))

        try:
            await asyncio.to_thread(add)
        except Exception:
            log.exception("could not index a job", extra={"event": "index-error", "job": job.id})

    async def remove(self, job_id: str) -> None:
        """Take a job's pages out of the index; a failure is logged."""
        try:
            await asyncio.to_thread(self._index.remove, self.indexed_as(job_id))
        except PdfocrError:
            log.exception(
                "could not take a job out of the index", extra={"event": "index-error", "job": job_id}
            )

    def close(self) -> None:
        self._index.close()

"""Places in the job queue: whether one more job may wait (429 when the queue is full),
counting the uploads still being checked, which hold a place meanwhile."""

import contextlib
from collections.abc import Iterator

from .problems import Problem, problem
from .store import JobState, Store

RETRY_AFTER_SECONDS = 30


class Admission:
    """The queue's ``size`` places, shared by the queued jobs and the uploads being checked."""

    def __init__(self, store: Store, size: int) -> None:
        self._store = store
        self._size = size
        self._reserved = 0

    def refusal(self) -> Problem | None:
        """429, when the jobs waiting (and those being checked) fill the queue."""
        waiting = self._store.count_by_state()[JobState.QUEUED] + self._reserved
        if waiting < self._size:
            return None
        return Problem(
            problem(429, "queue-full", "Too many jobs are waiting", detail=f"{waiting} jobs queued"),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A place in the queue, held while a job is checked (it is queued, or not, after)."""
        self._reserved += 1
        try:
            yield
        finally:
            self._reserved -= 1

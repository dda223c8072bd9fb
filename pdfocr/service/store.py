"""The job table and the API tokens, in one SQLite file under the service's data folder.

Each call is one short transaction; WAL mode lets readers (status polls) go on while a
job's progress is written. A job's files live in ``jobs/<id>/`` beside the database,
under names the service makes: ``input-001`` and so on, ``result.pdf``, ``result.txt``.
"""

from __future__ import annotations

import enum
import fcntl
import hashlib
import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    finished REAL,
    pages_total INTEGER NOT NULL DEFAULT 0,
    pages_done INTEGER NOT NULL DEFAULT 0,
    options TEXT NOT NULL,
    inputs TEXT NOT NULL,
    problem TEXT,
    page_errors TEXT NOT NULL DEFAULT '[]',
    output_type TEXT,
    idempotency_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created);
"""


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class StoredInput:
    stored: str
    """The file's name in the job's folder (made by the service)."""
    name: str
    """What the client called it: shown in messages, never used as a path."""


@dataclass(frozen=True)
class Job:
    id: str
    owner: str
    state: JobState
    created: float
    updated: float
    finished: float | None
    pages_total: int
    pages_done: int
    options: dict[str, Any]
    inputs: tuple[StoredInput, ...]
    problem: dict[str, Any] | None
    page_errors: tuple[dict[str, Any], ...] = field(default=())
    output_type: str | None = None
    idempotency_key: str | None = None
    attempts: int = 0


def hash_token(token: str) -> str:
    """Tokens are stored as their SHA-256: they are long random strings, so a fast hash
    is enough to keep a stolen database from giving them away."""
    return hashlib.sha256(token.encode()).hexdigest()


class DataFolderInUse(Exception):
    """Another service runs on this data folder."""


@contextmanager
def exclusive(data: Path) -> Iterator[None]:
    """Hold the data folder for one service: a second one on the same folder would take
    the first one's running jobs for interrupted ones and run them again."""
    data.mkdir(parents=True, exist_ok=True)
    with open(data / ".lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataFolderInUse(f"another pdfocr serve is using {data}") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Store:
    """The job table and the tokens of one data folder."""

    def __init__(self, database: Path) -> None:
        database.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA busy_timeout=5000")
        self._connection.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    # -- tokens ------------------------------------------------------------------

    def create_token(self, name: str) -> str:
        """A new token (shown once; only its hash is kept)."""
        token = "pdfocr_" + secrets.token_urlsafe(32)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO tokens (hash, name, created) VALUES (?, ?, ?)",
                (hash_token(token), name, time.time()),
            )
        return token

    def token_owner(self, token: str) -> str | None:
        """The owner id (the token's hash) of a known token, None for any other."""
        digest = hash_token(token)
        with self._lock:
            row = self._connection.execute("SELECT hash FROM tokens WHERE hash = ?", (digest,)).fetchone()
        return str(row["hash"]) if row is not None else None

    def revoke_token(self, name: str) -> int:
        with self._transaction() as db:
            return db.execute("DELETE FROM tokens WHERE name = ?", (name,)).rowcount

    def token_names(self) -> list[str]:
        with self._lock:
            return [
                row["name"] for row in self._connection.execute("SELECT name FROM tokens ORDER BY created")
            ]

    # -- jobs --------------------------------------------------------------------

    def create_job(
        self,
        owner: str,
        options: dict[str, Any],
        inputs: list[StoredInput],
        pages_total: int,
        idempotency_key: str | None,
        job_id: str | None = None,
    ) -> Job:
        now = time.time()
        job_id = job_id or uuid.uuid4().hex
        with self._transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, owner, state, created, updated, pages_total, options, inputs,"
                " idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    owner,
                    JobState.QUEUED.value,
                    now,
                    now,
                    pages_total,
                    json.dumps(options),
                    json.dumps([vars(item) for item in inputs]),
                    idempotency_key,
                ),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def by_idempotency_key(self, owner: str, key: str) -> Job | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?", (owner, key)
            ).fetchone()
        return _job(row) if row is not None else None

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job, if it exists (and belongs to ``owner``, when given)."""
        with self._lock:
            row = self._connection.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            return None
        return _job(row)

    def in_state(self, state: JobState) -> list[Job]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT * FROM jobs WHERE state = ? ORDER BY created", (state.value,)
            ).fetchall()
        return [_job(row) for row in rows]

    def count_by_state(self) -> dict[JobState, int]:
        with self._lock:
            rows = self._connection.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").fetchall()
        counts = dict.fromkeys(JobState, 0)
        counts.update({JobState(row["state"]): row["n"] for row in rows})
        return counts

    def start(self, job_id: str) -> bool:
        """Mark a queued job running; False if it is no longer queued (cancelled)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE jobs SET state = ?, updated = ?, attempts = attempts + 1, pages_done = 0"
                " WHERE id = ? AND state = ?",
                (JobState.RUNNING.value, time.time(), job_id, JobState.QUEUED.value),
            ).rowcount
        return changed == 1

    def progress(self, job_id: str, done: int, total: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET pages_done = ?, pages_total = ?, updated = ? WHERE id = ? AND state = ?",
                (done, total, time.time(), job_id, JobState.RUNNING.value),
            )

    def finish(
        self,
        job_id: str,
        state: JobState,
        *,
        problem: dict[str, Any] | None = None,
        page_errors: list[dict[str, Any]] | None = None,
        output_type: str | None = None,
    ) -> None:
        """Record how a job ended (never overwriting a cancellation)."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, updated = ?, finished = ?, problem = ?, page_errors = ?,"
                " output_type = ? WHERE id = ? AND state != ?",
                (
                    state.value,
                    now,
                    now,
                    json.dumps(problem) if problem is not None else None,
                    json.dumps(page_errors or []),
                    output_type,
                    job_id,
                    JobState.CANCELLED.value,
                ),
            )

    def requeue(self, job_id: str) -> None:
        """A running job goes back to the queue (the service is stopping)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, updated = ?, pages_done = 0 WHERE id = ? AND state = ?",
                (JobState.QUEUED.value, time.time(), job_id, JobState.RUNNING.value),
            )

    def requeue_interrupted(self) -> int:
        """Jobs left running by a service that died go back to the queue."""
        with self._transaction() as db:
            return db.execute(
                "UPDATE jobs SET state = ?, updated = ?, pages_done = 0 WHERE state = ?",
                (JobState.QUEUED.value, time.time(), JobState.RUNNING.value),
            ).rowcount

    def cancel(self, job_id: str) -> bool:
        """Mark a job cancelled, unless it has finished; True if it was cancelled now."""
        now = time.time()
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE jobs SET state = ?, updated = ?, finished = ? WHERE id = ? AND state IN (?, ?)",
                (JobState.CANCELLED.value, now, now, job_id, JobState.QUEUED.value, JobState.RUNNING.value),
            ).rowcount
        return changed == 1

    def delete(self, job_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def expired(self, before: float) -> list[str]:
        """Finished jobs that ended before ``before``."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT id FROM jobs WHERE finished IS NOT NULL AND finished < ?", (before,)
            ).fetchall()
        return [row["id"] for row in rows]


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        owner=row["owner"],
        state=JobState(row["state"]),
        created=row["created"],
        updated=row["updated"],
        finished=row["finished"],
        pages_total=row["pages_total"],
        pages_done=row["pages_done"],
        options=json.loads(row["options"]),
        inputs=tuple(StoredInput(**item) for item in json.loads(row["inputs"])),
        problem=json.loads(row["problem"]) if row["problem"] else None,
        page_errors=tuple(json.loads(row["page_errors"])),
        output_type=row["output_type"],
        idempotency_key=row["idempotency_key"],
        attempts=row["attempts"],
    )

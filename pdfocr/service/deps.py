"""The routes' dependencies: what a route is given (the settings, the job table, the
runner, the limits, the caller's identity), read from the app's state, and the caller's
jobs as a route may see them.

Each is declared as an ``Annotated`` type, so a route says ``who: Owner`` or
``store: StoreDep``. None of them adds a parameter to the OpenAPI schema but ``Owner``
(its bearer token).
"""

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from .admission import Admission
from .auth import bearer, identify
from .lifespan import Running
from .metrics import Metrics
from .problems import Problem, problem
from .runner import JobRunner
from .settings import ServiceSettings
from .store import Job, JobState, Store


def settings_of(request: Request) -> ServiceSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def running_of(request: Request) -> Running:
    return request.app.state.running  # type: ignore[no-any-return]


def store_of(request: Request) -> Store:
    return running_of(request).store


def runner_of(request: Request) -> JobRunner:
    return running_of(request).runner


def admission_of(request: Request) -> Admission:
    return running_of(request).admission


def metrics_of(request: Request) -> Metrics:
    return running_of(request).metrics


def ocr_slots_of(request: Request) -> asyncio.Semaphore:
    return running_of(request).ocr_slots


def preview_slots_of(request: Request) -> asyncio.Semaphore:
    return running_of(request).preview_slots


async def owner(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """Who is asking (see :func:`~pdfocr.service.auth.identify`)."""
    token = credentials.credentials if credentials is not None else None
    return await identify(token, settings_of(request), store_of(request))


SettingsDep = Annotated[ServiceSettings, Depends(settings_of)]
StoreDep = Annotated[Store, Depends(store_of)]
RunnerDep = Annotated[JobRunner, Depends(runner_of)]
AdmissionDep = Annotated[Admission, Depends(admission_of)]
MetricsDep = Annotated[Metrics, Depends(metrics_of)]
OcrSlots = Annotated[asyncio.Semaphore, Depends(ocr_slots_of)]
PreviewSlots = Annotated[asyncio.Semaphore, Depends(preview_slots_of)]
Owner = Annotated[str, Depends(owner)]


def owned(store: Store, job_id: str, who: str) -> Job:
    """The caller's job ``job_id``; 404 when there is none (or it is someone else's)."""
    job = store.get(job_id, who)
    if job is None:
        raise Problem(problem(404, "not-found", "No such job", detail=f"no job {job_id} for this token"))
    return job


def finished(job: Job) -> Job:
    """``job``, if it succeeded; 409 otherwise (it has no result)."""
    if job.state is not JobState.SUCCEEDED:
        raise Problem(
            problem(409, "not-ready", "The job has no result", detail=f"the job is {job.state.value}")
        )
    return job


def result_file(runner: JobRunner, job: Job, name: str) -> Path:
    """A file of the job's results; 404 when it has gone."""
    path = runner.folder(job.id) / name
    if not path.is_file():  # removed a moment ago (a DELETE, expiry)
        raise Problem(problem(404, "not-found", "No such job", detail=f"no job {job.id} for this token"))
    return path

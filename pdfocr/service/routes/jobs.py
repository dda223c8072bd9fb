"""The jobs: submit scans to convert (``POST /v1/jobs``), a job's state, cancelling one.

Submitting is where the limits bite, each before the work it guards: the queue's places,
the number of files, then (the upload stored under names of the service's own) the pages,
counted by the library (:meth:`pdfocr.Converter.check`) before the job is accepted.
"""

import asyncio
import functools
import logging
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from ...errors import PdfocrError
from ...options import ConvertOptions
from ..deps import AdmissionDep, Owner, RunnerDep, SettingsDep, StoreDep, owned
from ..models import JobLinks, JobOptions, JobStatus, PageCount
from ..problems import PROBLEM_RESPONSES, Problem, from_error, problem
from ..runner import JobRunner
from ..settings import ServiceSettings
from ..store import Job
from ..uploads import save

log = logging.getLogger("pdfocr.service")

router = APIRouter()


@router.post(
    "/v1/jobs",
    status_code=202,
    response_model=JobStatus,
    responses={
        202: {
            "description": "Accepted: the job is queued (its URL in Location)",
            "links": {
                name: {"operationId": operation, "parameters": {"path.job_id": "$response.body#/id"}}
                for name, operation in [
                    ("GetJob", "get_job"),
                    ("GetJobPdf", "get_job_pdf"),
                    ("GetJobText", "get_job_text"),
                    ("DeleteJob", "delete_job"),
                ]
            },
        },
        200: {"description": "A job made earlier with this Idempotency-Key"},
        **PROBLEM_RESPONSES,
    },
    summary="Submit scans to convert into one searchable PDF",
    operation_id="submit_job",
)
async def submit(
    request: Request,
    who: Owner,
    files: Annotated[
        list[UploadFile], File(description="Images, PDFs, multi-page TIFFs: one document", min_length=1)
    ],
    options: Annotated[JobOptions, Form()],
    store: StoreDep,
    runner: RunnerDep,
    settings: SettingsDep,
    admission: AdmissionDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    unknown = sorted(set((await request.form()).keys()) - set(JobOptions.model_fields) - {"files"})
    if unknown:
        raise Problem(
            problem(422, "invalid-request", "Unknown fields", detail=f"not an option: {', '.join(unknown)}")
        )
    if idempotency_key:
        earlier = store.by_idempotency_key(who, idempotency_key)
        if earlier is not None:
            return _replayed(earlier)
    queue_full = admission.refusal()
    if queue_full is not None:
        raise queue_full
    if not files:
        raise Problem(problem(422, "no-files", "No files were sent"))
    if len(files) > settings.max_files:
        raise Problem(
            problem(413, "too-many-files", "Too many files", detail=f"at most {settings.max_files} per job")
        )
    job_id = uuid.uuid4().hex
    folder = runner.folder(job_id)
    with admission.held():
        try:
            stored = await asyncio.to_thread(save, files, folder)
            names = {str(folder / item.stored): item.name for item in stored}
            inputs = [folder / item.stored for item in stored]
            pages = await _counted_pages(runner, settings, inputs, options, names)
            try:
                job = store.create_job(
                    who, options.model_dump(exclude_none=True), stored, pages, idempotency_key, job_id=job_id
                )
            except sqlite3.IntegrityError:  # the same key, sent again while this one was checked
                earlier = store.by_idempotency_key(who, idempotency_key or "")
                if earlier is None:
                    raise
                shutil.rmtree(folder, ignore_errors=True)
                return _replayed(earlier)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    runner.submit(job)
    log.info("job accepted", extra={"event": "job-accepted", "job": job.id, "pages": pages})
    body = _status(job).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": body["links"]["self"]})


@router.get(
    "/v1/jobs/{job_id}",
    response_model=JobStatus,
    responses=PROBLEM_RESPONSES,
    summary="A job's state",
    operation_id="get_job",
)
async def status(job_id: str, who: Owner, store: StoreDep) -> JobStatus:
    return _status(owned(store, job_id, who))


@router.delete(
    "/v1/jobs/{job_id}",
    status_code=204,
    responses=PROBLEM_RESPONSES,
    summary="Cancel a job (its pages stop) and remove its files",
    operation_id="delete_job",
)
async def remove(job_id: str, who: Owner, store: StoreDep, runner: RunnerDep) -> Response:
    job = owned(store, job_id, who)
    await runner.cancel(job.id)
    if job.state.finished:  # nothing left to show: the job goes entirely
        store.delete(job.id)
    return Response(status_code=204)


async def _counted_pages(
    runner: JobRunner,
    settings: ServiceSettings,
    inputs: list[Path],
    options: JobOptions,
    names: dict[str, str],
) -> int:
    """The job's pages, as the library counts them (stopping past the limit); 422 for
    options or inputs that cannot be used, and for more pages than a job may have."""
    chosen = _convert_options(options, settings)
    try:
        pages = await asyncio.to_thread(
            functools.partial(runner.converter.check, inputs, chosen, most=settings.max_pages)
        )
    except PdfocrError as error:
        raise Problem(from_error(error, names)) from None
    if pages > settings.max_pages:
        raise Problem(
            problem(
                422,
                "too-many-pages",
                "Too many pages",
                detail=f"more than {settings.max_pages} pages (at most {settings.max_pages} per job)",
            )
        )
    return pages


def _replayed(job: Job) -> JSONResponse:
    """The answer to a retry with the same Idempotency-Key: the job the first one made."""
    body = _status(job).model_dump(mode="json")
    return JSONResponse(body, status_code=200, headers={"Location": body["links"]["self"]})


def _status(job: Job) -> JobStatus:
    base = f"/v1/jobs/{job.id}"
    return JobStatus(
        id=job.id,
        state=job.state,
        created=job.created,
        updated=job.updated,
        finished=job.finished,
        pages=PageCount(done=job.pages_done, total=job.pages_total),
        output_type=job.output_type,
        problem=job.problem,
        page_errors=list(job.page_errors),
        links=JobLinks(self=base, pdf=f"{base}/pdf", text=f"{base}/text"),
    )


def _convert_options(options: JobOptions, settings: ServiceSettings) -> ConvertOptions:
    try:
        return ConvertOptions(
            **options.model_dump(exclude_none=True),
            page_timeout=settings.page_timeout,
            max_megapixels=settings.max_megapixels,
        )
    except PdfocrError as error:
        raise Problem(from_error(error, {})) from None

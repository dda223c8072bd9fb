"""A job's results, once it has succeeded: its searchable PDF and its text."""

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

from ..deps import Owner, RunnerDep, StoreDep, finished, owned, result_file
from ..problems import PROBLEM_RESPONSES
from ..runner import RESULT_PDF, RESULT_TEXT

router = APIRouter()


@router.get(
    "/v1/jobs/{job_id}/pdf",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/pdf": {}}},
        409: PROBLEM_RESPONSES[422],
        **PROBLEM_RESPONSES,
    },
    summary="The searchable PDF of a job that succeeded",
    operation_id="get_job_pdf",
)
async def result_pdf(job_id: str, who: Owner, store: StoreDep, runner: RunnerDep) -> Response:
    job = finished(owned(store, job_id, who))
    return FileResponse(
        result_file(runner, job, RESULT_PDF), media_type="application/pdf", filename=f"{job.id}.pdf"
    )


@router.get(
    "/v1/jobs/{job_id}/text",
    response_class=PlainTextResponse,
    responses={409: PROBLEM_RESPONSES[422], **PROBLEM_RESPONSES},
    summary="The text of a job that succeeded, pages separated by form feeds",
    operation_id="get_job_text",
)
async def result_text(job_id: str, who: Owner, store: StoreDep, runner: RunnerDep) -> Response:
    job = finished(owned(store, job_id, who))
    return FileResponse(result_file(runner, job, RESULT_TEXT), media_type="text/plain; charset=utf-8")

"""A job's results, once it has succeeded: its searchable PDF, its text and its words."""

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

from ..deps import Owner, RunnerDep, StoreDep, finished, owned, result_file
from ..problems import PROBLEM_RESPONSES
from ..runner import RESULT_PDF, RESULT_TEXT
from ..wordresults import MEDIA_TYPES, RESULT_ALTO, RESULT_HOCR, RESULT_PAGE_XML, RESULT_WORDS

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


def _word_route(path: str, name: str, summary: str, operation: str) -> None:
    media_type = MEDIA_TYPES[name]

    async def word_result(job_id: str, who: Owner, store: StoreDep, runner: RunnerDep) -> Response:
        job = finished(owned(store, job_id, who))
        return FileResponse(result_file(runner, job, name), media_type=media_type)

    router.add_api_route(
        f"/v1/jobs/{{job_id}}/{path}",
        word_result,
        methods=["GET"],
        response_class=FileResponse,
        responses={200: {"content": {media_type: {}}}, 409: PROBLEM_RESPONSES[422], **PROBLEM_RESPONSES},
        summary=summary,
        operation_id=operation,
    )


_word_route("hocr", RESULT_HOCR, "Every word of a job that succeeded, as hOCR", "get_job_hocr")
_word_route("alto", RESULT_ALTO, "Every word of a job that succeeded, as ALTO v4", "get_job_alto")
_word_route(
    "page-xml", RESULT_PAGE_XML, "Every word of a job that succeeded, as PAGE XML (a ZIP, a file a page)",
    "get_job_page_xml",
)  # fmt: skip
_word_route("words", RESULT_WORDS, "Every word of a job that succeeded, as JSON lines", "get_job_words")

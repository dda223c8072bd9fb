"""The full-text index over the caller's jobs (``GET /v1/search``), and a page of a job's
PDF as an image, to show a hit."""

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from ...errors import InputError, PdfocrError, UsageError
from ...pdfpages import page_preview
from ..deps import Owner, PreviewSlots, RunnerDep, StoreDep, finished, owned, result_file
from ..models import SearchHit, SearchResults
from ..problems import PROBLEM_RESPONSES, Problem, problem
from ..runner import RESULT_PDF

log = logging.getLogger("pdfocr.service")

MAX_PREVIEW_WIDTH = 2000

router = APIRouter()


@router.get(
    "/v1/search",
    response_model=SearchResults,
    responses=PROBLEM_RESPONSES,
    summary="Pages of the caller's jobs that hold the query (the syntax of pdfocr search)",
    operation_id="search",
)
async def search(
    who: Owner,
    q: Annotated[str, Query(min_length=1, max_length=500, description="What to find")],
    runner: RunnerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResults:
    index = runner.index
    if index is None:
        raise Problem(
            problem(404, "no-index", "This service keeps no index", detail="started with --no-index")
        )
    try:
        found = await asyncio.to_thread(index.search, q, limit, who)
    except UsageError as error:  # the query itself (too many terms)
        raise Problem(problem(422, "bad-query", "The query cannot be run", detail=str(error))) from None
    except PdfocrError as error:  # the index's server down, say: logged, not shown
        log.error("search failed: %s", error, extra={"event": "search-error"})
        raise Problem(
            problem(503, "index-unavailable", "The index cannot be searched now"), {"Retry-After": "30"}
        ) from None
    hits = []
    for hit in found:
        job_id = index.job_of(hit.output)
        if job_id is None:  # a shared index: pages this service did not write
            continue
        base = f"/v1/jobs/{job_id}"
        hits.append(
            SearchHit(
                job=job_id,
                page=hit.page,
                score=hit.score,
                snippet=hit.snippet,
                boxes=[list(box) for box in hit.boxes],
                page_size=list(hit.size),
                sources=list(hit.sources),
                links={"job": base, "pdf": f"{base}/pdf", "image": f"{base}/pages/{hit.page}/image"},
            )
        )
    return SearchResults(query=q, hits=hits)


@router.get(
    "/v1/jobs/{job_id}/pages/{page}/image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 409: PROBLEM_RESPONSES[422], **PROBLEM_RESPONSES},
    summary="A page of a job's PDF as a PNG image (to show a search hit)",
    operation_id="get_page_image",
)
async def page_image(
    job_id: str,
    page: Annotated[int, Path(ge=1, le=100_000)],
    who: Owner,
    store: StoreDep,
    runner: RunnerDep,
    slots: PreviewSlots,
    width: Annotated[int, Query(ge=100, le=MAX_PREVIEW_WIDTH)] = 1000,
) -> Response:
    job = finished(owned(store, job_id, who))
    pdf = result_file(runner, job, RESULT_PDF)
    async with slots:
        try:
            image = await asyncio.to_thread(page_preview, str(pdf), page, width)
        except InputError as error:
            raise Problem(problem(404, "no-page", "The page cannot be shown", detail=error.message)) from None
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

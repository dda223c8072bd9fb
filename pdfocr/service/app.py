"""The HTTP face of pdfocr: ``create_app(settings)`` builds the FastAPI application.

Routes are thin: they check who is asking and what is allowed, store the upload under
names of the service's own, ask the library (:meth:`pdfocr.Converter.check`) whether the
job can run, and hand it to the :class:`~pdfocr.service.runner.JobRunner`. Every error is
a problem detail (RFC 9457); no traceback ever reaches a client.
"""

import asyncio
import contextlib
import functools
import logging
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api import Converter
from ..errors import InputError, PdfocrError, UsageError
from ..options import OUTPUT_TYPES, ConvertOptions
from ..pdfpages import page_preview
from . import metrics
from .problems import MEDIA_TYPE, from_error, problem, response
from .runner import RESULT_PDF, RESULT_TEXT, JobRunner
from .settings import ServiceSettings, is_loopback
from .store import Job, JobState, Store, StoredInput

log = logging.getLogger("pdfocr.service")

ANONYMOUS = "anonymous"
RETRY_AFTER_SECONDS = 30
MAX_PREVIEW_WIDTH = 2000


class Problem(Exception):
    """Answer with this problem (and these headers)."""

    def __init__(self, found: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(found.get("detail") or found["title"])
        self.found = found
        self.headers = headers or {}


# Tesseract language codes joined by "+": "eng", "eng+fra", "script/Latin".
LANGUAGES_PATTERN = r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?(\+[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?)*$"


class JobOptions(BaseModel):
    """How to convert a job's files (the library's options that make sense over HTTP)."""

    languages: str = Field("auto", pattern=LANGUAGES_PATTERN, max_length=200)
    output_type: Literal["auto", "pdf", "pdfa", "pdfa-1", "pdfa-2", "pdfa-3"] = "auto"
    rotate_pages: bool | None = None  # None: where the engine can tell which way up a page is
    deskew: bool = False
    skip_bad_pages: bool = False
    redo_ocr: bool = False
    force_ocr: bool = False
    title: str | None = Field(None, max_length=1000)
    author: str | None = Field(None, max_length=1000)
    subject: str | None = Field(None, max_length=1000)
    keywords: str | None = Field(None, max_length=1000)

    # The form also holds the files; names that are neither are refused in submit().
    model_config = {"extra": "ignore"}


assert set(JobOptions.model_fields["output_type"].annotation.__args__) == set(OUTPUT_TYPES)  # type: ignore[union-attr]


class PageCount(BaseModel):
    done: int
    total: int


class JobLinks(BaseModel):
    self: str
    pdf: str
    text: str


class JobStatus(BaseModel):
    id: str
    state: JobState
    created: float
    updated: float
    finished: float | None
    pages: PageCount
    output_type: str | None
    problem: dict[str, Any] | None = Field(None, description="Why the job failed (RFC 9457)")
    page_errors: list[dict[str, Any]] = Field(
        default_factory=list, description="Pages left out (skip_bad_pages), as problem details"
    )
    links: JobLinks


class OcrText(BaseModel):
    text: str


class Health(BaseModel):
    status: str


class SearchHit(BaseModel):
    job: str
    page: int = Field(description="1-based page of the job's PDF")
    score: float = Field(description="Higher is better")
    snippet: str = Field(description="Text around the first match, matches in [ and ]")
    boxes: list[list[float]] = Field(
        description="The matching words' boxes: left, bottom, right, top in PDF points"
    )
    page_size: list[float] = Field(description="Width and height of the page in PDF points")
    sources: list[str] = Field(description="The job's files, as they were sent")
    links: dict[str, str] = Field(description="The job, its PDF, the page as an image")


class SearchResults(BaseModel):
    query: str
    hits: list[SearchHit]


class ServiceInfo(BaseModel):
    """What a client (the page) needs to know before it sends a job."""

    auth: bool
    search: bool = Field(description="Whether jobs are indexed (GET /v1/search)")
    max_upload_bytes: int
    max_files: int
    max_pages: int


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}}
    for status, description in [
        (401, "No token"),
        (403, "A token the service does not know"),
        (404, "No such job (for this token)"),
        (413, "Body too large"),
        (422, "Options or inputs that cannot be used"),
        (429, "The queue is full"),
    ]
}


def create_app(settings: ServiceSettings, *, converter: Converter | None = None) -> FastAPI:
    """The service's application. ``converter`` (default: one made at startup with
    ``settings.jobs`` workers) is shared by every job and closed at shutdown."""
    bearer = HTTPBearer(auto_error=False, description="An API token made with `pdfocr token create`")
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.jobs_folder.mkdir(parents=True, exist_ok=True)
        store = Store(settings.database)
        shared = converter or Converter(ConvertOptions(jobs=settings.jobs, cluster=settings.cluster))
        runner = JobRunner(store, settings, shared)
        state.update(
            store=store,
            runner=runner,
            metrics=metrics.Metrics(store, runner),
            reserved=0,
            # One-image requests at once: as many as pages run at once; more wait as 429s.
            ocr_slots=asyncio.Semaphore(shared.jobs),
            # Pages rendered for the page at once (PDFium takes one at a time anyway).
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

    app = FastAPI(
        title="pdfocr",
        summary="Scans in, searchable PDFs out: jobs, their status, their results.",
        version=_version(),
        lifespan=lifespan,
        # FastAPI's /docs pages load their scripts from a CDN: the service fetches nothing
        # from elsewhere, so only the schema (/openapi.json) is served.
        docs_url=None,
        redoc_url=None,
    )

    async def identify(token: str | None) -> str:
        """Who a bearer token (None: none was sent) belongs to; the one rule for every
        route, before a body is read as after."""
        if not settings.auth:
            return ANONYMOUS
        if not token:
            raise Problem(
                problem(401, "unauthorized", "A bearer token is needed"), {"WWW-Authenticate": "Bearer"}
            )
        found = await asyncio.to_thread(store().token_owner, token)
        if found is None:
            raise Problem(problem(403, "forbidden", "The token is not one this service knows"))
        return found

    async def refusal(authorization: str | None) -> Problem | None:
        """Why a request with this Authorization header may not send a body, if it may not."""
        scheme, _, token = (authorization or "").partition(" ")
        try:
            await identify(token.strip() if scheme.lower() == "bearer" else None)
        except Problem as refused:
            return refused
        return None

    async def gate(path: str, authorization: str | None) -> Problem | None:
        """Whether an upload to ``path`` is refused before its body is read."""
        refused = await refusal(authorization)
        if refused is None and path == "/v1/jobs":
            refused = full_queue()
        return refused

    app.add_middleware(
        BodyLimit,
        limits={"/v1/jobs": settings.max_upload_bytes, "/v1/ocr": settings.sync_max_bytes},
        gate=gate,
    )

    def store() -> Store:
        return state["store"]  # type: ignore[no-any-return]

    def runner() -> JobRunner:
        return state["runner"]  # type: ignore[no-any-return]

    async def owner(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        return await identify(credentials.credentials if credentials is not None else None)

    Owner = Annotated[str, Depends(owner)]

    def owned(job_id: str, who: str) -> Job:
        job = store().get(job_id, who)
        if job is None:
            raise Problem(problem(404, "not-found", "No such job", detail=f"no job {job_id} for this token"))
        return job

    # -- problems ------------------------------------------------------------------

    @app.exception_handler(Problem)
    async def on_problem(request: Request, error: Problem) -> JSONResponse:
        return response(error.found, error.headers)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(part) for part in item.get("loc", ())), "message": item.get("msg", "")}
            for item in error.errors()
        ]
        detail = "; ".join(f"{item['where']}: {item['message']}" for item in errors)
        return response(
            problem(422, "invalid-request", "The request is not valid", detail=detail, errors=errors)
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error.__cause__, _TooLarge):  # FastAPI wraps what stopped the body
            return response(error.__cause__.found, {"Connection": "close"})
        return response(
            problem(error.status_code, "http", str(error.detail)), dict(error.headers or {}) or None
        )

    @app.exception_handler(Exception)
    async def on_bug(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error", extra={"event": "error", "path": request.url.path})
        return response(problem(500, "internal", "Internal error", detail=type(error).__name__))

    # -- jobs ----------------------------------------------------------------------

    @app.post(
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
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        unknown = sorted(set((await request.form()).keys()) - set(JobOptions.model_fields) - {"files"})
        if unknown:
            raise Problem(
                problem(
                    422, "invalid-request", "Unknown fields", detail=f"not an option: {', '.join(unknown)}"
                )
            )
        if idempotency_key:
            earlier = store().by_idempotency_key(who, idempotency_key)
            if earlier is not None:
                return _replayed(earlier)
        queue_full = full_queue()
        if queue_full is not None:
            raise queue_full
        if not files:
            raise Problem(problem(422, "no-files", "No files were sent"))
        if len(files) > settings.max_files:
            raise Problem(
                problem(
                    413, "too-many-files", "Too many files", detail=f"at most {settings.max_files} per job"
                )
            )
        job_id = uuid.uuid4().hex
        folder = runner().folder(job_id)
        state["reserved"] += 1  # a place in the queue, held while the job is checked
        try:
            stored = await asyncio.to_thread(_save, files, folder)
            names = {str(folder / item.stored): item.name for item in stored}
            chosen = _convert_options(options, settings)
            try:
                pages = await asyncio.to_thread(
                    functools.partial(
                        runner().converter.check,
                        [folder / item.stored for item in stored],
                        chosen,
                        most=settings.max_pages,
                    )
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
            try:
                job = store().create_job(
                    who, options.model_dump(exclude_none=True), stored, pages, idempotency_key, job_id=job_id
                )
            except sqlite3.IntegrityError:  # the same key, sent again while this one was checked
                earlier = store().by_idempotency_key(who, idempotency_key or "")
                if earlier is None:
                    raise
                shutil.rmtree(folder, ignore_errors=True)
                return _replayed(earlier)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            state["reserved"] -= 1
        runner().submit(job)
        log.info("job accepted", extra={"event": "job-accepted", "job": job.id, "pages": pages})
        body = _status(job).model_dump(mode="json")
        return JSONResponse(body, status_code=202, headers={"Location": body["links"]["self"]})

    def full_queue() -> Problem | None:
        """429, when the jobs waiting (and those being checked) fill the queue."""
        waiting = store().count_by_state()[JobState.QUEUED] + state["reserved"]
        if waiting < settings.queue_size:
            return None
        return Problem(
            problem(429, "queue-full", "Too many jobs are waiting", detail=f"{waiting} jobs queued"),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.get(
        "/v1/jobs/{job_id}",
        response_model=JobStatus,
        responses=PROBLEM_RESPONSES,
        summary="A job's state",
        operation_id="get_job",
    )
    async def status(job_id: str, who: Owner) -> JobStatus:
        return _status(owned(job_id, who))

    @app.get(
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
    async def result_pdf(job_id: str, who: Owner) -> Response:
        job = _finished(owned(job_id, who))
        return FileResponse(_result(job, RESULT_PDF), media_type="application/pdf", filename=f"{job.id}.pdf")

    @app.get(
        "/v1/jobs/{job_id}/text",
        response_class=PlainTextResponse,
        responses={409: PROBLEM_RESPONSES[422], **PROBLEM_RESPONSES},
        summary="The text of a job that succeeded, pages separated by form feeds",
        operation_id="get_job_text",
    )
    async def result_text(job_id: str, who: Owner) -> Response:
        job = _finished(owned(job_id, who))
        return FileResponse(_result(job, RESULT_TEXT), media_type="text/plain; charset=utf-8")

    @app.delete(
        "/v1/jobs/{job_id}",
        status_code=204,
        responses=PROBLEM_RESPONSES,
        summary="Cancel a job (its pages stop) and remove its files",
        operation_id="delete_job",
    )
    async def remove(job_id: str, who: Owner) -> Response:
        job = owned(job_id, who)
        await runner().cancel(job.id)
        if job.state.finished:  # nothing left to show: the job goes entirely
            store().delete(job.id)
        return Response(status_code=204)

    def _result(job: Job, name: str) -> FilePath:
        path = runner().folder(job.id) / name
        if not path.is_file():  # removed a moment ago (a DELETE, expiry)
            raise Problem(problem(404, "not-found", "No such job", detail=f"no job {job.id} for this token"))
        return path

    def _finished(job: Job) -> Job:
        if job.state is not JobState.SUCCEEDED:
            raise Problem(
                problem(409, "not-ready", "The job has no result", detail=f"the job is {job.state.value}")
            )
        return job

    # -- the full-text index -------------------------------------------------------------

    @app.get(
        "/v1/search",
        response_model=SearchResults,
        responses=PROBLEM_RESPONSES,
        summary="Pages of the caller's jobs that hold the query (the syntax of pdfocr search)",
        operation_id="search",
    )
    async def search(
        who: Owner,
        q: Annotated[str, Query(min_length=1, max_length=500, description="What to find")],
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> SearchResults:
        index = runner().index
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
            job_id = runner().job_of(hit.output)
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

    @app.get(
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
        width: Annotated[int, Query(ge=100, le=MAX_PREVIEW_WIDTH)] = 1000,
    ) -> Response:
        job = _finished(owned(job_id, who))
        pdf = _result(job, RESULT_PDF)
        async with state["preview_slots"]:
            try:
                image = await asyncio.to_thread(page_preview, str(pdf), page, width)
            except InputError as error:
                raise Problem(
                    problem(404, "no-page", "The page cannot be shown", detail=error.message)
                ) from None
        return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    # -- one image, answered at once -----------------------------------------------------

    @app.post(
        "/v1/ocr",
        response_model=OcrText,
        responses=PROBLEM_RESPONSES,
        summary="The text of one small image, answered at once",
        operation_id="ocr_image",
    )
    async def ocr(
        who: Owner,
        file: Annotated[UploadFile, File(description="One image")],
        languages: Annotated[str, Form(pattern=LANGUAGES_PATTERN, max_length=200)] = "auto",
    ) -> OcrText:
        slots: asyncio.Semaphore = state["ocr_slots"]
        if slots.locked():
            raise Problem(
                problem(429, "busy", "As many images as can be read at once are being read"),
                {"Retry-After": "5"},
            )
        async with slots:
            data = await file.read()
            names = {"<input 1>": _client_name(file.filename, 1)}
            try:
                chosen = ConvertOptions(
                    languages=tuple(languages.split("+")),
                    max_megapixels=settings.sync_max_megapixels,
                    page_timeout=settings.page_timeout,
                )
                pages = await asyncio.to_thread(runner().converter.check, [data], chosen)
                if pages != 1:
                    raise Problem(problem(422, "one-image", "One image, one page", detail=f"{pages} pages"))
                text = await runner().converter.ocr_image_async(data, chosen)
            except PdfocrError as error:
                raise Problem(from_error(error, names)) from None
        return OcrText(text=text)

    # -- operations ----------------------------------------------------------------------

    @app.get("/v1/service", response_model=ServiceInfo, summary="Whether tokens are needed; the limits")
    async def service_info() -> ServiceInfo:
        return ServiceInfo(
            auth=settings.auth,
            search=settings.index is not None,
            max_upload_bytes=settings.max_upload_bytes,
            max_files=settings.max_files,
            max_pages=settings.max_pages,
        )

    @app.get("/healthz", response_model=Health, summary="The process is up")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, responses={503: {"description": "Not taking jobs"}})
    async def readyz() -> Response:
        if "runner" in state and runner().ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready"}, status_code=503)

    @app.get("/metrics", response_class=PlainTextResponse, responses=PROBLEM_RESPONSES, summary="Prometheus")
    async def prometheus(who: Owner) -> Response:
        body, content_type = state["metrics"].exposition()
        return Response(body, media_type=content_type)

    # -- the page for people ------------------------------------------------------------

    static = resources.files("pdfocr.service") / "static"

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> Response:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.middleware("http")
    async def same_origin_without_tokens(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Without tokens (loopback only), the service still refuses what a web page
        elsewhere could make the user's browser send it: a Host that is not a loopback
        name (DNS rebinding) or a change from another origin."""
        if not settings.auth:
            host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
            origin = request.headers.get("origin")
            own = {f"{scheme}://{request.headers.get('host')}" for scheme in ("http", "https")}
            if not is_loopback(host) or (
                request.method not in ("GET", "HEAD", "OPTIONS") and origin is not None and origin not in own
            ):
                return response(problem(403, "forbidden", "Not from this service's own page or host"))
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        answer = await call_next(request)
        # The page loads nothing from elsewhere, and nothing may frame it.
        answer.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'",
        )
        answer.headers.setdefault("X-Content-Type-Options", "nosniff")
        return answer

    return app


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


def _save(files: list[UploadFile], folder: FilePath) -> list[StoredInput]:
    """Each upload into the job's folder under a name of the service's own."""
    folder.mkdir(parents=True)
    stored = []
    for number, upload in enumerate(files, start=1):
        name = f"input-{number:03d}"
        with open(folder / name, "wb") as target:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, target, 1024 * 1024)
        stored.append(StoredInput(stored=name, name=_client_name(upload.filename, number)))
    return stored


def _client_name(filename: str | None, number: int) -> str:
    """The client's name for a file, for messages only: its last part, printable, short."""
    last = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(char for char in last if char.isprintable())[:200]
    return clean or f"file {number}"


def _version() -> str:
    from ..version import __version__

    return __version__


class BodyLimit:
    """Guards the routes that take uploads, before any of the body is read: a request
    without a token the service knows is refused (401/403: FastAPI would read the whole
    body before its dependencies run), and a body over the path's limit gets 413, at once
    when its Content-Length says so, else as soon as the bytes received pass the limit
    (the rest is never read, nothing of it reaches the disk)."""

    def __init__(
        self,
        app: ASGIApp,
        limits: dict[str, int],
        gate: Callable[[str, str | None], Awaitable[Problem | None]],
    ) -> None:
        self.app = app
        self.limits = limits
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization")
        refused = await self.gate(
            scope["path"], authorization.decode("latin-1") if authorization is not None else None
        )
        if refused is not None:
            await response(refused.found, {**refused.headers, "Connection": "close"})(scope, _nothing, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)
        except Exception as error:  # the framework may wrap it (a form it could not parse)
            if not isinstance(error.__cause__ or error.__context__, _TooLarge) or started:
                raise
            await _too_large(send, limit)


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.found = problem(
            413, "too-large", "The request body is too large", detail=f"at most {limit} bytes"
        )


async def _too_large(send: Send, limit: int) -> None:
    answer = response(_TooLarge(limit).found, {"Connection": "close"})
    await answer({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}

"""The app factory: ``create_app(settings)`` assembles the FastAPI application from the
routers (:mod:`pdfocr.service.routes`), the middleware, the exception handlers and the
service's lifespan.

Routes are thin: they check who is asking and what is allowed (the dependencies of
:mod:`pdfocr.service.deps`), store the upload under names of the service's own, ask the
library (:meth:`pdfocr.Converter.check`) whether the job can run, and hand it to the
:class:`~pdfocr.service.runner.JobRunner`. Every error is a problem detail (RFC 9457); no
traceback ever reaches a client.
"""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ..api import Converter
from . import handlers
from .auth import refusal
from .bodylimit import BodyLimit
from .lifespan import Running, lifespan
from .middleware import same_origin_without_tokens, security_headers
from .problems import Problem
from .routes import ROUTERS
from .routes.page import STATIC
from .settings import ServiceSettings


def create_app(settings: ServiceSettings, *, converter: Converter | None = None) -> FastAPI:
    """The service's application. ``converter`` (default: one made at startup with
    ``settings.jobs`` workers) is shared by every job and closed at shutdown."""
    app = FastAPI(
        title="pdfocr",
        summary="Scans in, searchable PDFs out: jobs, their status, their results.",
        version=_version(),
        lifespan=lifespan(settings, converter),
        # FastAPI's /docs pages load their scripts from a CDN: the service fetches nothing
        # from elsewhere, so only the schema (/openapi.json) is served.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings

    async def before_body(path: str, authorization: str | None) -> Problem | None:
        """Whether an upload to ``path`` is refused before its body is read: the routes'
        own rules (who is asking; for a job, a place in the queue), applied early."""
        running: Running = app.state.running
        refused = await refusal(authorization, settings, running.store)
        if refused is None and path == "/v1/jobs":
            refused = running.admission.refusal()
        return refused

    # Added innermost first: a request meets the security headers, the same-origin rule,
    # then the body limit.
    app.add_middleware(
        BodyLimit,
        limits={"/v1/jobs": settings.max_upload_bytes, "/v1/ocr": settings.sync_max_bytes},
        gate=before_body,
    )
    app.middleware("http")(same_origin_without_tokens)
    app.middleware("http")(security_headers)
    handlers.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def _version() -> str:
    from ..version import __version__

    return __version__

"""The service itself: what it takes (``/v1/service``), whether it is up and ready
(``/healthz``, ``/readyz``, for a service manager) and its Prometheus metrics."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ..deps import MetricsDep, Owner, SettingsDep
from ..models import Health, ServiceInfo
from ..problems import PROBLEM_RESPONSES

router = APIRouter()


@router.get("/v1/service", response_model=ServiceInfo, summary="Whether tokens are needed; the limits")
async def service_info(settings: SettingsDep) -> ServiceInfo:
    return ServiceInfo(
        auth=settings.auth,
        search=settings.index is not None,
        max_upload_bytes=settings.max_upload_bytes,
        max_files=settings.max_files,
        max_pages=settings.max_pages,
    )


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "Not taking jobs"}})
async def readyz(request: Request) -> Response:
    # Read here, not through a dependency: before the service has started there is
    # nothing to depend on, and the answer is "not ready".
    running = getattr(request.app.state, "running", None)
    if running is not None and running.runner.ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not ready"}, status_code=503)


@router.get("/metrics", response_class=PlainTextResponse, responses=PROBLEM_RESPONSES, summary="Prometheus")
async def prometheus(who: Owner, metrics: MetricsDep) -> Response:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)

"""The page for people (``/``): one HTML page and its static files, which send jobs and
search through the same API as any client."""

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

STATIC = resources.files("pdfocr.service") / "static"
"""The page's files (the app mounts them at ``/static``)."""

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page() -> Response:
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

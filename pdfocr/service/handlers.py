"""The exception handlers: every error a request meets answered as a problem detail
(RFC 9457); no traceback ever reaches a client."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .bodylimit import TooLarge
from .problems import Problem, problem, response

log = logging.getLogger("pdfocr.service")


async def on_problem(request: Request, error: Problem) -> JSONResponse:
    return response(error.found, error.headers)


async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {"where": ".".join(str(part) for part in item.get("loc", ())), "message": item.get("msg", "")}
        for item in error.errors()
    ]
    detail = "; ".join(f"{item['where']}: {item['message']}" for item in errors)
    return response(problem(422, "invalid-request", "The request is not valid", detail=detail, errors=errors))


async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
    if isinstance(error.__cause__, TooLarge):  # FastAPI wraps what stopped the body
        return response(error.__cause__.found, {"Connection": "close"})
    return response(problem(error.status_code, "http", str(error.detail)), dict(error.headers or {}) or None)


async def on_bug(request: Request, error: Exception) -> JSONResponse:
    log.exception("internal error", extra={"event": "error", "path": request.url.path})
    return response(problem(500, "internal", "Internal error", detail=type(error).__name__))


HANDLERS: dict[type[Exception], Any] = {
    Problem: on_problem,
    RequestValidationError: on_invalid,
    StarletteHTTPException: on_http,
    Exception: on_bug,
}


def install(app: FastAPI) -> None:
    """Have ``app`` answer every error as a problem."""
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)

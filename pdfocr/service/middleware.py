"""The HTTP middleware every request passes through: the same-origin rule of a service
without tokens, and the security headers every answer gets. (The body limit, which guards
only the uploads, is :mod:`pdfocr.service.bodylimit`.)"""

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response

from .problems import problem, response
from .settings import ServiceSettings, is_loopback

CallNext = Callable[[Request], Awaitable[Response]]


async def same_origin_without_tokens(request: Request, call_next: CallNext) -> Response:
    """Without tokens (loopback only), the service still refuses what a web page
    elsewhere could make the user's browser send it: a Host that is not a loopback
    name (DNS rebinding) or a change from another origin."""
    settings: ServiceSettings = request.app.state.settings
    if not settings.auth:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        origin = request.headers.get("origin")
        own = {f"{scheme}://{request.headers.get('host')}" for scheme in ("http", "https")}
        if not is_loopback(host) or (
            request.method not in ("GET", "HEAD", "OPTIONS") and origin is not None and origin not in own
        ):
            return response(problem(403, "forbidden", "Not from this service's own page or host"))
    return await call_next(request)


async def security_headers(request: Request, call_next: CallNext) -> Response:
    answer = await call_next(request)
    # The page loads nothing from elsewhere, and nothing may frame it.
    answer.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'",
    )
    answer.headers.setdefault("X-Content-Type-Options", "nosniff")
    return answer

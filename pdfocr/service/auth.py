"""Who is asking: the owner of a request's bearer token, by one rule for every route,
before a body is read (the body limit's gate) as after (the routes' ``Owner``)."""

import asyncio

from fastapi.security import HTTPBearer

from .problems import Problem, problem
from .settings import ServiceSettings
from .store import Store

ANONYMOUS = "anonymous"
"""The owner of every job when the service needs no tokens."""

bearer = HTTPBearer(auto_error=False, description="An API token made with `pdfocr token create`")


async def identify(token: str | None, settings: ServiceSettings, store: Store) -> str:
    """Who a bearer token (None: none was sent) belongs to; 401 without one, 403 for one
    the service does not know."""
    if not settings.auth:
        return ANONYMOUS
    if not token:
        raise Problem(
            problem(401, "unauthorized", "A bearer token is needed"), {"WWW-Authenticate": "Bearer"}
        )
    found = await asyncio.to_thread(store.token_owner, token)
    if found is None:
        raise Problem(problem(403, "forbidden", "The token is not one this service knows"))
    return found


async def refusal(authorization: str | None, settings: ServiceSettings, store: Store) -> Problem | None:
    """Why a request with this Authorization header may not send a body, if it may not."""
    scheme, _, token = (authorization or "").partition(" ")
    try:
        await identify(token.strip() if scheme.lower() == "bearer" else None, settings, store)
    except Problem as refused:
        return refused
    return None

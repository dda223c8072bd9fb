"""The body limit: the ASGI middleware that guards the routes taking uploads before any
of their body is read (who may send one, and how much of it)."""

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, problem, response

Gate = Callable[[str, str | None], Awaitable[Problem | None]]
"""Whether an upload to a path, with this Authorization header, is refused (and why)."""


class BodyLimit:
    """Guards the routes that take uploads, before any of the body is read: a request
    without a token the service knows is refused (401/403: FastAPI would read the whole
    body before its dependencies run), and a body over the path's limit gets 413, at once
    when its Content-Length says so, else as soon as the bytes received pass the limit
    (the rest is never read, nothing of it reaches the disk)."""

    def __init__(self, app: ASGIApp, limits: dict[str, int], gate: Gate) -> None:
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
                    raise TooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if not started:
                await _too_large(send, limit)
        except Exception as error:  # the framework may wrap it (a form it could not parse)
            if not isinstance(error.__cause__ or error.__context__, TooLarge) or started:
                raise
            await _too_large(send, limit)


class TooLarge(Exception):
    """What stops a body that passed its limit while it was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.found = problem(
            413, "too-large", "The request body is too large", detail=f"at most {limit} bytes"
        )


async def _too_large(send: Send, limit: int) -> None:
    answer = response(TooLarge(limit).found, {"Connection": "close"})
    await answer({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}

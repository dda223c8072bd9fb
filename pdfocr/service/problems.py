"""Problem details (RFC 9457): how the service says what went wrong, in HTTP answers and in
a job's status alike; :class:`Problem` is how a route or a dependency answers with one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from ..errors import PdfocrError

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """Answer with this problem (and these headers)."""

    def __init__(self, found: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(found.get("detail") or found["title"])
        self.found = found
        self.headers = headers or {}


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
"""The problems the routes may answer with, as the OpenAPI schema lists them."""


def problem(status: int, kind: str, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    """A problem object; ``kind`` names the problem type (``urn:pdfocr:problem:<kind>``)."""
    found: dict[str, Any] = {"type": f"urn:pdfocr:problem:{kind}", "title": title, "status": status}
    if detail is not None:
        found["detail"] = detail
    found.update({key: value for key, value in extra.items() if value is not None})
    return found


def response(found: dict[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        found, status_code=found["status"], media_type=MEDIA_TYPE, headers=dict(headers or {})
    )


_KINDS = {
    "UsageError": ("invalid-options", "The options cannot be used"),
    "InputError": ("bad-input", "An input cannot be read"),
    "DependencyError": ("missing-dependency", "The engine or a language is missing"),
    "EngineError": ("engine-failed", "The OCR engine failed on a page"),
    "OutputError": ("output-failed", "The result could not be written"),
    "ArchivalError": ("archival-failed", "The PDF/A asked for cannot be made"),
    "Interrupted": ("interrupted", "The conversion was stopped"),
}


def from_error(error: PdfocrError, names: Mapping[str, str]) -> dict[str, Any]:
    """The problem for a library error, its files named as the client named them:
    ``names`` maps each stored path to the client's name (a path is never shown)."""
    kind, title = next(
        (_KINDS[cls.__name__] for cls in type(error).__mro__ if cls.__name__ in _KINDS),
        ("internal", "Internal error"),
    )
    file = names.get(error.file or "", None) if error.file else None
    return problem(
        error.http_status, kind, title, detail=client_text(str(error), names), file=file, page=error.page
    )


def client_text(text: str, names: Mapping[str, str]) -> str:
    """``text`` with every stored path in it replaced by the client's name for it."""
    for path in sorted(names, key=len, reverse=True):
        text = text.replace(path, names[path])
    # Any other path (a work folder in /tmp, the data folder, relative or not) is the
    # service's own business: cut.
    return _PATH.sub("<file>", text)


# An absolute path of two or more parts, or a relative one through a jobs folder.
_PATH = re.compile(r"(?:/[^\s/:'\"]+){2,}/?|[^\s/:'\"]+(?:/[^\s/:'\"]+)*/jobs/[^\s:'\"]*")

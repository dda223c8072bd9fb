"""The shapes the service's routes take and give (pydantic models): what the OpenAPI
schema shows a client. Their class names are the schema's names, so renaming one changes
the schema."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..options import OUTPUT_TYPES
from .store import JobState

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
    # none, lossless, lossy or lossy=QUALITY (1 to 95, which the library checks).
    optimize: str = Field("none", pattern=r"^(none|lossless|lossy(=[0-9]{1,2})?)$")
    title: str | None = Field(None, max_length=1000)
    author: str | None = Field(None, max_length=1000)
    subject: str | None = Field(None, max_length=1000)
    keywords: str | None = Field(None, max_length=1000)

    # The form also holds the files; names that are neither are refused in submit().
    model_config = {"extra": "ignore"}


# Every output type but none: a job's result is its PDF.
_JOB_OUTPUT_TYPES = set(OUTPUT_TYPES) - {"none"}
assert set(JobOptions.model_fields["output_type"].annotation.__args__) == _JOB_OUTPUT_TYPES  # type: ignore[union-attr]


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

"""OCR engines behind one small protocol.

An engine turns a page image into a :class:`~pdfocr.model.PageText`; it never draws PDF.
Engines are plain picklable objects: the pipeline resolves one in the calling process,
checks it, and sends it to the worker processes with each page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from PIL import Image

from ..errors import UsageError
from ..model import PageText


@runtime_checkable
class OcrEngine(Protocol):
    """What pdfocr needs of an OCR engine."""

    @property
    def name(self) -> str:
        """The engine's name, as ``--engine`` takes it."""
        ...

    def check(self, languages: Sequence[str]) -> None:
        """Raise :class:`~pdfocr.errors.DependencyError` unless the engine and every one of
        ``languages`` are installed; the message says what is missing and how to get it."""

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        """Recognise the text of ``image`` (mode 1, L or RGB) scanned at ``dpi``.

        Raises :class:`~pdfocr.errors.EngineError` when recognition fails."""
        ...


@runtime_checkable
class OrientationDetector(Protocol):
    """An engine that can also tell which way up a page is (for ``rotate_pages``)."""

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        """Degrees clockwise (0, 90, 180 or 270) that turn ``image`` upright, and the
        confidence of that; None when the page has too little text to tell."""
        ...


def _tesseract() -> OcrEngine:
    from .tesseract import TesseractEngine

    return TesseractEngine()


BUILTIN_ENGINES: Mapping[str, Callable[[], OcrEngine]] = MappingProxyType({"tesseract": _tesseract})


def resolve_engine(engine: str | OcrEngine) -> OcrEngine:
    """The engine named ``engine``, or ``engine`` itself when it already is one."""
    if not isinstance(engine, str):
        if not isinstance(engine, OcrEngine):
            raise UsageError(f"{engine!r} is not an OCR engine")
        return engine
    try:
        factory = BUILTIN_ENGINES[engine]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_ENGINES))
        raise UsageError(f"unknown engine {engine!r} (available: {known})") from None
    return factory()

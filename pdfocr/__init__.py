"""pdfocr: scan bundles into searchable PDFs.

    >>> import pdfocr
    >>> result = pdfocr.convert(["scans/"], "scans.pdf", languages=("eng",))
    >>> text = pdfocr.ocr_image("page.png")

See :func:`convert`, :func:`convert_async`, :func:`ocr_image`, :func:`ocr_image_async`;
every error is a :class:`PdfocrError`.
"""

from __future__ import annotations

from .api import (
    Converter,
    Progress,
    Result,
    convert,
    convert_async,
    ocr_image,
    ocr_image_async,
)
from .engines import OcrEngine
from .errors import (
    ArchivalError,
    DependencyError,
    EngineError,
    ExitCode,
    InputError,
    Interrupted,
    OutputError,
    PdfocrError,
    PdfocrWarning,
    UsageError,
)
from .options import DEFAULT_DPI, ConvertOptions, OptionKeywords
from .page import PageResult, SkippedPage
from .version import __version__

__all__ = [
    "DEFAULT_DPI",
    "ArchivalError",
    "ConvertOptions",
    "Converter",
    "DependencyError",
    "EngineError",
    "ExitCode",
    "InputError",
    "Interrupted",
    "OcrEngine",
    "OptionKeywords",
    "OutputError",
    "PageResult",
    "PdfocrError",
    "PdfocrWarning",
    "Progress",
    "Result",
    "SkippedPage",
    "UsageError",
    "__version__",
    "convert",
    "convert_async",
    "ocr_image",
    "ocr_image_async",
]

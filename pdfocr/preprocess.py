"""Page preparation before OCR: turning pages upright and straightening skewed scans.

Both change what the page shows, so they work on the decoded page that is then both
recognised and drawn: the text layer always matches the page as shown.
"""

from __future__ import annotations

from .engines import OcrEngine, OrientationDetector
from .errors import UsageError
from .inputs import LoadedPage, ocr_ready, turned


def upright(page: LoadedPage, engine: OcrEngine, threshold: float) -> tuple[LoadedPage, int]:
    """The page turned upright if ``engine`` is at least ``threshold`` sure it is not,
    and the degrees (clockwise) it was turned."""
    if not isinstance(engine, OrientationDetector):
        raise UsageError(f"the {engine.name} engine cannot detect page orientation")
    found = engine.detect_rotation(ocr_ready(page.image), dpi=page.dpi[0])
    if found is None:
        return page, 0
    degrees, confidence = found
    if degrees == 0 or confidence < threshold:
        return page, 0
    return turned(page, degrees), degrees

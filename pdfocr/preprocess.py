"""Page preparation before OCR: turning pages upright and straightening skewed scans.

Both change what the page shows, so they work on the decoded page that is then both
recognised and drawn: the text layer always matches the page as shown.
"""

from __future__ import annotations

import math

from PIL import Image, ImageStat

from .engines import OcrEngine, OrientationDetector, engine_boundary
from .errors import UsageError
from .inputs import LoadedPage, ocr_ready, turned


def upright(page: LoadedPage, engine: OcrEngine, threshold: float) -> tuple[LoadedPage, int]:
    """The page turned upright if ``engine`` is at least ``threshold`` sure it is not,
    and the degrees (clockwise) it was turned."""
    if not isinstance(engine, OrientationDetector):
        raise UsageError(f"the {engine.name} engine cannot detect page orientation")
    with engine_boundary(engine):
        found = engine.detect_rotation(ocr_ready(page.image), dpi=page.dpi[0])
    if found is None:
        return page, 0
    degrees, confidence = found
    if degrees == 0 or confidence < threshold:
        return page, 0
    return turned(page, degrees), degrees


# Skew search (degrees): a sweep over +-MAX_SKEW, then finer sweeps around the best angle.
MAX_SKEW = 5.0
SEARCH_STEPS = (1.0, 0.25, 0.05)
MIN_SKEW = 0.1
"""Skew below this is left alone: it cannot be seen and straightening costs a re-encode."""
# Skew is measured on a copy about this wide: enough for 0.05 degrees, and fast.
SKEW_SAMPLE_WIDTH = 800


def skew_angle(image: Image.Image) -> float:
    """The angle (degrees, counter-clockwise, as ``Image.rotate`` takes it) that makes
    the page's text lines horizontal: the one whose rows of ink are most contrasted."""
    gray = ocr_ready(image).convert("L")
    factor = min(1.0, SKEW_SAMPLE_WIDTH / gray.width)
    sample = gray.resize((max(1, round(gray.width * factor)), max(1, round(gray.height * factor))))
    ink = sample.point(lambda v: 255 if v < 128 else 0)

    def contrast(angle: float) -> float:
        turned = ink.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=0)
        rows = turned.resize((1, turned.height), Image.Resampling.BOX)
        return float(ImageStat.Stat(rows).sum2[0])

    found, reach = 0.0, MAX_SKEW
    for step in SEARCH_STEPS:
        count = round(reach / step)
        found = max((found + i * step for i in range(-count, count + 1)), key=contrast)
        reach = step
    return found


def straightened(page: LoadedPage) -> tuple[LoadedPage, float]:
    """The page rotated so that its text lines are horizontal, and the angle it took
    (0 when the page is straight enough already)."""
    angle = skew_angle(page.image)
    if abs(angle) < MIN_SKEW:
        return page, 0.0
    image = page.image
    if image.mode not in ("L", "RGB"):
        image = ocr_ready(image).convert("L") if image.mode == "1" else ocr_ready(image)
    paper = 255 if image.mode == "L" else (255, 255, 255)
    rotated = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    if page.image.mode == "1":
        rotated = rotated.point(lambda v: 255 if v > 127 else 0).convert("1")
    # New pixels: the original file no longer shows this page.
    return LoadedPage(image=rotated, dpi=page.dpi, source_format=page.source_format), angle


MAX_OCR_SIDE = 32_768


def ocr_copy(page: LoadedPage, max_megapixels: float) -> tuple[Image.Image, float, float]:
    """The image the engine should read, its dpi, and how many times larger the page is
    than that image: a downscaled copy when the page exceeds ``max_megapixels``."""
    image = ocr_ready(page.image)
    pixels = image.width * image.height
    # Tesseract (Leptonica) reads no image with a side of 32768 pixels or more.
    longest = max(image.width, image.height)
    if pixels <= max_megapixels * 1e6 and longest < MAX_OCR_SIDE:
        return image, page.dpi[0], 1.0
    shrink = min(math.sqrt(max_megapixels * 1e6 / pixels), (MAX_OCR_SIDE - 1) / longest)
    size = (max(1, round(image.width * shrink)), max(1, round(image.height * shrink)))
    smaller = (image.convert("L") if image.mode == "1" else image).resize(size, Image.Resampling.LANCZOS)
    return smaller, page.dpi[0] * shrink, image.width / size[0]

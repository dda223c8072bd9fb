"""Page preparation before OCR: telling which way up a page is, straightening skewed
scans, and the copy the engine reads (square pixels, bounded size).

Turning and straightening change what the page shows, so they work on the decoded page
that is then both recognised and drawn: the text layer always matches the page as shown.
The engine's copy changes only what it reads; its words are mapped back onto the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageStat

from .engines import OrientationDetector
from .inputs import LoadedPage, ocr_ready


def orientation(page: LoadedPage, engine: OrientationDetector, threshold: float) -> int:
    """Degrees clockwise (0, 90, 180, 270) that turn ``page`` upright, by ``engine``'s
    orientation detection; 0 unless it is at least ``threshold`` sure."""
    found = engine.detect_rotation(ocr_ready(page.image), dpi=page.dpi[0])
    if found is None:
        return 0
    degrees, confidence = found
    return degrees if confidence >= threshold else 0


# Skew search (degrees): a sweep over +-MAX_SKEW, then finer sweeps around the best angle.
MAX_SKEW = 5.0
SEARCH_STEPS = (1.0, 0.25, 0.05)
MIN_SKEW = 0.1
"""Skew below this is left alone: it cannot be seen and straightening costs a re-encode."""
SKEW_SAMPLE_WIDTH = 800
SKEW_SAMPLE_PIXELS = 800 * 1000
"""Skew is measured on a copy about 800 pixels wide (enough for 0.05 degrees), and on a
band across its middle when the page is longer than that allows: a 900 x 40,000 strip is
measured as fast as a letter page, at the same resolution."""
SKEW_MARGIN = 0.06
"""The share of each side left out of the measure: scanner lids, page edges and the table
under a phone photo make straight dark bands there that are not the text's lines."""
MIN_INK = 0.002
"""Pages with less ink than this (a share of the measured area) have no lines to measure."""
MIN_GAIN = 0.02
"""A skew is only believed if its lines stand out this much more (relative contrast) than
at 0 degrees; on a blank or noisy page every angle looks the same."""


def skew_angle(image: Image.Image) -> float:
    """The angle (degrees, counter-clockwise, as ``Image.rotate`` takes it) that makes
    the page's text lines horizontal: the one whose rows of ink are most contrasted.
    0 when no angle within +-MAX_SKEW stands out (a blank page, faint or no lines)."""
    ink = _ink(_skew_sample(image))
    if ink is None:
        return 0.0

    def contrast(angle: float) -> float:
        turned = ink.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=0)
        rows = turned.resize((1, turned.height), Image.Resampling.BOX)
        return float(ImageStat.Stat(rows).sum2[0])

    found, reach = 0.0, MAX_SKEW
    for step in SEARCH_STEPS:
        count = round(reach / step)
        angles = (found + i * step for i in range(-count, count + 1))
        # Within the documented range; on a tie, the angle nearest to straight.
        found = max((a for a in angles if abs(a) <= MAX_SKEW), key=lambda a: (contrast(a), -abs(a)))
        reach = step
    if contrast(found) <= contrast(0.0) * (1 + MIN_GAIN):
        return 0.0
    return found


def _skew_sample(image: Image.Image) -> Image.Image:
    """A small gray copy of the page's inner part (see SKEW_SAMPLE_PIXELS, SKEW_MARGIN)."""
    gray = ocr_ready(image).convert("L")
    width, height = gray.size
    inner = gray.crop(
        (
            round(width * SKEW_MARGIN),
            round(height * SKEW_MARGIN),
            round(width * (1 - SKEW_MARGIN)),
            round(height * (1 - SKEW_MARGIN)),
        )
    )
    factor = min(1.0, SKEW_SAMPLE_WIDTH / max(1, inner.width))
    size = (max(1, round(inner.width * factor)), max(1, round(inner.height * factor)))
    sample = inner.resize(size, Image.Resampling.BOX) if factor < 1 else inner
    rows = max(1, SKEW_SAMPLE_PIXELS // sample.width)
    if sample.height > rows:
        top = (sample.height - rows) // 2
        sample = sample.crop((0, top, sample.width, top + rows))
    return sample


def _ink(gray: Image.Image) -> Image.Image | None:
    """The sample's ink as white on black: dark print on light paper, or light print on
    a dark page; None when there is too little to measure."""
    histogram = gray.histogram()
    threshold = _otsu(histogram)
    total = gray.width * gray.height
    dark = sum(histogram[: threshold + 1])
    light_print = dark > total / 2  # most of the page is dark: white on black
    share = (total - dark if light_print else dark) / total
    if share < MIN_INK:
        return None
    if light_print:
        return gray.point(lambda v: 255 if v > threshold else 0)
    return gray.point(lambda v: 255 if v <= threshold else 0)


def _otsu(histogram: list[int]) -> int:
    """The gray level that best splits the histogram in two (Otsu's method): between the
    paper and the print, also for faint print."""
    total = sum(histogram)
    weighted = sum(level * count for level, count in enumerate(histogram))
    best, threshold = -1.0, 127
    below = below_weighted = 0
    for level in range(255):
        below += histogram[level]
        below_weighted += level * histogram[level]
        above = total - below
        if below == 0 or above == 0:
            continue
        mean_below = below_weighted / below
        mean_above = (weighted - below_weighted) / above
        between = below * above * (mean_below - mean_above) ** 2
        if between > best:
            best, threshold = between, level
    return threshold


def straightened(page: LoadedPage) -> tuple[LoadedPage, float]:
    """The page rotated so that its text lines are horizontal, and the angle it took
    (0 when the page is straight enough already). A bilevel page (1-bit, or a palette of
    black and white) stays bilevel."""
    angle = skew_angle(page.image)
    if abs(angle) < MIN_SKEW:
        return page, 0.0
    image = page.image
    bilevel = is_bilevel(image)
    if bilevel or image.mode not in ("L", "RGB"):
        image = ocr_ready(image).convert("L") if bilevel else ocr_ready(image)
    rotated = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=_paper(image))
    if bilevel:
        rotated = rotated.point(lambda v: 255 if v > 127 else 0).convert("1")
    # New pixels: the original file no longer shows this page.
    return LoadedPage(image=rotated, dpi=page.dpi, source_format=page.source_format), angle


def unstraightened_point(
    point: tuple[float, float], size: tuple[int, int], angle: float
) -> tuple[float, float]:
    """Where a point of a page straightened by ``angle`` degrees (as :func:`straightened`
    turns it, counter-clockwise about its middle) lay before."""
    radians = math.radians(angle)
    middle_x, middle_y = size[0] / 2, size[1] / 2
    dx, dy = point[0] - middle_x, point[1] - middle_y
    return (
        middle_x + dx * math.cos(radians) - dy * math.sin(radians),
        middle_y + dx * math.sin(radians) + dy * math.cos(radians),
    )


def _paper(image: Image.Image) -> int | tuple[int, ...]:
    """The page's background colour (its median: print covers far less than half a
    page), for the corners that turning uncovers: white on paper, black on a white-on-
    black page."""
    median = ImageStat.Stat(image.resize((64, 64), Image.Resampling.BOX)).median
    return median[0] if image.mode == "L" else tuple(median)


def is_bilevel(image: Image.Image) -> bool:
    if image.mode == "1":
        return True
    if image.mode != "P":
        return False
    used = image.getcolors(256) or []
    palette = image.getpalette() or []
    colours = {tuple(palette[3 * int(index) : 3 * int(index) + 3]) for _, index in used}  # type: ignore[arg-type]
    return colours <= {(0, 0, 0), (255, 255, 255)}


MAX_OCR_SIDE = 32_768
SQUARE_PIXELS_TOLERANCE = 0.05
"""Resolutions across and down closer than this (relative) count as square pixels: a
fax in fine mode (204 x 196 dpi) reads better as it is (word recall 0.98) than from a
resampled copy (0.94)."""


@dataclass(frozen=True)
class OcrCopy:
    """The image the engine reads, and how to map what it finds back to the page."""

    image: Image.Image
    dpi: float
    enlarge_x: float
    """How many times wider the page is than ``image``."""
    enlarge_y: float
    """How many times taller the page is than ``image``."""

    @property
    def is_page(self) -> bool:
        """Whether ``image`` is the page itself, at its own size."""
        return self.enlarge_x == 1.0 and self.enlarge_y == 1.0


def ocr_copy(page: LoadedPage, max_megapixels: float) -> OcrCopy:
    """The image the engine should read: the page itself, or a copy with square pixels
    (a fax in standard mode is 204 x 98 dpi: its letters are squashed to half their
    height, which Tesseract misreads) at the finer of the page's resolutions, made
    smaller when it exceeds ``max_megapixels``."""
    image = ocr_ready(page.image)
    dpi_x, dpi_y = page.dpi
    dpi = max(dpi_x, dpi_y)
    width, height = image.width * dpi / dpi_x, image.height * dpi / dpi_y
    if abs(dpi_x - dpi_y) <= SQUARE_PIXELS_TOLERANCE * dpi:
        width, height, dpi = image.width, image.height, dpi_x
    # Tesseract (Leptonica) reads no image with a side of 32768 pixels or more.
    longest = max(width, height)
    shrink = min(1.0, math.sqrt(max_megapixels * 1e6 / (width * height)), (MAX_OCR_SIDE - 1) / longest)
    size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    if size == image.size:
        return OcrCopy(image, dpi, 1.0, 1.0)
    source = image.convert("L") if image.mode == "1" else image
    resample = Image.Resampling.LANCZOS if shrink < 1 else Image.Resampling.BICUBIC
    copy = source.resize(size, resample)
    return OcrCopy(copy, dpi * shrink, image.width / size[0], image.height / size[1])

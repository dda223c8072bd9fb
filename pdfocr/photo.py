"""Phone photos of a sheet: the sheet found in the photo (its four corners against the
table, a hand, a neighbouring page), its perspective corrected, cropped, and its light
made even, for OCR and for the page shown (with OpenCV).

A photo whose sheet cannot be found for sure (no bright four-sided region covering a
good part of the photo, or one already filling it) is left as it is. The flattened sheet
is the page's new image (``flatten_photos=False`` keeps the photo as it was taken);
``keep_photos`` reads the flattened sheet but shows the photo as it was taken, the words
mapped back onto it (:func:`photo_point`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from .inputs import SHEETS, LoadedPage
from .model import Point

FIND_SIDE = 1000
"""The sheet is looked for on a copy this long (pixels): its edges are long and clear."""
MIN_SHARE = 0.2
"""A sheet covers at least this share of the photo."""
MAX_SHARE = 0.97
"""A four-sided region covering more than this is the photo's own frame: a scan, or a
photo already cropped to its sheet."""
FRAME_MARGIN = 0.01
"""A sheet's corners lie this share of the photo's long side inside its frame, or the
sheet runs off the photo."""
SHEET_SLACK = 0.04
"""A sheet's proportions this close to A4's or Letter's (relative) are taken to be it."""
SPINE_BANDS = 10
"""A book's spine is looked for in this many bands down the spread."""
SPINE_DEPTH = 0.8
"""The spine's shadow is at most this share of the paper's brightness."""
LIGHT_CELLS = 24
"""The light is measured over blocks this many times smaller than the sheet's long side."""


@dataclass(frozen=True)
class Sheet:
    """Where the sheet lies in the photo: its corners (photo pixels: top-left, top-right,
    bottom-right, bottom-left) and the size it is drawn at."""

    corners: tuple[tuple[float, float], ...]
    width: int
    height: int

    @property
    def dpi(self) -> float:
        """The resolution at which the sheet, drawn, is a sheet of its paper format (the
        photo's too, where it is kept: its sheet at its real size)."""
        short, long = sorted((self.width, self.height))
        inches = min(SHEETS.values(), key=lambda size: abs(size[1] / size[0] - long / short))[1]
        return long / inches


def _points(values: Any) -> Any:
    """Points as OpenCV takes them: an array of 32-bit floats."""
    import numpy

    return numpy.array(values, dtype=numpy.float32)


def find_sheet(image: Image.Image) -> Sheet | None:
    """The sheet in ``image``, or None when none is found for sure. Where the bright
    region runs off the photo (a book's spread), the page beside the spine is the sheet
    when it lies wholly within the photo."""
    import cv2
    import numpy

    gray = numpy.asarray(image.convert("L"))
    scale = min(1.0, FIND_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    blurred = cv2.GaussianBlur(small, (7, 7), 0)
    # Paper is the bright part of the photo; closing fills the dark print within it.
    _, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    kernel = numpy.ones((15, 15), numpy.uint8)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, kernel)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, kernel)
    corners = _quadrilateral(bright, MIN_SHARE)
    if corners is None:
        return None
    corners = [(x / scale, y / scale) for x, y in corners]
    if not _within(corners, image.size):
        # A region that runs off the photo is not a whole sheet seen (a book's spread, a
        # page photographed too close): cutting it out would bend its lines.
        for page in _pages_beside_spine(bright, blurred):
            corners = _quadrilateral(page, MIN_SHARE / 2)
            if corners is not None:
                corners = [(x / scale, y / scale) for x, y in corners]
                if _within(corners, image.size):
                    break
        else:
            return None
    drawn_width, drawn_height = _drawn_size(corners)
    return Sheet(tuple(corners), drawn_width, drawn_height)


def _quadrilateral(bright: Any, least_share: float) -> list[tuple[float, float]] | None:
    """The corners (top-left first, clockwise) of the largest bright region of the mask,
    when it covers ``least_share`` of it or more (and not all of it) and has four sides."""
    import cv2

    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    outline = max(contours, key=cv2.contourArea)
    share = cv2.contourArea(outline) / (bright.shape[0] * bright.shape[1])
    if not least_share <= share <= MAX_SHARE:
        return None
    hull = cv2.convexHull(outline)
    polygon = cv2.approxPolyDP(hull, 0.01 * cv2.arcLength(hull, True), True).reshape(-1, 2)
    quad = _four_sides(polygon.astype(float).tolist())
    if quad is None:
        return None
    corners = _ordered(quad)
    return corners if cv2.isContourConvex(_points(corners)) else None


def _within(corners: list[tuple[float, float]], size: tuple[int, int]) -> bool:
    width, height = size
    margin = FRAME_MARGIN * max(width, height)
    return all(margin < x < width - margin and margin < y < height - margin for x, y in corners)


def _pages_beside_spine(bright: Any, blurred: Any) -> list[Any]:
    """The masks of the bright region on either side of a book's spine (the valley of
    shadow running down the region, found band by band and fitted with a line), or none
    when there is no such valley."""
    import numpy

    rows = numpy.nonzero(bright.any(axis=1))[0]
    if len(rows) == 0:
        return []
    top, bottom = int(rows[0]), int(rows[-1])
    found: list[tuple[float, float]] = []
    bands = SPINE_BANDS
    for band in range(1, bands - 1):  # the first and last bands hold the pages' curled ends
        y0 = top + (bottom - top) * band // bands
        y1 = top + (bottom - top) * (band + 1) // bands
        inside = bright[y0:y1].all(axis=0)
        columns = numpy.nonzero(inside)[0]
        if len(columns) < 20:
            continue
        left, right = int(columns[0]), int(columns[-1])
        brightness = blurred[y0:y1, left : right + 1].mean(axis=0)
        profile = numpy.convolve(brightness, numpy.ones(9) / 9, mode="same")
        inner = slice(len(profile) // 20, len(profile) - len(profile) // 20)
        lowest = int(numpy.argmin(profile[inner])) + inner.start
        if profile[lowest] < SPINE_DEPTH * numpy.median(profile):
            found.append(((y0 + y1) / 2, float(left + lowest)))
    if len(found) < bands // 2:
        return []
    ys, xs = numpy.array(found).T
    slope, offset = numpy.polyfit(ys, xs, 1)
    if numpy.median(numpy.abs(xs - (slope * ys + offset))) > 0.02 * bright.shape[1]:
        return []  # dark spots here and there, not one valley down the region
    spine = slope * numpy.arange(bright.shape[0])[:, None] + offset
    columns = numpy.arange(bright.shape[1])[None, :]
    gap = 0.01 * bright.shape[1]
    sides = (columns < spine - gap, columns > spine + gap)
    return [numpy.where(side, bright, 0).astype(numpy.uint8) for side in sides]


def _four_sides(polygon: list[list[float]]) -> list[tuple[float, float]] | None:
    """The corners of the quadrilateral whose sides are the polygon's four longest edges
    (a corner lost in a shadow or under a thumb is where its two sides meet again)."""
    count = len(polygon)
    if count < 4:
        return None
    edges = [(polygon[i], polygon[(i + 1) % count]) for i in range(count)]
    longest = sorted(range(count), key=lambda i: -_length(*edges[i]))[:4]
    sides = [edges[i] for i in sorted(longest)]
    corners = []
    for (a, b), (c, d) in zip(sides, sides[1:] + sides[:1], strict=True):
        crossing = _crossing(a, b, c, d)
        if crossing is None:
            return None
        corners.append(crossing)
    return corners


def _length(a: list[float] | tuple[float, float], b: list[float] | tuple[float, float]) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def _crossing(a: list[float], b: list[float], c: list[float], d: list[float]) -> tuple[float, float] | None:
    """Where the line through ``a`` and ``b`` meets the line through ``c`` and ``d``."""
    denominator = (a[0] - b[0]) * (c[1] - d[1]) - (a[1] - b[1]) * (c[0] - d[0])
    if abs(denominator) < 1e-9:
        return None  # parallel sides: not a quadrilateral
    first = a[0] * b[1] - a[1] * b[0]
    second = c[0] * d[1] - c[1] * d[0]
    x = (first * (c[0] - d[0]) - (a[0] - b[0]) * second) / denominator
    y = (first * (c[1] - d[1]) - (a[1] - b[1]) * second) / denominator
    return x, y


def _ordered(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The corners as top-left, top-right, bottom-right, bottom-left."""
    by_sum = sorted(points, key=lambda p: p[0] + p[1])
    by_difference = sorted(points, key=lambda p: p[1] - p[0])
    return [by_sum[0], by_difference[0], by_sum[-1], by_difference[-1]]


def _drawn_size(corners: list[tuple[float, float]]) -> tuple[int, int]:
    """The sheet's size in pixels: its longer sides as they are in the photo, its
    proportions a paper format's when they are near one."""

    top_left, top_right, bottom_right, bottom_left = corners
    width = max(_length(top_left, top_right), _length(bottom_left, bottom_right))
    height = max(_length(top_left, bottom_left), _length(top_right, bottom_right))
    aspect = max(width, height) / max(1.0, min(width, height))
    for short, long in SHEETS.values():
        if abs(aspect / (long / short) - 1) <= SHEET_SLACK:
            aspect = long / short
            break
    if height >= width:
        return round(height / aspect), round(height)
    return round(width), round(width / aspect)


def flattened(page: LoadedPage, sheet: Sheet) -> LoadedPage:
    """The sheet out of the photo: perspective corrected, cropped, its light made even
    (the paper white, shadows gone), at the resolution of a sheet of its format."""
    import cv2
    import numpy

    rgb = numpy.asarray(page.image.convert("RGB"))
    target = _points([[0, 0], [sheet.width, 0], [sheet.width, sheet.height], [0, sheet.height]])
    warp = cv2.getPerspectiveTransform(_points(sheet.corners), target)
    straight = cv2.warpPerspective(rgb, warp, (sheet.width, sheet.height), flags=cv2.INTER_CUBIC)
    even = _even_light(straight)
    return LoadedPage(
        image=Image.fromarray(even), dpi=(sheet.dpi, sheet.dpi), source_format=page.source_format
    )


def photo_point(sheet: Sheet) -> Callable[[Point], Point]:
    """Where a point of the flattened sheet lies in the photo it was cut out of."""
    import cv2
    import numpy

    target = _points([[0, 0], [sheet.width, 0], [sheet.width, sheet.height], [0, sheet.height]])
    back = cv2.getPerspectiveTransform(target, _points(sheet.corners))

    def point(at: Point) -> Point:
        x, y, w = back @ numpy.array([at[0], at[1], 1.0])
        return float(x / w), float(y / w)

    return point


def _even_light(rgb: Any) -> Any:
    """The sheet divided by its own light (its paper's level, measured over blocks and
    smoothed): shadows and a lamp's fall-off are gone, the paper white."""
    import cv2
    import numpy

    pixels = numpy.asarray(rgb, dtype=numpy.float32)
    gray = cv2.cvtColor(numpy.asarray(rgb), cv2.COLOR_RGB2GRAY)
    cell = max(8, max(gray.shape) // LIGHT_CELLS)
    # The paper's level around each point: the brightest of a block (print is darker),
    # smoothed so that block edges leave no trace.
    light = cv2.dilate(gray, numpy.ones((cell, cell), numpy.uint8))
    light = cv2.GaussianBlur(light, (0, 0), cell / 2).astype(numpy.float32)
    evened = pixels * (255.0 / numpy.maximum(light, 1.0))[:, :, None]
    return numpy.clip(evened, 0, 255).astype(numpy.uint8)

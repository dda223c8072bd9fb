"""Hard pages for the text layer, drawn with Pillow: straight prose, skewed by +1, -3 and
+5 degrees (not straightened), sideways and upside down (not turned), a table with tight
word boxes, right-to-left lines with digits and Latin words, Chinese, two columns; and
how an extractor's text compares with the engine's; and three of the realistic pages (a
ruled invoice table, a form of boxes, a streaked fax). Shared by ``bench/extractors.py``
and the tests.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image
from realistic_pages import realistic_cases
from synthetic_pages import CJK, SANS, SERIF, draw_page, prose

DPI = 300
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Case:
    image: Image.Image
    languages: str


def _prose_page(seed: int = 3) -> Image.Image:
    return draw_page(prose(seed, 12), dpi=DPI, font=SERIF, points=11, noise=True, seed=seed).image


def _turned(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=degrees % 90 == 0, fillcolor=255)


def _table() -> Image.Image:
    rows = [
        "Item  Qty  Price  Total",
        "screw4 12 0,35 4,20",
        "a#b,50% 3 1,10 3,30",
        "M6x20 100 0,08 8,00",
        "nut-M6 100 0,05 5,00",
        "washer/6 200 0,01 2,00",
    ]
    return draw_page(rows, dpi=DPI, font=SANS, points=10, noise=True, seed=5).image


def _right_to_left() -> Image.Image:
    lines = ["שלום עולם 2024 והמשך", "המסמך נסרק ב-PDF במשרד", "חשבונית מספר 4711 מיום 12/03"]
    return draw_page(lines, dpi=DPI, font=SANS, points=14, separator="\n", noise=True, seed=6).image


def _chinese() -> Image.Image:
    lines = ["扫描文件变成可搜索的文档", "每一页都保留原始图像", "文字层不可见但可以复制"]
    return draw_page(lines, dpi=DPI, font=CJK, points=16, separator="", noise=True, seed=7).image


def _two_columns() -> Image.Image:
    left = draw_page(prose(11, 10), dpi=DPI, size_inches=(4.1, 8.27), font=SERIF, points=10, seed=8).image
    right = draw_page(prose(12, 10), dpi=DPI, size_inches=(4.1, 8.27), font=SERIF, points=10, seed=9).image
    page = Image.new("L", (left.width + right.width, left.height), 255)
    page.paste(left, (0, 0))
    page.paste(right, (left.width, 0))
    return page


CASES: dict[str, Callable[[], Case]] = {
    "straight": lambda: Case(_prose_page(), "eng"),
    "skew+1": lambda: Case(_turned(_prose_page(), 1), "eng"),
    "skew-3": lambda: Case(_turned(_prose_page(), -3), "eng"),
    "skew+5": lambda: Case(_turned(_prose_page(), 5), "eng"),
    "sideways": lambda: Case(_turned(_prose_page(), 90), "eng"),
    "upside-down": lambda: Case(_turned(_prose_page(), 180), "eng"),
    "tight table": lambda: Case(_table(), "eng"),
    "right-to-left": lambda: Case(_right_to_left(), "heb+eng"),
    "chinese": lambda: Case(_chinese(), "chi_sim"),
    "two columns": lambda: Case(_two_columns(), "eng"),
    # From the realistic pages: cells of a ruled table, a form of boxes, a fax whose streak
    # made Tesseract cut every line in two.
    "ruled invoice": lambda: Case(_realistic("invoice-table"), "eng"),
    "boxed form": lambda: Case(_realistic("boxed-form"), "eng"),
    "streaked fax": lambda: Case(_realistic("fax-streak"), "eng"),
}


def _realistic(name: str) -> Image.Image:
    (case,) = realistic_cases([name])
    image = case.image
    if case.dpi[0] != case.dpi[1]:  # a fax's rows, made square
        image = image.convert("L").resize((image.width, round(image.height * case.dpi[0] / case.dpi[1])))
    return image


def lines_of(text: str) -> list[str]:
    clean = _BIDI_CONTROLS.sub("", unicodedata.normalize("NFKC", text))
    return [" ".join(line.split()) for line in clean.splitlines() if line.strip()]


def compare(engine: str, extracted: str) -> tuple[float, float]:
    """(share of the engine's lines found whole and in order, character error rate)."""
    want, got = lines_of(engine), lines_of(extracted)
    if not want:
        return 1.0, 0.0
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    found = sum(block.size for block in matcher.get_matching_blocks())
    a, b = "\n".join(want), "\n".join(got)
    edits = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            edits += max(i2 - i1, j2 - j1)
    return found / len(want), edits / max(1, len(a))

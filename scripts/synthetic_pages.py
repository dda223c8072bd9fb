"""Drawing synthetic scanned pages with Pillow, recording where every word went.

Shared by scripts/make_samples.py, the tests and the benchmarks: a page is drawn from
lines of text, and each word's pixel box is kept as ground truth for OCR and alignment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_FOLDERS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/wqy")
SANS = "DejaVuSans.ttf"
SERIF = "DejaVuSerif.ttf"
CJK = "wqy-zenhei.ttc"


def font_path(name: str) -> str:
    """The path of a font from Debian's fonts-dejavu-core or fonts-wqy-zenhei."""
    for folder in FONT_FOLDERS:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"font {name} not found in {', '.join(FONT_FOLDERS)}")


@dataclass(frozen=True)
class DrawnWord:
    text: str
    box: tuple[int, int, int, int]
    """left, top, right, bottom in pixels, the ink of the word."""


@dataclass
class DrawnPage:
    image: Image.Image
    dpi: int
    lines: list[list[DrawnWord]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(" ".join(word.text for word in line) for line in self.lines)

    @property
    def words(self) -> list[DrawnWord]:
        return [word for line in self.lines for word in line]


def draw_page(
    lines: list[str],
    *,
    dpi: int = 300,
    size_inches: tuple[float, float] = (5.83, 8.27),
    font: str = SANS,
    points: float = 12.0,
    margin_inches: float = 0.75,
    separator: str = " ",
    noise: bool = False,
    seed: int = 0,
) -> DrawnPage:
    """A grayscale page with ``lines`` set in ``font`` at ``points`` pt, scanned at ``dpi``.

    ``separator`` splits lines into words (``""`` treats every character as a word, as
    for Chinese). ``noise`` adds paper tone, speckles and a slight blur, like a scan."""
    width, height = round(size_inches[0] * dpi), round(size_inches[1] * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(font_path(font), round(points * dpi / 72))
    left = top = round(margin_inches * dpi)
    line_height = round(points * 1.6 * dpi / 72)
    space = draw.textlength(" ", font=face)
    page = DrawnPage(image=image, dpi=dpi)
    y = top
    for line in lines:
        x = float(left)
        drawn: list[DrawnWord] = []
        for word in line.split(separator) if separator else list(line):
            if not word.strip():
                x += space
                continue
            draw.text((x, y), word, font=face, fill=0)
            drawn.append(DrawnWord(word, _ink_box(image, draw.textbbox((x, y), word, font=face))))
            x += draw.textlength(word, font=face) + (space if separator else 0)
        page.lines.append(drawn)
        y += line_height
    if noise:
        page.image = _scanned(image, seed)
    return page


def _ink_box(image: Image.Image, around: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """The exact box of the dark pixels near a word (font metrics round outwards)."""
    left, top = max(0, int(around[0]) - 2), max(0, int(around[1]) - 2)
    region = image.crop((left, top, int(around[2]) + 3, int(around[3]) + 3))
    ink = region.point(lambda v: 255 if v < 128 else 0).getbbox()
    if ink is None:
        return (round(around[0]), round(around[1]), round(around[2]), round(around[3]))
    return (left + ink[0], top + ink[1], left + ink[2], top + ink[3])


def _scanned(image: Image.Image, seed: int) -> Image.Image:
    generator = random.Random(seed)
    toned = image.point(lambda v: 235 + v * 20 // 255 if v > 128 else v + 25)
    speckles = ImageDraw.Draw(toned)
    for _ in range(image.width * image.height // 20000):
        x, y = generator.randrange(image.width), generator.randrange(image.height)
        speckles.point((x, y), fill=generator.randrange(90, 200))
    return toned.filter(ImageFilter.GaussianBlur(0.6))


PROSE = [
    "The quarterly report was filed on the fourth of March",
    "after the auditors had checked every invoice twice.",
    "Shipping costs rose by twelve percent in the north,",
    "while the southern depots saved almost nine percent",
    "by moving deliveries to the early morning hours.",
    "Please keep this summary with the signed contracts",
    "and send any questions to the records office.",
]


def prose(page_number: int, lines: int = 7) -> list[str]:
    """Plain English lines for page ``page_number``, different on every page."""
    generator = random.Random(page_number)
    chosen = [PROSE[(page_number + i) % len(PROSE)] for i in range(lines)]
    heading = f"Page {page_number}: memo number {generator.randrange(100, 999)}"
    return [heading, *chosen]


def office_scans(folder: Path, count: int) -> list[Path]:
    """``count`` full A4 pages of prose (40 lines of 11 pt), scanned at 300 dpi with noise,
    as PNG files in ``folder``: what an office scanner gives, for the benchmarks."""
    paths = []
    for number in range(1, count + 1):
        lines = [line for part in range(6) for line in prose(number * 10 + part)][:40]
        page = draw_page(lines, size_inches=(8.27, 11.69), points=11, noise=True, seed=number)
        path = folder / f"scan-{number:03d}.png"
        page.image.save(path, dpi=(300, 300))
        paths.append(path)
    return paths

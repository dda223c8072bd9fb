"""Realistic hard pages with known text: what people really scan, fax and photograph.

    .venv/bin/python scripts/realistic_pages.py OUT_DIR [--cases NAME,...] [--previews]

writes every case (or the named ones) to OUT_DIR in its own file format, with its truth
text beside it (``NAME.truth.txt``) and, with ``--previews``, a small PNG of each page.

Each page is drawn with Pillow from lines of text in the DejaVu fonts that
``synthetic_pages`` uses, then made real with numpy and OpenCV: phone photos (a sheet on a
wooden table in perspective with a shadow, an open book with its neighbour page, a faded
thermal receipt on a dark desk) saved as JPEG at quality 80 whose EXIF says 72 dpi, as
phones write; faxes in fine (204x196 dpi) and standard mode (204x98 dpi: pixels twice as
tall as wide) as 1-bit Group 4 TIFFs, one of them with a scanner-glass streak down the
page; a faded photocopy, bleed-through, a colour form, a ruled form, two columns,
white-on-black headings, an invoice with a ruled table, turned and askew pages and a
German page, as 300 dpi PNGs. Everything is seeded: the same cases come out every time.

The truth is exactly the text drawn, line by line in reading order: columns one after
the other, a form's fields box by box (label, then value), a table row by row. Rules,
boxes, streaks, the neighbour page of the book and the back page showing through are not
text of the page and are not in it. ``word_recall`` and ``cer`` score an OCR's text
against it.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps
from synthetic_pages import SANS, SERIF, font_path

SANS_BOLD = "DejaVuSans-Bold.ttf"
SERIF_BOLD = "DejaVuSerif-Bold.ttf"
SERIF_ITALIC = "DejaVuSerif-Italic.ttf"
MONO = "DejaVuSansMono.ttf"
MONO_BOLD = "DejaVuSansMono-Bold.ttf"
A4 = (8.27, 11.69)
PHONE_FRAME = (2268, 3024)  # a 12 MP phone camera's 3024x4032, three quarters of it a side
FAX_WIDTH = 1728  # pixels in a fax line: 8.47 inches at 204 dpi

Cell = tuple[float, str, str]
"""(x, text, anchor): Pillow's anchor "la", "ma" or "ra" makes x the text's left edge,
middle or right edge; the top of the line's ascenders is the row's y."""


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    """What the page is, in a few words."""
    image: Image.Image
    truth: tuple[str, ...]
    """The lines drawn, in reading order."""
    languages: str = "eng"
    """Tesseract's codes for the page's language, for ``-l`` when it is named."""
    file_format: str = "png"
    """How the page is saved: "png", "jpeg" (quality 80, EXIF and JFIF saying ``dpi``) or
    "g4" (a 1-bit TIFF, CCITT Group 4)."""
    dpi: tuple[int, int] = (300, 300)

    @property
    def text(self) -> str:
        return "\n".join(self.truth)

    @property
    def suffix(self) -> str:
        return {"png": ".png", "jpeg": ".jpg", "g4": ".tif"}[self.file_format]

    def encode(self) -> bytes:
        """The page's file, in its format, declaring its resolution."""
        buffer = io.BytesIO()
        if self.file_format == "jpeg":
            self.image.save(buffer, "JPEG", quality=80, dpi=self.dpi, exif=_phone_exif(self.dpi))
        elif self.file_format == "g4":
            self.image.convert("1").save(buffer, "TIFF", compression="group4", dpi=self.dpi)
        else:
            self.image.save(buffer, "PNG", dpi=self.dpi)
        return buffer.getvalue()


def _phone_exif(dpi: tuple[int, int]) -> Image.Exif:
    """EXIF as a phone writes it: stored upright, and a resolution of 72 dpi that says
    nothing about the paper."""
    exif = Image.Exif()
    exif[0x010F] = "Generic"  # Make
    exif[0x0110] = "Phone camera"  # Model
    exif[0x0112] = 1  # Orientation: as stored
    exif[0x011A] = float(dpi[0])  # XResolution
    exif[0x011B] = float(dpi[1])  # YResolution
    exif[0x0128] = 2  # ResolutionUnit: inches
    return exif


# Text -----------------------------------------------------------------------------------

ENGLISH = [
    "The committee met on Tuesday morning to review the budget for the coming year.",
    "Most of the discussion was about the rising cost of heating in the older buildings.",
    "A new boiler was installed in the east wing last autumn, and it has already cut fuel use by a fifth.",
    "The west wing still runs on the original system, which dates from 1987.",
    "Several members asked whether the repairs could be spread over two or three years.",
    "The treasurer pointed out that a loan would cost more in the long run than paying now.",
    "After a short debate, the motion to replace the roof first was carried by nine votes to four.",
    "Work is expected to begin in May and to last about eleven weeks, weather permitting.",
    "During that time the main entrance will be closed and visitors should use the side door on Mill Lane.",
    "The library will move to the ground floor of the annex until the end of August.",
    "Opening hours remain the same: Monday to Friday from 9:00 to 17:30, Saturday until noon.",
    "We thank the volunteers who sorted more than 4,000 books before the move.",
    "Their patience and good humour made a difficult job much easier for everyone.",
    "The annual report shows that membership grew by 6.5 percent, to a total of 1,248.",
    "Younger readers in particular have joined since the reading club started in the spring.",
    "The club meets every second Thursday and is free for children under twelve.",
    "Donations covered about a third of the cost of the new shelves and reading lamps.",
    "A full list of donors is printed on the back page of this newsletter.",
    "The garden behind the hall was replanted with herbs, roses and a small apple tree.",
    "Please do not park on the gravel path, as delivery vans need to reach the kitchen.",
    "Lost property is kept in the office for one month and then given to charity.",
    "The next general meeting will take place on 14 October at 19:00 in the small hall.",
    "Members who cannot attend may send their questions in writing to the secretary.",
    "Minutes of this meeting are available on request from the front desk.",
    "Shipping costs rose by twelve percent in the north, while the southern depots saved money.",
    "Every invoice must carry the order number, or it cannot be paid on time.",
    "Our drivers covered 38,500 kilometres in March without a single accident.",
    "The warehouse in Leeds will close for stocktaking on the last two days of June.",
    "Customers were informed by letter and most of them placed their orders early.",
    "Returns fell to 2.1 percent after the new packaging was introduced.",
    "The sales team visited forty shops in the region and opened eleven new accounts.",
    "A training day on the new ordering system is planned for the first week of July.",
    "Staff who work night shifts will be offered a separate session in the afternoon.",
    "Questions about holiday pay should be sent to the payroll office, not to your manager.",
    "The canteen now serves a hot vegetarian dish every day of the week.",
    "Fire doors must be kept closed at all times and never propped open with a chair.",
    "The alarm will be tested every Wednesday at 10:30 for about one minute.",
    "If it sounds at any other time, leave the building by the nearest exit.",
    "Gather at the assembly point in the car park and wait for the fire warden.",
    "Do not return to collect coats or bags until you are told it is safe.",
]

GERMAN = [
    "Die Stadtverwaltung hat beschlossen, die Öffnungszeiten des Bürgerbüros zu verlängern.",
    "Ab dem 1. März ist das Büro montags bis freitags von 8 bis 18 Uhr geöffnet.",
    "Für größere Anliegen empfiehlt es sich, vorher einen Termin zu vereinbaren.",
    "Die Straße vor dem Rathaus wird im Frühjahr vollständig erneuert.",
    "Während der Bauarbeiten ist die Zufahrt nur über die Schlossgasse möglich.",
    "Anwohner erhalten eine Parkerlaubnis für den Platz hinter der Kirche.",
    "Die Gebühren für Müllabfuhr und Straßenreinigung bleiben in diesem Jahr unverändert.",
    "Wer Fragen zur Grundsteuer hat, wendet sich bitte an das Steueramt im zweiten Stock.",
    "Im Sommer öffnet das Freibad schon um sieben Uhr morgens.",
    "Schülerinnen und Schüler zahlen nur die Hälfte des üblichen Eintrittspreises.",
    "Der Förderverein sucht noch Helfer für das große Straßenfest im September.",
    "Außerdem werden Kuchenspenden für den Verkaufsstand gern angenommen.",
    "Die Bücherei übernimmt ab sofort auch die Ausleihe von Spielen und Hörbüchern.",
    "Ältere Mitbürger können sich die Medien auf Wunsch nach Hause bringen lassen.",
    "Bitte beachten Sie, dass Fundsachen nur drei Monate aufbewahrt werden.",
    "Danach gehen sie in das Eigentum der Gemeinde über oder werden gespendet.",
    "Der Bürgermeister dankt allen, die bei der Räumung nach dem Unwetter geholfen haben.",
    "Über zweihundert Freiwillige waren drei Tage lang im Einsatz.",
    "Die Schäden an der Brücke über die Süßach werden bis Ende Mai behoben.",
    "Bis dahin gilt dort eine Höchstgeschwindigkeit von 30 km/h.",
    "Größere Fahrzeuge über 7,5 Tonnen müssen die Umleitung über Nußdorf nehmen.",
    "Weitere Auskünfte erteilt das Bauamt unter der Telefonnummer 0761 44 82 19.",
    "Die Sprechstunde des Ortsvorstehers findet jeden ersten Dienstag im Monat statt.",
    "Anträge auf Zuschüsse für Vereine müssen bis zum 30. April eingereicht werden.",
    "Der Wochenmarkt zieht während der Bauzeit auf den Schulhof um.",
    "Hundebesitzer werden gebeten, die Grünanlagen sauber zu halten.",
    "Im Gemeindesaal wird am Samstag ein Flohmarkt zugunsten der Kindertagesstätte veranstaltet.",
    "Die Feuerwehr übt am Mittwochabend an der alten Mühle, es kann dabei laut werden.",
    "Wegen eines Wasserrohrbruchs bleibt die Turnhalle bis auf Weiteres geschlossen.",
    "Fahrräder dürfen nicht an den Geländern der Fußgängerbrücke abgestellt werden.",
]


def paragraphs(seed: int, count: int, *, sentences: list[str] = ENGLISH, length: int = 4) -> list[str]:
    """``count`` paragraphs of ``length`` sentences each (one or two less now and then),
    drawn without repeats (while they last) from ``sentences`` in an order fixed by
    ``seed``."""
    generator = random.Random(seed)
    pool: list[str] = []
    chosen = []
    for _ in range(count):
        size = max(2, length - generator.choice((0, 0, 1, 2)))
        if len(pool) < size:
            pool += generator.sample(sentences, len(sentences))
        chosen.append(" ".join(pool[:size]))
        del pool[:size]
    return chosen


# Typesetting ------------------------------------------------------------------------------


@cache
def _face(name: str, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(name), pixels)


class Sheet:
    """A page being set: every line drawn through it is recorded, in the order drawn, as
    the page's truth."""

    def __init__(
        self,
        size_inches: tuple[float, float] = A4,
        dpi: int = 300,
        *,
        mode: str = "L",
        paper: int | tuple[int, int, int] = 255,
        margin: float = 1.0,
    ) -> None:
        self.dpi = dpi
        self.image = Image.new(mode, (round(size_inches[0] * dpi), round(size_inches[1] * dpi)), paper)
        self.draw = ImageDraw.Draw(self.image)
        self.left = self.top = round(margin * dpi)
        self.right, self.bottom = self.image.width - self.left, self.image.height - self.top
        self.truth: list[str] = []

    def px(self, inches: float) -> int:
        return round(inches * self.dpi)

    def face(self, font: str, points: float) -> ImageFont.FreeTypeFont:
        return _face(font, round(points * self.dpi / 72))

    @staticmethod
    def advance(face: ImageFont.FreeTypeFont, leading: float = 1.35) -> int:
        """The distance from one line's top to the next's."""
        return round(face.size * leading)

    def row(self, y: float, cells: Iterable[Cell], face: ImageFont.FreeTypeFont, fill=0) -> int:
        """Draws ``cells`` on one line and records them as one truth line, in the order
        given; returns the next line's y."""
        cells = list(cells)
        for x, text, anchor in cells:
            self.draw.text((x, y), text, font=face, fill=fill, anchor=anchor)
        self.truth.append(" ".join(text for _, text, _ in cells))
        return round(y) + self.advance(face)

    def line(
        self, y: float, text: str, face: ImageFont.FreeTypeFont, fill=0, *, x: float | None = None
    ) -> int:
        return self.row(y, [(self.left if x is None else x, text, "la")], face, fill)

    def centred(self, y: float, text: str, face: ImageFont.FreeTypeFont, fill=0) -> int:
        return self.row(y, [((self.left + self.right) / 2, text, "ma")], face, fill)

    def paragraph(
        self,
        y: float,
        text: str,
        face: ImageFont.FreeTypeFont,
        fill=0,
        *,
        x: float | None = None,
        width: float | None = None,
        indent: float = 0,
        justify: bool = False,
        leading: float = 1.35,
    ) -> int:
        """Sets ``text`` wrapped to ``width`` (the margins' by default), as many lines as
        fit above the bottom margin; returns the y after it (below the margin when the
        paragraph did not fit)."""
        x = self.left if x is None else x
        width = self.right - x if width is None else width
        lines = wrap(text, face, width, indent)
        for number, words in enumerate(lines):
            if y + face.size > self.bottom:
                return self.bottom + 1
            start = x + (indent if number == 0 else 0)
            room = width - (indent if number == 0 else 0)
            last = number == len(lines) - 1
            self._set_words(start, y, words, face, fill, room if justify and not last else None)
            self.truth.append(" ".join(words))
            y = round(y) + self.advance(face, leading)
        return round(y)

    def _set_words(self, x: float, y: float, words: list[str], face, fill, justified: float | None) -> None:
        space = face.getlength(" ")
        if justified is not None and len(words) > 1:
            space = (justified - sum(face.getlength(word) for word in words)) / (len(words) - 1)
        for word in words:
            self.draw.text((x, y), word, font=face, fill=fill, anchor="la")
            x += face.getlength(word) + space

    def flow(self, y: float, texts: Iterable[str], face, fill=0, *, gap: float = 0.5, **options) -> int:
        """Sets paragraphs one after the other, ``gap`` lines apart, until the page is full."""
        for text in texts:
            y = self.paragraph(y, text, face, fill, **options)
            if y > self.bottom:
                break
            y += round(self.advance(face) * gap)
        return y


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float, indent: float = 0) -> list[list[str]]:
    """``text``'s words in lines no wider than ``width`` (the first ``indent`` narrower)."""
    lines: list[list[str]] = [[]]
    for word in text.split():
        room = width - (indent if len(lines) == 1 else 0)
        if lines[-1] and face.getlength(" ".join([*lines[-1], word])) > room:
            lines.append([])
        lines[-1].append(word)
    return lines


# Making pages real ---------------------------------------------------------------------


def _array(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def _image(array: np.ndarray, mode: str | None = None) -> Image.Image:
    return Image.fromarray(np.clip(array, 0, 255).round().astype(np.uint8), mode)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32) * sigma


def _smooth(rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    """Noise between about -1 and 1 that changes smoothly over ``shape / cells`` pixels."""
    coarse = rng.uniform(-1, 1, cells).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _scanned(
    image: Image.Image, rng: np.random.Generator, *, blur: float = 0.7, noise: float = 4.0
) -> Image.Image:
    """An office scan of a page: ink never quite black, paper never quite white, the
    scanner's blur and noise, and dust specks."""
    page = 24 + _array(image) * ((238 - 24) / 255)
    page = cv2.GaussianBlur(page, (0, 0), blur) + _noise(rng, page.shape, noise)
    count = page.shape[0] * page.shape[1] // 40000
    ys, xs = rng.integers(0, page.shape[0], count), rng.integers(0, page.shape[1], count)
    page[ys, xs] = rng.uniform(40, 170, count)[:, None] if page.ndim == 3 else rng.uniform(40, 170, count)
    return _image(page, image.mode)


def _inked(image: Image.Image, paper: tuple[int, int, int], ink: tuple[int, int, int]) -> np.ndarray:
    """A gray page as ``ink`` on ``paper``, RGB floats."""
    gray = _array(image.convert("L"))[..., None] / 255
    return gray * np.float32(paper) + (1 - gray) * np.float32(ink)


def _wood(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A wooden table top, RGB floats: planks with their grain running down the frame."""
    x = np.arange(width, dtype=np.float32)[None, :]
    wobble = _smooth(rng, (height, width), (5, 4)) * 70 + _smooth(rng, (height, width), (30, 24)) * 8
    rings = np.sin((x + wobble) * (2 * np.pi / 47))
    fibres = cv2.resize(rng.standard_normal((height // 50, width), dtype=np.float32), (width, height))
    tone = 0.45 * rings + 0.3 * fibres + 0.5 * _smooth(rng, (height, width), (3, 4))
    plank = width / 2.7
    shade = rng.uniform(-0.12, 0.12, 4).astype(np.float32)[(x // plank).astype(int)]
    wood = np.float32([128, 84, 50]) * (1 + 0.13 * tone + shade)[..., None]
    seam = np.abs((x + plank * 0.4) % plank - plank / 2) > plank / 2 - 4
    return np.where(seam[..., None], wood * 0.45, wood)


def _cloth(rng: np.random.Generator, height: int, width: int, colour: tuple[int, int, int]) -> np.ndarray:
    """A dark desk mat or cloth, RGB floats: its colour, unevenly lit, with a fine weave."""
    tone = 1 + 0.08 * _smooth(rng, (height, width), (4, 4)) + _noise(rng, (height, width), 0.05)
    return np.float32(colour) * tone[..., None]


def _quad(
    frame: tuple[int, int],
    size: tuple[int, int],
    scale: float,
    degrees: float,
    keystone: float,
    *,
    centre: tuple[float, float] = (0.5, 0.5),
    jitter: np.ndarray | None = None,
) -> np.ndarray:
    """Where a photographed sheet's corners (top left, top right, bottom right, bottom
    left) land in the frame: ``size`` times ``scale``, its far (top) edge ``keystone``
    narrower as when the phone is tilted, turned ``degrees`` clockwise about ``centre``."""
    half_w, half_h = size[0] * scale / 2, size[1] * scale / 2
    top = half_w * (1 - keystone)
    corners = np.float32([[-top, -half_h], [top, -half_h], [half_w, half_h], [-half_w, half_h]])
    turn = np.deg2rad(degrees)
    rotation = np.float32([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    placed = corners @ rotation.T + np.float32([frame[0] * centre[0], frame[1] * centre[1]])
    return placed + (0 if jitter is None else jitter)


def _lighting(
    rng: np.random.Generator, height: int, width: int, *, fall: float, hand: tuple[float, float, float]
) -> np.ndarray:
    """How much light reaches each pixel: brighter towards a window at the top left,
    ``fall`` darker at the far corner, dimmer at the frame's edges, and the soft shadow
    of the phone and the hand holding it centred at ``hand`` (x, y as parts of the frame,
    and how much light it takes)."""
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    light = 1 - fall * (0.6 * x + 0.4 * y) - 0.12 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    distance = np.sqrt(((x - hand[0]) / 0.34) ** 2 + ((y - hand[1]) / 0.22) ** 2)
    shadow = 1 / (1 + np.exp((distance - 1) / 0.08))  # a penumbra, not a hard edge
    light = light * (1 - hand[2] * shadow) * (1 + 0.03 * _smooth(rng, (height, width), (3, 3)))
    return light.astype(np.float32)


def _photograph(
    sheet: np.ndarray,
    background: np.ndarray,
    corners: np.ndarray,
    light: np.ndarray,
    rng: np.random.Generator,
    *,
    blur: float = 1.1,
    cast: tuple[float, float, float] = (1.04, 1.0, 0.9),
    lift: float = 14,
) -> Image.Image:
    """A phone photo of ``sheet`` (RGB floats) lying on ``background`` with its
    ``corners`` where ``_quad`` put them: its shadow on the table, the room's light, a
    warm white balance, a little defocus and sensor noise (JPEG's comes when saved)."""
    height, width = background.shape[:2]
    source = np.float32([[0, 0], [sheet.shape[1], 0], [sheet.shape[1], sheet.shape[0]], [0, sheet.shape[0]]])
    matrix = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    flat = cv2.warpPerspective(sheet, matrix, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones(sheet.shape[:2], np.float32), matrix, (width, height))[..., None]
    # The sheet lies a little above the table: its shadow falls away from the window.
    offset = np.float32([[1, 0, lift], [0, 1, lift * 1.4]])
    shadow = cv2.GaussianBlur(cv2.warpAffine(mask[..., 0], offset, (width, height)), (0, 0), lift * 1.5)
    frame = background * (1 - 0.5 * shadow[..., None]) * (1 - mask) + flat * mask
    frame = frame * light[..., None] * np.float32(cast)
    frame = cv2.GaussianBlur(frame, (0, 0), blur)
    frame += _noise(rng, frame.shape, 2.5) + _noise(rng, frame.shape[:2], 2.5)[..., None]
    return _image(frame, "RGB")


def _not_flat(sheet: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A sheet that once was folded and does not lie flat: its lines wave gently, by up
    to ``amplitude`` pixels, and its bulges catch a little more light."""
    height, width = sheet.shape[:2]
    bulge = _smooth(rng, (height, width), (3, 3))
    source_y = np.arange(height, dtype=np.float32)[:, None] + amplitude * bulge
    source_x = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], (height, width))
    waved = _remap(sheet, np.ascontiguousarray(source_x), source_y.astype(np.float32), 255)
    return waved * (1 + 0.04 * bulge)[..., None]


def _remap(image: np.ndarray, source_x: np.ndarray, source_y: np.ndarray, fill: float = 0) -> np.ndarray:
    return cv2.remap(
        image, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(fill,) * 4
    )


# Phone photos -------------------------------------------------------------------------------


def _newsletter(seed: int, dpi: int) -> Sheet:
    sheet = Sheet(dpi=dpi, margin=0.9)
    y = sheet.line(sheet.top, "Riverside Community Library", sheet.face(SANS_BOLD, 16))
    y = sheet.line(y, "Newsletter for members, spring 2024", sheet.face(SERIF_ITALIC, 11))
    y += sheet.px(0.25)
    sheet.flow(y, paragraphs(seed, 10), sheet.face(SERIF, 11), indent=sheet.px(0.3), gap=0.3)
    return sheet


def photo_table() -> Case:
    """A printed newsletter page photographed on a wooden table."""
    rng = np.random.default_rng(101)
    width, height = PHONE_FRAME
    sheet = _newsletter(seed=11, dpi=216)
    paper = _not_flat(_inked(sheet.image, paper=(247, 245, 238), ink=(32, 30, 34)), rng, 9)
    corners = _quad(
        PHONE_FRAME, sheet.image.size, 1.0, 7.0, 0.07, centre=(0.5, 0.51), jitter=rng.normal(0, 10, (4, 2))
    )
    light = _lighting(rng, height, width, fall=0.38, hand=(0.9, 0.95, 0.38))
    image = _photograph(paper, _wood(rng, height, width), corners, light, rng)
    return Case(
        "photo-table", "phone photo of a page on a table", image, tuple(sheet.truth), "eng", "jpeg", (72, 72)
    )


def _book_page(seed: int, dpi: int, running_head: str, number: int, *, left: bool) -> Sheet:
    sheet = Sheet((5.5, 8.5), dpi, margin=0.7)
    sheet.left, sheet.right = (sheet.px(0.6), sheet.px(4.75)) if left else (sheet.px(0.75), sheet.px(4.9))
    small = sheet.face(SERIF_ITALIC, 9)
    y = sheet.centred(sheet.px(0.45), running_head, small)
    page_end = sheet.bottom
    sheet.bottom -= sheet.px(0.3)
    sheet.flow(
        y + sheet.px(0.2),
        paragraphs(seed, 5, length=5),
        sheet.face(SERIF, 10.5),
        indent=sheet.px(0.25),
        gap=0,
    )
    sheet.centred(page_end - sheet.px(0.05), str(number), sheet.face(SERIF, 9))
    return sheet


def photo_book() -> Case:
    """A page of an open book photographed from above, its neighbour page at the left;
    the pages curve down into the spine, which shades them."""
    rng = np.random.default_rng(102)
    dpi = 300
    neighbour = _book_page(21, dpi, "A Short History of the Coast", 86, left=True)
    page = _book_page(22, dpi, "The Harbour Town", 87, left=False)
    paper = (238, 232, 214)  # a book's cream paper
    cover = round(0.22 * dpi)
    spread_w, spread_h = page.image.width * 2 + 2 * cover, page.image.height + 2 * cover
    spread = np.empty((spread_h, spread_w, 3), np.float32)
    spread[:] = np.float32([92, 34, 30])  # the cover's cloth binding
    for index, sheet in enumerate((neighbour, page)):
        x = cover + index * sheet.image.width
        spread[cover:-cover, x : x + sheet.image.width] = _inked(sheet.image, paper, (28, 26, 26))
    spread = _curved_pages(spread, cover, page.image.width, rng)
    width, height = PHONE_FRAME
    # The camera is over the right-hand page: the spine a fifth of the way across.
    corners = _quad(PHONE_FRAME, (spread_w, spread_h), 0.98, -2.5, 0.05, centre=(0.21, 0.5))
    light = _lighting(rng, height, width, fall=0.3, hand=(0.05, 0.9, 0.3))
    image = _photograph(spread, _cloth(rng, height, width, (58, 62, 70)), corners, light, rng, blur=1.0)
    return Case(
        "photo-book", "phone photo of an open book page", image, tuple(page.truth), "eng", "jpeg", (72, 72)
    )


def _curved_pages(spread: np.ndarray, cover: int, page_width: int, rng: np.random.Generator) -> np.ndarray:
    """The flat spread as the camera sees the pages of an open book: near the spine they
    curve away (squeezed across, their lines bending up) and fall into shadow."""
    height, width = spread.shape[:2]
    spine = width / 2
    x = np.arange(width, dtype=np.float32)[None, :]
    y = np.arange(height, dtype=np.float32)[:, None]
    distance = np.abs(x - spine) / page_width  # 0 at the spine, 1 at the outer edge
    squeeze, reach = 0.9, 0.1
    # Each pixel shows the page point this far from the spine: steps near it cover more page.
    along = distance + squeeze * reach * (1 - np.exp(-distance / reach))
    source_x = np.broadcast_to(spine + np.sign(x - spine) * along * page_width, (height, width))
    rise = 0.05 * page_width * np.exp(-distance / 0.12) * (1 + 0.4 * (y - height / 2) / height)
    source_y = np.broadcast_to(y + rise, (height, width)).astype(np.float32)
    curved = _remap(spread, np.ascontiguousarray(source_x, np.float32), np.ascontiguousarray(source_y), 0)
    curved[curved.sum(axis=2) == 0] = np.float32([92, 34, 30])
    gutter = 1 - 0.55 * np.exp(-distance / 0.035) - 0.12 * np.exp(-distance / 0.25)
    return curved * gutter[..., None] * (1 + 0.02 * _smooth(rng, (height, width), (4, 6)))[..., None]


RECEIPT_ITEMS = [
    ("Whole milk 2L", "1.45"),
    ("Sourdough loaf", "2.80"),
    ("Free range eggs x12", "3.25"),
    ("Cheddar 400g", "3.90"),
    ("Bananas 1.12kg @ 0.94/kg", "1.05"),
    ("Orange juice 1L", "1.65"),
    ("Washing up liquid", "1.20"),
    ("Tea bags 80", "2.35"),
    ("Dark chocolate 100g", "1.10"),
    ("Carrier bag", "0.10"),
]


def _receipt_print(dpi: int = 203) -> Sheet:
    """A supermarket receipt as the printer lays it out: 80 mm paper, 72 mm of print."""
    sheet = Sheet((3.15, 5.6), dpi, margin=0.2)
    sheet.left, sheet.right = sheet.px(0.16), sheet.px(2.99)
    face, bold = _face(MONO, 22), _face(MONO_BOLD, 34)
    y = sheet.centred(sheet.px(0.3), "CORNER MARKET", bold)
    for text in ("12 Station Road, Bristol", "Tel 0117 496 0832", "VAT No. GB 284 1937 55"):
        y = sheet.centred(y, text, face)
    y = _dashes(sheet, y, face)
    y = sheet.row(y, [(sheet.left, "14/03/2024 17:42", "la"), (sheet.right, "Till 2 No. 0815", "ra")], face)
    y = _dashes(sheet, y, face)
    for item, price in RECEIPT_ITEMS:
        y = sheet.row(y, [(sheet.left, item, "la"), (sheet.right, price, "ra")], face)
    y = _dashes(sheet, y, face)
    y = sheet.row(y, [(sheet.left, "10 ITEMS", "la"), (sheet.right, "18.85", "ra")], face)
    y = sheet.row(y, [(sheet.left, "TOTAL", "la"), (sheet.right, "18.85", "ra")], bold)
    y = sheet.row(y, [(sheet.left, "CARD **** 4821", "la"), (sheet.right, "18.85", "ra")], face)
    y = sheet.row(y, [(sheet.left, "VAT 5.0%", "la"), (sheet.right, "0.43", "ra")], face)
    y = _dashes(sheet, y, face)
    for text in ("Thank you for shopping with us", "Please keep your receipt"):
        y = sheet.centred(y, text, face)
    sheet.image = sheet.image.crop((0, 0, sheet.image.width, y + sheet.px(0.4)))
    return sheet


def _dashes(sheet: Sheet, y: int, face: ImageFont.FreeTypeFont) -> int:
    """A dashed rule across the receipt (drawn, not text)."""
    middle = y + face.size // 2
    for x in range(sheet.left, sheet.right, 14):
        sheet.draw.rectangle((x, middle - 1, x + 8, middle + 1), fill=0)
    return y + sheet.advance(face)


def receipt() -> Case:
    """A faded thermal receipt photographed on a dark desk: gray print fading down the
    strip, two dead dots of the print head, the paper bowed and seen at an angle, a glare."""
    rng = np.random.default_rng(103)
    sheet = _receipt_print()
    printed = _array(sheet.image) < 128  # a thermal head prints dots or nothing
    strip = np.where(printed, 255.0, 0.0).astype(np.float32)
    fade = np.linspace(0.6, 0.33, strip.shape[0], dtype=np.float32)[:, None]
    fade = fade * (1 + 0.15 * _smooth(rng, strip.shape, (8, 3)))
    for column in rng.integers(sheet.left, sheet.right, 2):  # dead heating elements
        fade[:, column : column + 2] = 0
    ink = cv2.GaussianBlur(strip * fade, (0, 0), 0.8) / 255
    paper = np.float32([246, 247, 250]) * (1 - ink[..., None]) + np.float32([80, 78, 84]) * ink[..., None]
    height, width = paper.shape[:2]
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    # The strip, curled off a roll, bows sideways; its edges curl up into shade.
    source_x = np.broadcast_to(x + 18 * np.sin(np.pi * y / height), (height, width)).astype(np.float32)
    source_y = np.broadcast_to(y, (height, width)).astype(np.float32)
    paper = (
        _remap(paper, source_x, source_y, 0) * (1 - 0.18 * ((x - width / 2) / (width / 2)) ** 2)[..., None]
    )
    frame = (1512, 2016)
    corners = _quad(
        frame, (width, height), 1.5, 4.0, 0.08, centre=(0.48, 0.5), jitter=rng.normal(0, 6, (4, 2))
    )
    light = _lighting(rng, frame[1], frame[0], fall=0.25, hand=(0.1, 0.1, 0.2))
    x = np.linspace(0, 1, frame[0], dtype=np.float32)[None, :]
    y = np.linspace(0, 1, frame[1], dtype=np.float32)[:, None]
    glare = 0.25 * np.exp(-(((x - 0.6) / 0.12) ** 2 + ((y - 0.62) / 0.08) ** 2))  # a lamp's reflection
    image = _photograph(
        paper, _cloth(rng, frame[1], frame[0], (38, 36, 40)), corners, light + glare, rng, lift=6
    )
    return Case("receipt", "thermal receipt photo", image, tuple(sheet.truth), "eng", "jpeg", (72, 72))


# Faxes ---------------------------------------------------------------------------------------


def _fax_letter(seed: int, header: str) -> Sheet:
    """A fax cover letter at 204 dpi, square pixels, with the sending machine's header
    line along its top."""
    sheet = Sheet((FAX_WIDTH / 204, A4[1]), 204, margin=0.9)
    sheet.line(sheet.px(0.12), header, sheet.face(MONO, 8), x=sheet.px(0.25))
    y = sheet.line(sheet.px(0.75), "NORTHGATE SUPPLIES LTD", sheet.face(SANS_BOLD, 16))
    y = sheet.line(y, "Unit 7, Canal Wharf, Leeds LS11 5PS", sheet.face(SANS, 10))
    y = sheet.line(y + sheet.px(0.25), "FAX MESSAGE", sheet.face(SANS_BOLD, 20))
    label = sheet.face(SANS_BOLD, 11)
    fields = [
        ("To:", "Harbour Freight, accounts department"),
        ("Fax:", "+44 117 496 0377"),
        ("From:", "Priya Raman"),
        ("Date:", "14 March 2024"),
        ("Pages:", "1 (including this page)"),
        ("Subject:", f"Credit note for order {55120 + seed}"),
    ]
    y += sheet.px(0.15)
    for name, value in fields:
        y = sheet.row(y, [(sheet.left, name, "la"), (sheet.left + sheet.px(1.1), value, "la")], label)
    y += sheet.px(0.2)
    sheet.draw.rectangle((sheet.left, y, sheet.right, y + 3), fill=0)
    body = sheet.face(SERIF, 11)
    y = sheet.flow(y + sheet.px(0.3), paragraphs(seed, 4), body, gap=0.6)
    for text in ("Kind regards,", "Priya Raman, credit control"):
        y = sheet.line(y, text, body)
    return sheet


def _faxed(sheet: Sheet, vertical_dpi: int, rng: np.random.Generator, *, streak: bool = False) -> Image.Image:
    """The page as a fax machine sends it: ``vertical_dpi`` lines per inch (196 fine, 98
    standard: every pixel twice as tall as wide), thresholded to black and white with
    ragged edges, speckles, two lines garbled in transmission and, with ``streak``, the
    dark line a speck on the scanner glass draws down the whole page."""
    page = _array(sheet.image)
    page = cv2.resize(page, (page.shape[1], round(A4[1] * vertical_dpi)), interpolation=cv2.INTER_AREA)
    page = cv2.GaussianBlur(page, (0, 0), 0.6) + _noise(rng, page.shape, 28)
    white = page > 150
    height, width = white.shape
    count = height * width // 6000
    ys, xs = rng.integers(0, height - 2, count), rng.integers(0, width - 2, count)
    for dy, dx in ((0, 0), (0, 1), (1, 0)):  # specks of one to three pixels
        keep = rng.random(count) < (1.0 if dy == dx == 0 else 0.4)
        white[ys[keep] + dy, xs[keep] + dx] = False
    for row in rng.integers(height // 4, height - 10, 2):
        white[row] = np.where(rng.random(width) < 0.3, ~white[row], white[row])
    if streak:
        middle = round(width * 0.46) + np.round(1.5 * _smooth(rng, (height, 1), (6, 1))[:, 0]).astype(int)
        for offset in range(4):
            white[np.arange(height), middle + offset] = False
    return Image.fromarray(white)


def fax(mode: str) -> Callable[[], Case]:
    """A fax received in ``mode`` ("fine" or "standard"), or a fine one with a streak."""
    vertical = 98 if mode == "standard" else 196

    def case() -> Case:
        seed = {"fine": 31, "standard": 32, "streak": 33}[mode]
        header = f"14/03/2024 09:4{seed % 10} FROM +44 113 496 0718 NORTHGATE SUPPLIES P.001/001"
        sheet = _fax_letter(seed, header)
        image = _faxed(sheet, vertical, np.random.default_rng(seed), streak=mode == "streak")
        kind = {
            "fine": "fax, fine mode 204x196 dpi",
            "standard": "fax, standard mode 204x98 dpi",
            "streak": "fax with a scanner-glass streak",
        }[mode]
        return Case(f"fax-{mode}", kind, image, tuple(sheet.truth), "eng", "g4", (204, vertical))

    return case


# Office scans -----------------------------------------------------------------------------------


def _report(seed: int, title: str, *, font: str = SERIF, points: float = 11) -> Sheet:
    """A plain page of prose: a title, a line under it, paragraphs to the bottom margin."""
    sheet = Sheet()
    y = sheet.line(sheet.top, title, sheet.face(SANS_BOLD, 15))
    y = sheet.line(y, f"Reference {seed:04d}/24, page 1 of 2", sheet.face(SANS, 9))
    sheet.flow(y + sheet.px(0.2), paragraphs(seed, 8), sheet.face(font, points), gap=0.6)
    return sheet


def faded_copy() -> Case:
    """A photocopy of a photocopy: thin gray toner on gray paper, the strokes worn thin
    and in patches almost gone, a dark band where the lid did not close, toner dust."""
    rng = np.random.default_rng(104)
    sheet = _report(41, "Minutes of the building committee")
    # Each copy loses toner at the strokes' edges: half a pixel a side.
    ink = 1 - cv2.dilate(_array(sheet.image), np.ones((2, 2), np.uint8)) / 255
    height, width = ink.shape
    thin = np.clip(0.72 + 0.35 * _smooth(rng, (height, width), (9, 7)), 0.32, 1.0)
    paper = 192 + 12 * _smooth(rng, (height, width), (3, 3))
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    paper = paper - 80 * np.exp(-x / 0.025)  # the edge of the copier lid
    page = paper - ink * thin * 88
    page = cv2.GaussianBlur(page, (0, 0), 1.2) + _noise(rng, page.shape, 7.5)
    count = height * width // 2000
    page[rng.integers(0, height, count), rng.integers(0, width, count)] -= rng.uniform(30, 90, count)
    return Case("faded-copy", "faded photocopy", _image(page, "L"), tuple(sheet.truth))


def bleed_through() -> Case:
    """Thin paper printed on both sides: the back page's text shows through, mirrored."""
    rng = np.random.default_rng(105)
    front = _report(51, "Notes on the spring inspection")
    back = _report(52, "Appendix: list of defects found")
    shown = cv2.GaussianBlur(1 - _array(ImageOps.mirror(back.image)) / 255, (0, 0), 2.5)
    shown = np.roll(shown, (front.px(0.09), front.px(0.04)), axis=(0, 1))  # the back's lines fall between
    page = _inked(front.image, (244, 238, 222), (30, 28, 30)) * (1 - 0.22 * shown[..., None])
    return Case(
        "bleed-through",
        "bleed-through from the back page",
        _scanned(_image(page, "RGB"), rng),
        tuple(front.truth),
    )


NAVY, TEAL, PALE = (24, 52, 112), (0, 118, 122), (255, 248, 205)
PERMIT_FORM = [
    ("1 Applicant", [
        [("Surname", "Kowalski")],
        [("First names", "Maria Teresa")],
        [("Date of birth", "07/11/1984")],
        [("Address", "41 Rosemary Gardens")],
        [("Postcode", "BF3 9QT"), ("Town", "Bridgeford")],
        [("Telephone", "07700 900412")],
        [("Email", "m.kowalski@example.org")],
    ]),
    ("2 Vehicle", [
        [("Registration", "KX19 ZPL")],
        [("Make and model", "Skoda Fabia Estate")],
        [("Colour", "Dark grey"), ("Fuel", "Petrol")],
    ]),
    ("3 Permit", [
        [("Zone", "C Riverside")],
        [("Start date", "01/04/2024"), ("Duration", "12 months")],
        [("Fee paid", "85.00 GBP")],
    ]),
]  # fmt: skip
"""The colour form's sections: rows of (label, value) fields, one or two a row."""


def colour_form() -> Case:
    """A council's application form filled in on screen: a blue title band, coloured
    section bars, pale field boxes with dark blue labels and black values."""
    rng = np.random.default_rng(106)
    sheet = Sheet(mode="RGB", paper=(255, 255, 255), margin=0.8)
    sheet.draw.rectangle((0, 0, sheet.image.width, sheet.px(1.5)), fill=NAVY)
    y = sheet.line(sheet.px(0.35), "CITY OF BRIDGEFORD", sheet.face(SANS_BOLD, 12), (255, 255, 255))
    sheet.line(y, "Application for a residents parking permit", sheet.face(SANS_BOLD, 18), (255, 255, 255))
    label, value = sheet.face(SANS, 10), sheet.face(MONO, 11.5)
    y = sheet.px(1.9)
    for title, rows in PERMIT_FORM:
        bar = sheet.advance(label, 1.9)
        sheet.draw.rectangle((sheet.left - 20, y, sheet.right + 20, y + bar), fill=TEAL)
        sheet.line(y + bar // 4, title, sheet.face(SANS_BOLD, 11), (255, 255, 255))
        y += bar + sheet.px(0.15)
        for fields in rows:
            _coloured_fields(sheet, y, fields, label, value)
            y += sheet.advance(value, 2.3)
        y += sheet.px(0.2)
    declaration = (
        "I declare that the information on this form is correct and that the vehicle is kept at the "
        "address given. A permit issued on false information will be withdrawn without refund."
    )
    y = sheet.paragraph(y, declaration, sheet.face(SANS, 9), (60, 60, 60))
    _coloured_fields(sheet, y + sheet.px(0.3), [("Signed", "M. Kowalski")], label, value)
    image = _scanned(sheet.image, rng, blur=0.8, noise=3.0)
    return Case("colour-form", "colour form, filled in", image, tuple(sheet.truth))


def _coloured_fields(sheet: Sheet, y: int, fields: list[tuple[str, str]], label, value) -> None:
    """One row of the colour form: each field's label in dark blue, its value typed in a
    pale box that reaches to the next field (or the margin); one truth line, left to right."""
    starts = [sheet.left, sheet.left + sheet.px(3.45)][: len(fields)]
    ends = [*(start - sheet.px(0.2) for start in starts[1:]), sheet.right]
    words = []
    for (name, text), start, end in zip(fields, starts, ends, strict=True):
        box = start + sheet.px(1.35 if start == sheet.left else 1.1)
        sheet.draw.rectangle(
            (box, y - 14, end, y + value.size + 14), fill=PALE, outline=(150, 160, 190), width=2
        )
        sheet.draw.text((start, y + 4), name, font=label, fill=NAVY, anchor="la")
        sheet.draw.text((box + 18, y), text, font=value, fill=(0, 0, 0), anchor="la")
        words += [name, text]
    sheet.truth.append(" ".join(words))


def boxed_form() -> Case:
    """A delivery note of ruled boxes, each with a small label in its corner and the
    typed value below it; the truth reads box by box, left to right, row by row."""
    rng = np.random.default_rng(107)
    sheet = Sheet(margin=0.7)
    y = sheet.line(sheet.top, "DELIVERY NOTE No. 30418", sheet.face(SANS_BOLD, 18))
    y = sheet.line(
        y, "Keep one copy with the goods and return one signed copy to the carrier.", sheet.face(SANS, 9)
    )
    rows = [
        [("Consignor", "Baltic Timber AS, Riga"), ("Consignee", "Harwood Joinery Ltd, Preston")],
        [("Date of dispatch", "11.03.2024"), ("Vehicle", "LT 4471 B"), ("Driver", "K. Jansons")],
        [("Description of goods", "Spruce boards 22 x 150 mm, kiln dried, planed all round")],
        [("Packages", "14 bundles"), ("Gross weight", "6,240 kg"), ("Volume", "11.8 m3")],
        [("Place of delivery", "Yard 3, Harwood Joinery, Marsh Lane, Preston PR1 8HT")],
        [("Remarks", "Two bundles wet on arrival, noted by the driver")],
        [("Received by", "S. Whitfield"), ("Signature", ""), ("Date", "13.03.2024")],
    ]
    label, value = sheet.face(SANS, 8), sheet.face(SANS, 12)
    y += sheet.px(0.3)
    height = sheet.px(0.75)
    for row in rows:
        width = (sheet.right - sheet.left) / len(row)
        for number, (name, text) in enumerate(row):
            left = round(sheet.left + number * width)
            sheet.draw.rectangle((left, y, round(left + width), y + height), outline=0, width=4)
            sheet.line(y + 14, name, label, x=left + 18)
            if text:
                sheet.line(y + height - value.size - 30, text, value, x=left + 18)
            else:  # a signature is not text
                _scribble(sheet.draw, left + 60, y + height // 2, rng)
        y += height
    sheet.line(
        y + sheet.px(0.3), "Claims for damage must be made within 48 hours of delivery.", sheet.face(SANS, 9)
    )
    return Case("boxed-form", "form of ruled boxes", _scanned(sheet.image, rng), tuple(sheet.truth))


def _scribble(draw: ImageDraw.ImageDraw, x: int, y: int, rng: np.random.Generator) -> None:
    """A handwritten signature's loops."""
    t = np.linspace(0, 6 * np.pi, 200)
    xs = x + t * 28 + 30 * np.sin(t * 1.7)
    ys = y + 40 * np.sin(t) * np.exp(-t / 12) + rng.normal(0, 1.5, t.size)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=20, width=5)


def two_columns() -> Case:
    """A newsletter article: a title across the page, then two justified columns."""
    rng = np.random.default_rng(108)
    sheet = Sheet(margin=0.8)
    y = sheet.line(sheet.top, "Rail freight returns to the valley", sheet.face(SERIF_BOLD, 22))
    y = sheet.line(y, "By our transport correspondent", sheet.face(SERIF_ITALIC, 11))
    y += sheet.px(0.25)
    gutter = sheet.px(0.35)
    width = (sheet.right - sheet.left - gutter) / 2
    sheet.bottom = y + sheet.px(7.3)
    body = sheet.face(SERIF, 10.5)
    texts = paragraphs(61, 12)
    for column in range(2):
        x = sheet.left + column * (width + gutter)
        sheet.flow(
            y,
            texts[column * 6 : column * 6 + 6],
            body,
            x=x,
            width=width,
            justify=True,
            indent=sheet.px(0.2),
            gap=0,
        )
    middle = round(sheet.left + width + gutter / 2)
    sheet.draw.line((middle, y, middle, sheet.bottom), fill=120, width=2)
    return Case("two-columns", "two-column article", _scanned(sheet.image, rng), tuple(sheet.truth))


def inverted_headings() -> Case:
    """A safety instruction sheet whose headings are white on black bars."""
    rng = np.random.default_rng(109)
    sheet = Sheet()
    y = sheet.line(sheet.top, "Site safety instructions", sheet.face(SANS_BOLD, 18))
    heading, body = sheet.face(SANS_BOLD, 12), sheet.face(SERIF, 11)
    titles = ("1 BEFORE YOU START", "2 FIRE AND ALARMS", "3 VISITORS", "4 DELIVERIES", "5 REPORTING")
    for title, text in zip(titles, paragraphs(71, len(titles), length=5), strict=True):
        y += sheet.px(0.25)
        bar = sheet.advance(heading, 1.8)
        sheet.draw.rectangle((sheet.left - 20, y, sheet.right, y + bar), fill=0)
        sheet.line(y + (bar - heading.size) // 2, title, heading, 255, x=sheet.left)
        y = sheet.paragraph(y + bar + sheet.px(0.15), text, body)
    box = (sheet.left, y + sheet.px(0.3), sheet.right, y + sheet.px(1.1))
    sheet.draw.rectangle(box, fill=40)
    sheet.paragraph(
        box[1] + sheet.px(0.15),
        "In an emergency call 999, then the site office on extension 2040.",
        sheet.face(SANS_BOLD, 12),
        255,
        x=sheet.left + 30,
    )
    return Case(
        "inverted-headings", "white-on-black headings", _scanned(sheet.image, rng), tuple(sheet.truth)
    )


INVOICE_ROWS = [
    ("1", "Cable clips 7 mm, white, box of 100", "6", "3.40", "20.40"),
    ("2", "Twin and earth cable 2.5 mm, 50 m", "2", "48.90", "97.80"),
    ("3", "Double socket, switched", "24", "4.15", "99.60"),
    ("4", "LED downlight 6 W, warm white", "18", "7.25", "130.50"),
    ("5", "Consumer unit, 10 way", "1", "112.00", "112.00"),
    ("6", "Junction box 30 A", "12", "1.85", "22.20"),
    ("7", "Insulation tape, black", "10", "0.95", "9.50"),
    ("8", "Lever connectors, 3 way, pack of 50", "3", "11.60", "34.80"),
]


def invoice_table() -> Case:
    """An invoice whose items stand in a fully ruled table (number, description,
    quantity, unit price, total), its header row shaded; the truth reads row by row."""
    rng = np.random.default_rng(110)
    sheet = Sheet(margin=0.8)
    y = sheet.line(sheet.top, "HARTLEY & SONS ELECTRICAL SUPPLIES", sheet.face(SANS_BOLD, 16))
    small = sheet.face(SANS, 9.5)
    y = sheet.line(y, "22 Foundry Street, Sheffield S3 8RN, telephone 0114 496 0251", small)
    y = sheet.line(y + sheet.px(0.35), "INVOICE", sheet.face(SANS_BOLD, 24))
    face = sheet.face(SANS, 10.5)
    for text in (
        "Invoice no. INV-2024-0311",
        "Date: 14 March 2024",
        "Customer: Brookside Property Services, 5 Elm Court, Derby DE1 2TF",
        "Order reference: PO 77812",
    ):
        y = sheet.line(y, text, face)
    y += sheet.px(0.3)
    edges = [
        sheet.left,
        sheet.left + sheet.px(0.55),
        sheet.left + sheet.px(4.1),
        sheet.left + sheet.px(4.75),
        sheet.left + sheet.px(5.75),
        sheet.right,
    ]
    height = sheet.advance(face, 2.0)
    top = y
    sheet.draw.rectangle((edges[0], y, edges[-1], y + height), fill=215)
    header = ("No.", "Description", "Qty", "Unit price", "Total")
    for cells, font in [(header, sheet.face(SANS_BOLD, 10.5)), *((row, face) for row in INVOICE_ROWS)]:
        placed = [(edges[0] + 20, cells[0], "la"), (edges[1] + 20, cells[1], "la")]
        placed += [(edges[k + 1] - 20, cells[k], "ra") for k in (2, 3, 4)]
        sheet.row(y + (height - font.size) // 2, placed, font)
        y += height
    for x in edges:
        sheet.draw.line((x, top, x, y), fill=0, width=3)
    for row in range(len(INVOICE_ROWS) + 2):
        sheet.draw.line((edges[0], top + row * height, edges[-1], top + row * height), fill=0, width=3)
    y += sheet.px(0.15)
    for name, amount, font in (
        ("Subtotal", "526.80", face),
        ("VAT 20%", "105.36", face),
        ("Total due", "632.16", sheet.face(SANS_BOLD, 11)),
    ):
        y = sheet.row(y, [(edges[4] - 20, name, "ra"), (edges[5] - 20, amount, "ra")], font)
    y += sheet.px(0.4)
    terms = (
        "Payment within 30 days to Northshire Bank, sort code 40-11-62, account 31926604. "
        "Thank you for your business."
    )
    sheet.paragraph(y, terms, small)
    return Case("invoice-table", "invoice with a ruled table", _scanned(sheet.image, rng), tuple(sheet.truth))


# Turned pages and German ----------------------------------------------------------------------


@cache
def _letter() -> Sheet:
    return _report(81, "Quarterly report of the northern depots", points=11)


def turned(degrees: int) -> Callable[[], Case]:
    """The same office letter scanned upright (0), turned ``degrees`` anticlockwise (90,
    180, 270) or askew (4), then given the scanner's noise."""

    def case() -> Case:
        sheet = _letter()
        if degrees % 90:
            page = sheet.image.rotate(degrees, Image.Resampling.BICUBIC, fillcolor=255)
            name, kind = f"askew-{degrees}", f"scanned {degrees} degrees askew"
        else:
            page = sheet.image.rotate(degrees, expand=True)
            name = "upright" if degrees == 0 else f"turned-{degrees}"
            kind = "plain office scan (control)" if degrees == 0 else f"scanned turned {degrees} degrees"
        return Case(name, kind, _scanned(page, np.random.default_rng(120 + degrees)), tuple(sheet.truth))

    return case


def german() -> Case:
    """A German municipal bulletin: umlauts and sharp s throughout."""
    sheet = Sheet()
    y = sheet.line(sheet.top, "Amtsblatt der Gemeinde Kirchberg", sheet.face(SANS_BOLD, 16))
    y = sheet.line(y, "Ausgabe 11 vom 14. März 2024", sheet.face(SANS, 10))
    sheet.flow(y + sheet.px(0.25), paragraphs(91, 8, sentences=GERMAN), sheet.face(SERIF, 11), gap=0.6)
    image = _scanned(sheet.image, np.random.default_rng(111))
    return Case("german", "German page (needs deu)", image, tuple(sheet.truth), "deu")


CASES: dict[str, Callable[[], Case]] = {
    "photo-table": photo_table,
    "photo-book": photo_book,
    "receipt": receipt,
    "fax-fine": fax("fine"),
    "fax-standard": fax("standard"),
    "fax-streak": fax("streak"),
    "faded-copy": faded_copy,
    "bleed-through": bleed_through,
    "colour-form": colour_form,
    "boxed-form": boxed_form,
    "two-columns": two_columns,
    "inverted-headings": inverted_headings,
    "invoice-table": invoice_table,
    "upright": turned(0),
    "turned-180": turned(180),
    "turned-90": turned(90),
    "turned-270": turned(270),
    "askew-4": turned(4),
    "german": german,
}


def realistic_cases(names: Iterable[str] | None = None) -> list[Case]:
    """Every case (or those named, in that order), drawn afresh, the same every time."""
    return [CASES[name]() for name in (CASES if names is None else names)]


def write_cases(folder: Path, cases: Iterable[Case] | None = None) -> list[tuple[Case, Path]]:
    """Writes each case's file (``NAME.png``, ``.jpg`` or ``.tif``) and its truth
    (``NAME.truth.txt``) to ``folder``; returns each case with its file."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case in realistic_cases() if cases is None else cases:
        path = folder / f"{case.name}{case.suffix}"
        path.write_bytes(case.encode())
        (folder / f"{case.name}.truth.txt").write_text(case.text + "\n", encoding="utf-8")
        written.append((case, path))
    return written


# Scoring ---------------------------------------------------------------------------------------


def _normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _strip_punctuation(token: str) -> str:
    start, end = 0, len(token)
    while start < end and unicodedata.category(token[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(token[end - 1]).startswith("P"):
        end -= 1
    return token[start:end]


def words(text: str) -> Counter[str]:
    """The words of ``text`` (NFC, punctuation stripped at their edges), counted."""
    return Counter(word for token in _normalised(text).split() if (word := _strip_punctuation(token)))


def word_recall(truth: str, text: str) -> float:
    """The share of the truth's words found in ``text``, each as often as the truth has
    it (case-sensitive, wherever it stands)."""
    wanted = words(truth)
    if not wanted:
        return 1.0
    return sum((wanted & words(text)).values()) / sum(wanted.values())


def levenshtein(a: str, b: str) -> int:
    """The edit distance between ``a`` and ``b`` (insertions, deletions, substitutions
    of one character each), row by row with numpy."""
    if len(a) < len(b):
        a, b = b, a  # a row per character of the shorter string: fewer steps in Python
    if not b:
        return len(a)
    codes = np.array([ord(c) for c in a], dtype=np.int64)
    offsets = np.arange(len(a) + 1)
    previous = offsets.copy()
    for i, character in enumerate(b, start=1):
        current = np.empty_like(previous)
        current[0] = i
        np.minimum(previous[1:] + 1, previous[:-1] + (codes != ord(character)), out=current[1:])
        # An insertion carries a cell's cost along the row: the least of (cell - its index).
        previous = np.minimum.accumulate(current - offsets) + offsets
    return int(previous[-1])


def cer(truth: str, text: str) -> float:
    """Character error rate: edits from the truth to ``text`` over the truth's length,
    both NFC with every run of whitespace (line breaks too) one space."""
    want = _normalised(truth)
    return levenshtein(want, _normalised(text)) / max(1, len(want))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--previews", action="store_true", help="also a PNG at most 1200 px high of each")
    args = parser.parse_args()
    for case, path in write_cases(args.folder, realistic_cases(args.cases.split(","))):
        print(f"{path}  {case.image.width}x{case.image.height} {case.file_format} {case.dpi}: {case.kind}")
        if args.previews:
            preview = case.image.convert("RGB")
            preview.thumbnail((1200, 1200))
            preview.save(args.folder / f"{case.name}.preview.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Inputs: expanding a scan bundle into pages, and loading one page's image.

A bundle is any mix of image files, folders of images and in-memory images (bytes or
binary file objects). Expanding it is cheap (headers only) and happens up front, so a
missing or unreadable file is reported before any OCR starts; decoding a page happens
later, in a worker, where a corrupt or truncated image is reported with its page.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .errors import InputError, PdfocrWarning, os_reason
from .options import MAX_DPI, MAX_MEGAPIXELS, MIN_DPI, ConvertOptions
from .pdfpages import HEADER_SEARCH, is_pdf, probe_pdf, read_pdf_page

log = logging.getLogger(__name__)

InputItem = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]
"""One input: a path (file or folder), the bytes of an image, or a binary file object."""

# Pillow format names pdfocr accepts, and the extensions it picks up from a folder.
SUPPORTED_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "BMP", "DIB", "GIF", "WEBP", "HEIF"}
FOLDER_EXTENSIONS = {
    ".png",
    ".jpg",
    ".jpeg",
    ".jpe",
    ".jfif",
    ".tif",
    ".tiff",
    ".bmp",
    ".gif",
    ".webp",
    ".heic",
    ".heif",
    ".pdf",
}
_SUPPORTED_NAMES = "PDF, PNG, JPEG, TIFF, BMP, GIF, WebP, HEIC/HEIF"


@dataclass(frozen=True)
class PageSource:
    """Where one page comes from: a frame of a file on disk or of an in-memory image."""

    label: str
    """How messages name the input: its path, or ``<input N>`` for in-memory data."""
    frame: int = 0
    frame_count: int = 1
    path: str | None = None
    data: bytes | None = None
    broken: str | None = None
    """Why this page cannot be read, when probing the file found it damaged (a TIFF
    whose later frame is cut): the page fails alone, the file's other pages convert."""
    is_pdf: bool = False
    """A page of a PDF (``frame`` is its 0-based index): kept as it is, a text layer
    grafted on (see :mod:`pdfocr.pdfpages`)."""
    scratch: bool = False
    """``path`` is the conversion's own copy of an input given as bytes, in its work
    folder: on this machine only (a cluster's workers get its bytes)."""
    data_frame: int | None = None
    """When ``data`` holds this page alone, not the whole file (a cluster sends a PDF's
    page as a PDF of its own): the page's index there. Messages still say ``frame``."""

    @property
    def frame_in_data(self) -> int:
        """The page's index in what ``data`` (or ``path``) holds."""
        return self.data_frame if self.data is not None and self.data_frame is not None else self.frame

    @property
    def page_number(self) -> int | None:
        """The 1-based page within a multi-page file, for messages; None for single pages."""
        return self.frame + 1 if self.frame_count > 1 else None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return Path(self.path).read_bytes()
        except OSError as error:
            raise InputError(os_reason(error), file=self.label, page=self.page_number) from None


@dataclass
class LoadedPage:
    """A decoded page, upright, ready for the engine and the page image."""

    image: Image.Image
    """The pixels as the page shows them: turned upright, transparency on white."""
    dpi: tuple[float, float]
    """The resolution of ``image`` (x, y)."""
    original: bytes | None = None
    """The file's own bytes when they can go into the PDF unchanged (a single-frame JPEG,
    PNG or TIFF that needed no flattening)."""
    rotation: int = 0
    """Degrees clockwise that ``original`` is turned to show upright (EXIF orientation)."""
    source_format: str | None = None
    """The Pillow format of the input file (``"JPEG"``, ``"PNG"``...)."""
    photo: bool = False
    """A camera's photo (its EXIF says so): the sheet in it is looked for."""


def natural_key(name: str) -> tuple[tuple[int, object], ...]:
    """Sort key putting ``page2`` before ``page10``: digit runs compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", name)
        if part
    )


def expand_inputs(
    items: Iterable[InputItem],
    on_bad: Callable[[InputError], object] | None = None,
    options: ConvertOptions | None = None,
    most: int | None = None,
) -> list[PageSource]:
    """Turn a bundle into its pages, in order: files as given, folders in natural order,
    every frame of a multi-page TIFF. Raises :class:`InputError` for the first bad input
    or page, or, given ``on_bad``, hands each bad input or page to it and carries on
    without it. What ``options`` say of inputs applies: images over ``max_megapixels``
    are refused as likely bombs, ``password`` opens PDFs that need one, a signed PDF is
    refused unless ``invalidate_digital_signatures``. Given ``most``, it stops once the
    bundle has more pages than that (a service's limit: counting the frames of a huge
    TIFF is work too)."""
    options = options or ConvertOptions()
    pages: list[PageSource] = []

    def add(found: list[PageSource]) -> None:
        for page in found:
            if page.broken is None:
                pages.append(page)
                continue
            error = InputError(page.broken, file=page.label, page=page.page_number)
            if on_bad is None:
                raise error
            on_bad(error)

    for position, item in enumerate(items, start=1):
        if most is not None and len(pages) > most:
            break
        try:
            if isinstance(item, (str, os.PathLike)):
                for path in _expand_path(Path(item)):
                    if most is not None and len(pages) > most:
                        break
                    try:
                        add(_probe(str(path), options, path=str(path), most=most))
                    except InputError as error:
                        if on_bad is None:
                            raise
                        on_bad(error)
            elif isinstance(item, (bytes, bytearray, memoryview)):
                add(_probe(f"<input {position}>", options, data=bytes(item)))
            elif hasattr(item, "read"):
                label = getattr(item, "name", None)
                label = label if isinstance(label, str) else f"<input {position}>"
                add(_probe(label, options, data=_read_stream(item, label)))
            else:
                raise InputError(
                    f"cannot read an input of type {type(item).__name__}", file=f"<input {position}>"
                )
        except InputError as error:
            if on_bad is None:
                raise
            on_bad(error)
    return pages


def _read_stream(stream: BinaryIO, label: str) -> bytes:
    try:
        data = stream.read()
    except OSError as error:
        raise InputError(os_reason(error), file=label) from None
    if not isinstance(data, bytes):
        raise InputError("a file object opened in text mode (open it with 'rb')", file=label)
    return data


def _expand_path(path: Path) -> Iterator[Path]:
    if path.is_dir():
        found = sorted(_folder_images(path), key=lambda p: natural_key(p.relative_to(path).as_posix()))
        if not found:
            raise InputError("folder contains no images", file=path)
        yield from found
    elif path.exists():
        yield path
    elif path.is_symlink():
        raise InputError("broken symbolic link", file=path)
    else:
        raise InputError("no such file or folder", file=path)


def _folder_images(folder: Path) -> Iterator[Path]:
    # Symbolic links to folders are not followed, so a link loop cannot trap the walk.
    for root, dirs, files in os.walk(folder, onerror=_unreadable_folder, followlinks=False):
        for name in sorted(d for d in dirs if d.startswith(".")):
            log.info("skipped %s: a hidden folder", Path(root) / name)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root) / name
            if name.startswith("."):
                log.info("skipped %s: a hidden file", path)
            elif path.suffix.lower() not in FOLDER_EXTENSIONS:
                log.info("skipped %s: %s", path, _why_not_taken(path))
            else:
                yield path


def _why_not_taken(path: Path) -> str:
    return "not a PDF or an image file pdfocr reads (by its extension)"


def _bomb_reason(error: Image.DecompressionBombError) -> str:
    # Pillow refuses headers claiming over twice its limit before pdfocr sees the size.
    claimed = re.search(r"\((\d+) pixels\)", str(error))
    if claimed is None:
        return f"refused as a likely decompression bomb: {error}"
    megapixels = int(claimed.group(1)) / 1e6
    return (
        f"refused: {megapixels:,.0f} megapixels is over the limit of {MAX_MEGAPIXELS:,.0f} "
        "megapixels (a decompression bomb?)"
    )


def _refuse_bombs(size: tuple[int, int], limit: float, label: str, page: int | None = None) -> None:
    megapixels = size[0] * size[1] / 1e6
    if megapixels > limit:
        raise InputError(
            f"refused: {size[0]}x{size[1]} pixels ({megapixels:,.0f} megapixels) is over the limit "
            f"of {limit:,.0f} megapixels (a decompression bomb?)",
            file=label,
            page=page,
        )


# The formats pdfocr reads, by the Pillow plugin that opens them (JPEG also opens MPO).
_OPENERS = ("PNG", "JPEG", "TIFF", "BMP", "DIB", "GIF", "WEBP", "HEIF")


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF (phones' photos) through pi-heif, a decoder only (BSD; its
    wheel carries libheif), once per process; without it such files are unsupported."""
    try:
        import pi_heif
    except ImportError:
        return
    pi_heif.register_heif_opener()


def open_image(stream: BinaryIO) -> Image.Image:
    """``Image.open`` for the formats pdfocr reads, without Pillow's process-wide pixel
    limit (``Image.MAX_IMAGE_PIXELS``): pdfocr applies its own, the ``max_megapixels``
    option, and changing Pillow's would change it for the whole application."""
    Image.init()
    _register_heif()
    prefix = stream.read(16)
    for name in _OPENERS:
        if name not in Image.OPEN:
            continue
        factory, accept = Image.OPEN[name]
        try:
            accepted = accept is None or accept(prefix)
            if accepted and not isinstance(accepted, str):  # a string: a plugin's complaint
                stream.seek(0)
                return factory(stream, "")
        except (SyntaxError, IndexError, TypeError, ValueError, OSError):
            continue
    stream.seek(0)
    with Image.open(stream) as other:  # to name the format, or raise UnidentifiedImageError
        raise InputError(f"unsupported image format {other.format} (supported: {_SUPPORTED_NAMES})")


def _unreadable_folder(error: OSError) -> None:
    # A subfolder that cannot be listed would silently drop pages from the bundle.
    raise InputError(os_reason(error), file=error.filename)


def _probe(
    label: str,
    options: ConvertOptions,
    *,
    path: str | None = None,
    data: bytes | None = None,
    most: int | None = None,
) -> list[PageSource]:
    """Read just enough of an image to check it is one pdfocr supports and count its pages
    (of a TIFF, at most ``most`` + 1)."""
    try:
        if path is not None and not stat.S_ISREG(os.stat(path).st_mode):
            raise InputError("not a regular file (a device or a pipe?)", file=label)
        if (path is not None and os.path.getsize(path) == 0) or (data is not None and not data):
            raise InputError("empty file (0 bytes)", file=label)
        if _is_pdf(path, data):
            count = probe_pdf(
                label,
                path=path,
                data=data,
                password=options.password,
                signed_ok=options.invalidate_digital_signatures,
            )
            return [
                PageSource(label, frame=index, frame_count=count, path=path, data=data, is_pdf=True)
                for index in range(count)
            ]
        with open(path, "rb") if path is not None else io.BytesIO(data or b"") as stream:
            image = open_image(stream)
            if image.format not in SUPPORTED_FORMATS:
                raise InputError(
                    f"unsupported image format {image.format} (supported: {_SUPPORTED_NAMES})", file=label
                )
            _refuse_bombs(image.size, options.max_megapixels, label)
            if image.format == "TIFF":
                return _tiff_pages(image, label, options.max_megapixels, path, data, most)
            # Only TIFF frames are pages; the frames of a GIF or WebP are an animation.
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                log.info("%s: only the first of its %d frames is used (an animation)", label, frames)
    except InputError as error:
        raise error.locate(label, None) from None
    except UnidentifiedImageError:
        raise InputError(
            f"not a PDF or a recognised image (supported: {_SUPPORTED_NAMES})", file=label
        ) from None
    except Image.DecompressionBombError as error:
        raise InputError(_bomb_reason(error), file=label) from None
    except OSError as error:
        raise InputError(os_reason(error), file=label) from None
    except Exception as error:  # Pillow reports broken headers with many exception types
        raise InputError(f"corrupt image ({_describe(error)})", file=label) from None
    return [PageSource(label=label, path=path, data=data)]


def _is_pdf(path: str | None, data: bytes | None) -> bool:
    if data is not None:
        return is_pdf(data[:HEADER_SEARCH])
    assert path is not None
    with open(path, "rb") as stream:
        return is_pdf(stream.read(HEADER_SEARCH))


def _tiff_pages(
    image: Image.Image,
    label: str,
    max_megapixels: float,
    path: str | None,
    data: bytes | None,
    most: int | None = None,
) -> list[PageSource]:
    """Every frame of a TIFF as a page (past ``most``, one more and no further). A frame
    whose directory is damaged becomes a broken page, named by its number, and ends the
    file; the frames before it convert."""
    count, broken = 1, None
    while most is None or count <= most:
        try:
            image.seek(count)
        except EOFError:
            break
        except Exception as error:  # Pillow reports a damaged directory many ways
            broken = f"corrupt or truncated image ({_describe(error)})"
            break
        try:
            _refuse_bombs(image.size, max_megapixels, label, count + 1)
        except InputError as error:
            broken = error.message
            break
        count += 1
    total = count + (broken is not None)
    pages = [PageSource(label=label, frame=f, frame_count=total, path=path, data=data) for f in range(count)]
    if broken is not None:
        pages.append(PageSource(label, count, total, path, data, broken=broken))
    return pages


def load_page(source: PageSource, options: ConvertOptions) -> LoadedPage:
    """Decode one page completely. Raises :class:`InputError` naming the file and page."""
    if source.broken is not None:
        raise InputError(source.broken, file=source.label, page=source.page_number)
    if source.is_pdf:  # force_ocr: the page rendered, to replace it
        found = read_pdf_page(
            source.label,
            source.frame_in_data,
            path=source.path,
            data=source.data,
            password=options.password,
            force=True,
        )
        return LoadedPage(image=found.image, dpi=found.pixel_dpi, source_format="PNG")
    raw = source.read()
    try:
        image = open_image(io.BytesIO(raw))
        if source.frame:
            image.seek(source.frame)
        _refuse_bombs(image.size, options.max_megapixels, source.label, source.page_number)
        image.load()
        # Phone photos are often stored sideways with an EXIF note saying so.
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1) or 1
        if orientation != 1:
            ImageOps.exif_transpose(image, in_place=True)
    except Image.DecompressionBombError as error:
        raise InputError(_bomb_reason(error), file=source.label, page=source.page_number) from None
    except InputError:
        raise
    except Exception as error:  # Pillow reports broken data with many exception types
        raise InputError(
            f"corrupt or truncated image ({_describe(error)})", file=source.label, page=source.page_number
        ) from None
    shown = _flatten_transparency(image)
    rotation = _EXIF_ROTATION.get(orientation, 0)
    # The file goes into the PDF as it is if it is one page in an encoding a PDF holds,
    # nothing was flattened, and only a JPEG needs turning (by the page's /Rotate).
    as_is = (
        source.frame_count == 1
        and image.format in ("JPEG", "MPO", "PNG", "TIFF")
        and shown is image
        and (orientation == 1 or (image.format in ("JPEG", "MPO") and rotation != 0))
    )
    photo = not options.force_dpi and is_camera_photo(image)
    declared = None if options.force_dpi else _declared_resolution(image, source, warn=not photo)
    if photo and not (declared and _likely(*declared)):
        # A camera's 72 dpi says nothing of the paper: the page is the size of a sheet.
        declared = sheet_resolution(shown.size)
    dpi = _page_resolution(shown.size, declared or (options.dpi, options.dpi))
    return LoadedPage(
        image=shown,
        dpi=dpi[::-1] if rotation in (90, 270) else dpi,
        original=raw if as_is else None,
        rotation=rotation if as_is else 0,
        source_format=image.format,
        photo=is_camera_photo(image),
    )


# EXIF orientations that are pure rotations, as degrees clockwise to turn upright.
_EXIF_ROTATION = {3: 180, 6: 90, 8: 270}


_TURN_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def turned(page: LoadedPage, clockwise: int) -> LoadedPage:
    """The page turned ``clockwise`` degrees (a multiple of 90). An original that goes into
    the PDF as it is stays so, turned by the page's rotation instead."""
    clockwise %= 360
    if clockwise == 0:
        return page
    return LoadedPage(
        image=page.image.transpose(_TURN_CLOCKWISE[clockwise]),
        dpi=page.dpi[::-1] if clockwise in (90, 270) else page.dpi,
        original=page.original,
        rotation=(page.rotation + clockwise) % 360 if page.original is not None else 0,
        source_format=page.source_format,
        photo=page.photo,
    )


def turned_point(point: tuple[float, float], size: tuple[int, int], clockwise: int) -> tuple[float, float]:
    """Where a point of an image ``size`` pixels large lies once it is turned ``clockwise``
    degrees (a multiple of 90), as :func:`turned` turns it."""
    (x, y), (width, height) = point, size
    return {0: (x, y), 90: (height - y, x), 180: (width - x, height - y), 270: (y, width - x)}[
        clockwise % 360
    ]


def _describe(error: Exception) -> str:
    return str(error) or type(error).__name__


def _flatten_transparency(image: Image.Image) -> Image.Image:
    """Transparent pixels become white paper, for the engine and on the page alike."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        # A gray image stays gray: three channels of the same values would triple it.
        shown = "L" if image.mode in ("LA", "La") else "RGB"
        return Image.alpha_composite(white, rgba).convert(shown)
    return image


# Declared resolutions outside this range come from no scanner or camera: 72 and 96 are
# screen defaults that software writes into a 300-dpi scan, making a letter page 35 x 46
# inches. They are used (the file says so), with a warning suggesting force_dpi.
LIKELY_DPI = (100.0, 2400.0)


def _fax_rows(x: float, y: float) -> bool:
    """Whether ``y`` is a fax's standard mode beside ``x`` (204 x 98 dpi, 200 x 100: rows
    half as fine as the columns)."""
    return 90.0 <= y < LIKELY_DPI[0] and 1.9 <= x / y <= 2.2


def _likely(x: float, y: float) -> bool:
    """Whether a scanner could have made this resolution (or a fax machine)."""
    return LIKELY_DPI[0] <= x <= LIKELY_DPI[1] and (LIKELY_DPI[0] <= y <= LIKELY_DPI[1] or _fax_rows(x, y))


# EXIF tags only cameras write: the maker and model (IFD0), the focal length and the
# moment the picture was taken (the Exif IFD).
_CAMERA_TAGS = (ExifTags.Base.Make, ExifTags.Base.Model)
_CAMERA_EXIF_TAGS = (ExifTags.Base.FocalLength, ExifTags.Base.DateTimeOriginal)
# Paper sizes (inches, short x long side) a photographed sheet is taken to be.
SHEETS = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}


def is_camera_photo(image: Image.Image) -> bool:
    """Whether the image is a camera's (a phone photo): its EXIF names a camera or a lens."""
    exif = image.getexif()
    if any(exif.get(tag) for tag in _CAMERA_TAGS):
        return True
    camera = exif.get_ifd(ExifTags.IFD.Exif)
    return any(camera.get(tag) for tag in _CAMERA_EXIF_TAGS)


def sheet_resolution(size: tuple[int, int]) -> tuple[float, float]:
    """The resolution at which an image of ``size`` pixels is a sheet of paper: A4 or
    Letter, whichever its proportions are nearer to (a photo's 4:3 is Letter's 1.29)."""
    short, long = sorted(size)
    aspect = long / max(1, short)
    inches = min(SHEETS.values(), key=lambda sheet: abs(sheet[1] / sheet[0] - aspect))[1]
    dpi = long / inches
    return dpi, dpi


def _declared_resolution(
    image: Image.Image, source: PageSource, warn: bool = True
) -> tuple[float, float] | None:
    """The image's declared dpi; None when it declares none or a nonsensical one. An
    unlikely one is used, with a warning (unless ``warn`` is False)."""
    declared = image.info.get("dpi")
    try:
        x, y = (float(v) for v in declared) if declared else (0.0, 0.0)
    except (TypeError, ValueError):
        x = y = 0.0
    if not (MIN_DPI <= x <= MAX_DPI and MIN_DPI <= y <= MAX_DPI):
        return None
    x, y = _tidy(x), _tidy(y)
    if warn and not _likely(x, y):
        warnings.warn(
            PdfocrWarning(
                f"{source.label}: declares {x:g} x {y:g} dpi, which no scanner makes; "
                "if the page comes out the wrong size, give the real resolution with --dpi N --force-dpi"
            ),
            stacklevel=2,
        )
    return x, y


# The sizes of a page PDF viewers accept, in points (PDF 1.7, annex C): 3 pt to 200 in.
MIN_PAGE_POINTS, MAX_PAGE_POINTS = 3.0, 14_400.0


def _page_resolution(size: tuple[int, int], dpi: tuple[float, float]) -> tuple[float, float]:
    """``dpi``, changed if need be so that the page is a size PDF viewers accept: a 1x1
    image at 300 dpi would be a quarter of a point wide, a huge one at a low dpi wider
    than 200 inches. The page is scaled as a whole where that is enough; an image over
    4,800 times longer than wide is also stretched across its short side."""
    # A thousandth of a point inside the limits, so that rounding cannot cross them.
    least, most = MIN_PAGE_POINTS + 0.001, MAX_PAGE_POINTS - 0.001
    sides = (size[0] * 72 / dpi[0], size[1] * 72 / dpi[1])
    factor = 1.0
    if max(sides) > most:
        factor = max(sides) / most
    elif min(sides) < least:
        factor = max(min(sides) / least, max(sides) / most)
    return _within(size[0], dpi[0] * factor, least, most), _within(size[1], dpi[1] * factor, least, most)


def _within(pixels: int, dpi: float, least: float, most: float) -> float:
    points = pixels * 72 / dpi
    if points < least:
        return pixels * 72 / least
    if points > most:
        return pixels * 72 / most
    return dpi


def _tidy(dpi: float) -> float:
    # PNG stores pixels per metre: 300 dpi comes back as 299.9994. Snap to the whole number.
    nearest = round(dpi)
    return float(nearest) if abs(dpi - nearest) < 0.05 else dpi


def ocr_ready(image: Image.Image) -> Image.Image:
    """The image in a mode every engine reads (1, L or RGB), transparency on white."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit scans: scale to 8 bits instead of clipping (clipping turns pages white).
        wide = image.convert("I")  # Pillow measures no big-endian 16-bit image as it is
        peak = wide.getextrema()[1]
        scale = 255 / peak if isinstance(peak, (int, float)) and peak > 255 else 1
        return wide.point(lambda v: v * scale).convert("L")
    if image.mode == "F":
        # Floating-point scans (scientific TIFFs): 0..1 or 0..255 or wider, to 8-bit gray.
        _, high = image.getextrema()
        top = float(high) if isinstance(high, (int, float)) else 255.0
        scale = 255.0 if top <= 1.0 else (255.0 / top if top > 255 else 1.0)
        return image.point(lambda v: v * scale).convert("L")
    return _flatten_transparency(image).convert("RGB")

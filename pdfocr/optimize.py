"""``optimize="lossless"``: smaller images that decode to exactly the same pixels, each
proved so after it is made (a mismatch keeps the original and warns).

- A JPEG (``/DCTDecode`` alone) goes through mozjpeg's lossless optimisation
  (``mozjpeg-lossless-optimization``, BSD): its entropy coding is redone, its DCT data
  stays as it was.
- A 1-bit image stored with Flate (or no filter), or an 8-bit gray one that holds black
  and white only, becomes CCITT Group 4 (Pillow), when that is smaller.
- Other gray and RGB Flate images are deflated again as optimised PNG data (zlib's best,
  a PNG row filter chosen per row), when that is smaller.

Images with a ``/Decode`` array, a mask, or a filter chain are left as they are.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import pikepdf
from PIL import Image

from .errors import PdfocrWarning

LEVELS = ("none", "lossless")
"""What ``optimize`` takes: ``none`` keeps every image's bytes (the default)."""


@dataclass
class Optimized:
    """What optimising a document did."""

    images: int = 0
    """Images replaced by smaller ones with the same pixels."""
    saved: int = 0
    """Bytes saved, over those images' streams."""
    kept: int = 0
    """Images whose smaller copy did not decode to the same pixels: kept as they were."""


def optimize_lossless(document: pikepdf.Pdf) -> Optimized:
    """Replace every image of ``document`` that can be stored smaller, pixel for pixel."""
    done = Optimized()
    seen: set[tuple[int, int]] = set()
    for page in document.pages:
        for image in _images(page):
            if image.objgen in seen or image.objgen == (0, 0):
                continue
            seen.add(image.objgen)
            _optimize_image(image, done)
    return done


def _images(page: pikepdf.Page) -> list[pikepdf.Stream]:
    resources: Any = page.obj.get("/Resources", {})
    xobjects: Any = resources.get("/XObject", {}) if isinstance(resources, pikepdf.Dictionary) else {}
    return [x for x in xobjects.values() if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == "/Image"]


def _optimize_image(image: pikepdf.Stream, done: Optimized) -> None:
    if any(key in image for key in ("/Decode", "/SMask", "/Mask", "/ImageMask")):
        return
    filters = image.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        if len(filters) != 1:
            return  # a filter chain: left as it is
        filters = filters[0]
    raw = image.read_raw_bytes()
    if filters == "/DCTDecode":
        smaller = _smaller_jpeg(raw)
        if smaller is not None and _same_pixels(raw, smaller, done):
            image.write(smaller, filter=pikepdf.Name.DCTDecode)
            _count(done, raw, smaller)
        return
    bits = image.get("/BitsPerComponent")
    if filters not in (None, "/FlateDecode") or bits not in (1, 8):
        return
    pixels = image.read_bytes()  # decoded once, for every step below
    if bits == 1:
        _to_group4(image, raw, pixels, done)
    elif image.get("/ColorSpace") == "/DeviceGray" and _two_levels(pixels):
        _to_group4(image, raw, pixels, done, from_gray=True)
    else:
        _redeflated(image, raw, pixels, done)


def _smaller_jpeg(raw: bytes) -> bytes | None:
    import mozjpeg_lossless_optimization

    try:
        optimized = bytes(mozjpeg_lossless_optimization.optimize(raw))
    except Exception:  # a JPEG libjpeg refuses: left as it is
        return None
    return optimized if len(optimized) < len(raw) else None


def _same_pixels(before: bytes, after: bytes, done: Optimized) -> bool:
    with Image.open(io.BytesIO(before)) as old, Image.open(io.BytesIO(after)) as new:
        same = old.mode == new.mode and old.size == new.size and old.tobytes() == new.tobytes()
    if not same:
        done.kept += 1
        warnings.warn(
            PdfocrWarning("an image's smaller copy differed in its pixels: kept as it was"), stacklevel=3
        )
    return same


def _two_levels(pixels: bytes) -> bool:
    """Whether an 8-bit gray image holds black and white only (a bilevel scan stored as
    gray): it is then the same pixels at 1 bit."""
    import numpy

    return bool(set(numpy.unique(numpy.frombuffer(pixels, numpy.uint8)).tolist()) <= {0, 255})


def _to_group4(
    image: pikepdf.Stream, raw: bytes, pixels: bytes, done: Optimized, *, from_gray: bool = False
) -> None:
    """``pixels``: the image decoded (1-bit rows padded to a byte, or 8-bit gray holding
    black and white only, with ``from_gray``)."""
    if image.get("/ColorSpace") not in ("/DeviceGray", None):
        return
    width, height = int(image.Width), int(image.Height)
    if from_gray:
        gray = Image.frombytes("L", (width, height), pixels)
        pixels = gray.point(lambda v: 255 if v else 0).convert("1").tobytes()
    bitmap = Image.frombytes("1", (width, height), pixels)
    buffer = io.BytesIO()
    bitmap.save(buffer, format="TIFF", compression="group4", strip_size=2**31 - 1)
    strip = _only_strip(buffer.getvalue())
    if strip is None or len(strip) >= len(raw):
        return

    def parameters() -> pikepdf.Dictionary:  # one for each document
        return pikepdf.Dictionary(K=-1, Columns=width, Rows=height, BlackIs1=True)

    if not _group4_decodes_to(strip, parameters(), pixels, width, height, done):
        return
    image.write(strip, filter=pikepdf.Name.CCITTFaxDecode, decode_parms=parameters())
    image.ColorSpace = pikepdf.Name.DeviceGray
    image.BitsPerComponent = 1
    _count(done, raw, strip)


def _redeflated(image: pikepdf.Stream, raw: bytes, pixels: bytes, done: Optimized) -> None:
    """A gray or RGB image deflated again as an optimised PNG (zlib's best, the PNG
    filter chosen per row), when that is smaller; its decoded bytes proved the same."""
    colour = {"/DeviceGray": ("L", 1), "/DeviceRGB": ("RGB", 3)}.get(str(image.get("/ColorSpace")))
    if colour is None:
        return
    mode, colours = colour
    width, height = int(image.Width), int(image.Height)
    buffer = io.BytesIO()
    Image.frombytes(mode, (width, height), pixels).save(buffer, format="PNG", optimize=True)
    data = _idat(buffer.getvalue())
    if len(data) >= len(raw):
        return

    def parameters() -> pikepdf.Dictionary:  # one for each document
        return pikepdf.Dictionary(Predictor=15, Colors=colours, BitsPerComponent=8, Columns=width)

    scratch = pikepdf.new()
    check = pikepdf.Stream(scratch, data)
    check.Filter, check.DecodeParms = pikepdf.Name.FlateDecode, parameters()
    if check.read_bytes() != pixels:
        done.kept += 1
        warnings.warn(
            PdfocrWarning("an image's deflated copy differed in its pixels: kept as it was"), stacklevel=3
        )
        return
    image.write(data, filter=pikepdf.Name.FlateDecode, decode_parms=parameters())
    _count(done, raw, data)


def _idat(png: bytes) -> bytes:
    """A PNG's image data (its IDAT chunks joined): a zlib stream with PNG row filters."""
    at, chunks = 8, []
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            chunks.append(png[at + 8 : at + 8 + length])
        at += 12 + length
    return b"".join(chunks)


def _only_strip(tiff: bytes) -> bytes | None:
    """The Group 4 data of a one-strip TIFF Pillow wrote."""
    with Image.open(io.BytesIO(tiff)) as written:
        tags: Any = getattr(written, "tag_v2", {})
        offsets, counts = tags.get(273), tags.get(279)
    if not offsets or not counts or len(offsets) != 1:
        return None
    return tiff[offsets[0] : offsets[0] + counts[0]]


def _group4_decodes_to(
    strip: bytes, parameters: pikepdf.Dictionary, pixels: bytes, width: int, height: int, done: Optimized
) -> bool:
    """Whether the Group 4 data, read back as a PDF reader does (qpdf's decoder, through a
    scratch document), gives exactly the image's pixels."""
    scratch = pikepdf.new()
    stream = pikepdf.Stream(scratch, strip)
    stream.Filter = pikepdf.Name.CCITTFaxDecode
    stream.DecodeParms = parameters
    stream.Width, stream.Height, stream.BitsPerComponent = width, height, 1
    stream.ColorSpace = pikepdf.Name.DeviceGray
    stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    try:
        decoded = pikepdf.PdfImage(stream).as_pil_image().convert("1").tobytes()
    except Exception:
        decoded = b""
    same = decoded == Image.frombytes("1", (width, height), pixels).tobytes()
    if not same:
        done.kept += 1
        warnings.warn(
            PdfocrWarning("an image's Group 4 copy differed in its pixels: kept as it was"), stacklevel=4
        )
    return same


def _count(done: Optimized, before: bytes, after: bytes) -> None:
    done.images += 1
    done.saved += len(before) - len(after)

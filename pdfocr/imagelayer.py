"""The image layer: a one-page PDF showing the scan itself, in its own encoding.

img2pdf embeds images without re-encoding where the PDF can hold them: a JPEG as it is
(CMYK too, with Adobe's inverted channels declared), a Group 4 TIFF strip copied, a PNG's
compressed data copied (grayscale, palette and 16-bit stay so), and 1-bit images as
CCITT Group 4. What cannot go in as it is (a frame of a multi-page TIFF, BMP, GIF, WebP,
an image whose transparency was flattened, a deskewed page) is handed over as a lossless
PNG (or Group 4) of the pixels; a photo whose pixels changed stays a JPEG.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator

import img2pdf
from PIL import Image

from .inputs import LoadedPage, ocr_ready

JPEG_QUALITY = 95
# Modes a PNG keeps exactly and img2pdf embeds as they are.
_PNG_MODES = {"1", "L", "P", "RGB", "I;16"}

logger = logging.getLogger(__name__)
_PILLOW_LIMIT = threading.Lock()


@contextlib.contextmanager
def _pillow_allows(image: Image.Image) -> Iterator[None]:
    """Pillow's process-wide pixel limit raised, while img2pdf opens the page's image, to
    at least its size: img2pdf opens images with ``Image.open``, which applies that limit
    (179 MP by default), but this page passed pdfocr's own, ``max_megapixels``, when it was
    read. The lock keeps two pages from restoring each other's limit; the limit is put
    back at once, so an application's own ``Image.open`` calls keep theirs."""
    pixels = image.width * image.height
    with _PILLOW_LIMIT:
        limit = Image.MAX_IMAGE_PIXELS
        if limit is not None and limit < pixels:
            Image.MAX_IMAGE_PIXELS = pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def embed_image(page: LoadedPage) -> tuple[bytes, int]:
    """A one-page PDF showing the page's image at ``page.dpi``, and its ``/Rotate``.

    When the original file goes in as it is and needs turning upright (EXIF orientation,
    or a page found sideways), the page carries ``/Rotate``; its media box is then the stored image's, not the
    upright one's (see :func:`pdfocr.render.render_page`)."""
    if page.original is not None:
        stored_dpi = page.dpi if page.rotation in (0, 180) else page.dpi[::-1]
        try:
            with _pillow_allows(page.image):
                embedded = img2pdf.convert(
                    page.original,
                    layout_fun=img2pdf.get_fixed_dpi_layout_fun(stored_dpi),
                    rotation=img2pdf.Rotation[str(page.rotation)],
                )
            return bytes(embedded), page.rotation
        except Exception as error:  # img2pdf refuses some valid files (16-bit TIFF, odd JPEGs)
            logger.debug("embedding the original failed (%s); embedding its pixels", error)
    # The pixels are upright already: no /Rotate.
    encoded = _encoded(page.image, page.source_format)
    with _pillow_allows(page.image):
        embedded = img2pdf.convert(
            encoded,
            layout_fun=img2pdf.get_fixed_dpi_layout_fun(page.dpi),
            rotation=img2pdf.Rotation.none,
        )
    return bytes(embedded), 0


def _encoded(image: Image.Image, source_format: str | None) -> bytes:
    """The pixels encoded in a form img2pdf embeds without decoding again: losslessly,
    except for photos (JPEG and HEIC sources) whose pixels changed, which become JPEG."""
    buffer = io.BytesIO()
    if source_format in ("JPEG", "MPO", "HEIF") and image.mode in ("L", "RGB", "CMYK"):
        # A lossless copy of a photo is several times its JPEG; quality 95 is visually
        # the same and keeps the page about the size of the input.
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    elif image.mode == "1":
        # One strip of Group 4, which img2pdf copies into the PDF as it is.
        image.save(buffer, format="TIFF", compression="group4", strip_size=2**31 - 1)
    else:
        (image if image.mode in _PNG_MODES else ocr_ready(image)).save(buffer, format="PNG")
    return buffer.getvalue()

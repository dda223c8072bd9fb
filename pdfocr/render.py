"""Rendering one page: the scan as its image layer, the OCR text as an invisible layer
on top, at the page's physical size (pixels / dpi x 72 points)."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter, Transformation

from .imagelayer import embed_image
from .inputs import LoadedPage
from .model import PageText
from .textlayer import text_layer


def page_size(page: LoadedPage) -> tuple[float, float]:
    """The upright page's size in points: pixels / dpi x 72."""
    dpi_x, dpi_y = page.dpi
    return page.image.width * 72.0 / dpi_x, page.image.height * 72.0 / dpi_y


def render_page(page: LoadedPage, text: PageText) -> bytes:
    """A one-page PDF showing ``page`` with ``text`` as an invisible layer on top."""
    width, height = page_size(page)
    image_pdf, rotation = embed_image(page)
    writer = PdfWriter(clone_from=io.BytesIO(image_pdf))
    words = PdfReader(io.BytesIO(text_layer(text, width, height, page.dpi))).pages[0]
    # The text is laid out upright; a page that shows its image turned by /Rotate has
    # its content in the stored image's orientation, so the text is turned to match.
    (combined,) = writer.pages
    combined.merge_transformed_page(words, _upright_to_stored(rotation, width, height))
    combined.compress_content_streams()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _upright_to_stored(rotation: int, width: float, height: float) -> Transformation:
    """Maps upright page coordinates to those of a page shown with ``/Rotate rotation``
    (``width`` x ``height`` being the upright size)."""
    if rotation == 90:
        return Transformation((0, 1, -1, 0, height, 0))
    if rotation == 180:
        return Transformation((-1, 0, 0, -1, width, height))
    if rotation == 270:
        return Transformation((0, -1, 1, 0, 0, width))
    return Transformation()

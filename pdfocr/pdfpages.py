"""PDF inputs: the pages of a PDF, next to images (:mod:`pdfocr.inputs`).

Probing a PDF (in the caller, up front) opens it with pikepdf, refuses what cannot be
converted without losing something (a password, dynamic XFA forms, a digital signature,
no pages, damage qpdf cannot repair) and counts its pages. Reading one page (in a worker)
tells whether it already has text, and renders it with PDFium (pypdfium2) the way a reader
sees it: its crop box, turned by its ``/Rotate``, at the resolution of its images.

The page itself is never rewritten here: the text layer drawn for it is grafted onto the
original page when the PDF is written (:mod:`pdfocr.merge`).
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pikepdf
import pypdfium2 as pdfium
from PIL import Image

from .errors import InputError, PdfocrWarning, os_reason
from .model import PageText
from .pdftext import page_words

PDF_MAGIC = b"%PDF-"

DEFAULT_RENDER_DPI = 300.0
"""Pages whose images say nothing of their resolution are rendered at this."""
MIN_RENDER_DPI, MAX_RENDER_DPI = 100.0, 600.0
"""Rendering resolution bounds: below 100 dpi Tesseract reads little; above 600 it gains
nothing and every pixel costs."""


@dataclass(frozen=True)
class PdfPage:
    """One page of a PDF, decoded for OCR."""

    image: Image.Image
    """The page as a reader sees it (crop box, ``/Rotate`` applied), in gray."""
    size: tuple[float, float]
    """Its width and height in points, as a reader sees it."""
    dpi: float
    has_text: bool
    """It already has text (born digital, or OCRed before): it is kept as it is."""
    invisible_only: bool
    """All its text is invisible (render mode 3): an earlier OCR's layer."""
    text: str
    """The text it already has."""
    has_images: bool
    """It shows at least one image; a page of vector drawings only is left alone."""
    to_read: bool
    """It is to be OCRed (``image`` is the page rendered for that; else a blank pixel)."""
    visible_text: str = ""
    """The visible text of a page read although it has some (``redo``), masked for OCR."""
    words: PageText | None = None
    """A kept page's own words (``to_read`` false; none on a page without text), in points from the shown
    page's top-left corner."""

    @property
    def pixel_dpi(self) -> tuple[float, float]:
        """The resolution, each way, that maps ``image``'s pixels onto the page exactly."""
        width, height = self.size
        return self.image.width * 72 / width, self.image.height * 72 / height


MAX_FORM_DEPTH = 12
"""Forms drawn within forms are followed this deep, looking for text and images on a
page, and taking invisible text off it (:mod:`pdfocr.graft`)."""

HEADER_SEARCH = 1024
"""Readers find a PDF's header within its first 1,024 bytes (a byte-order mark, a mail
gateway's line may come first)."""


def is_pdf(head: bytes) -> bool:
    """Whether ``head`` (the file's first bytes) is the start of a PDF."""
    return PDF_MAGIC in head[:HEADER_SEARCH]


def probe_pdf(
    label: str,
    *,
    path: str | None = None,
    data: bytes | None = None,
    password: str | None = None,
    signed_ok: bool = False,
) -> int:
    """The number of pages of a PDF that can be converted; :class:`InputError` (naming
    the file) for one that cannot. A PDF qpdf had to repair converts, with a warning; so
    does a signed PDF when ``signed_ok`` (its signature will no longer hold)."""
    with _pdf_file(label, path, data) as source:
        try:
            document = pikepdf.open(source, password=password or "")
        except pikepdf.PasswordError:
            if password:
                raise InputError("the password given does not open the PDF", file=label) from None
            raise InputError("the PDF needs a password to open (--password)", file=label) from None
        except (pikepdf.PdfError, OSError, ValueError) as error:
            raise InputError(
                f"corrupt PDF that cannot be repaired ({_first_line(error)})", file=label
            ) from None
        with document:
            _refuse_what_would_be_lost(document, label, signed_ok)
            count = len(document.pages)
            if count == 0:
                raise InputError("the PDF has no pages", file=label)
            repairs = document.get_warnings()
            if repairs:
                warnings.warn(
                    PdfocrWarning(f"{label}: a damaged PDF, repaired ({_first_line(Exception(repairs[0]))})"),
                    stacklevel=2,
                )
    return count


@contextlib.contextmanager
def _pdf_file(
    label: str, path: str | None, data: bytes | None, page: int | None = None
) -> Iterator[BinaryIO]:
    """The PDF as an open file: qpdf and PDFium take the file, not its name, which may
    not be UTF-8 text."""
    if path is None:
        yield io.BytesIO(data or b"")
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 -- closed below
    except OSError as error:
        raise InputError(os_reason(error), file=label, page=page) from None
    with stream:
        yield stream


def _refuse_what_would_be_lost(document: pikepdf.Pdf, label: str, signed_ok: bool) -> None:
    root = document.Root
    if bool(root.get("/NeedsRendering", False)):
        raise InputError(
            "a dynamic XFA form: its pages are made by the form's program, not stored in the PDF",
            file=label,
        )
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and int(form.get("/SigFlags", 0)) & 1:
        if not signed_ok:
            raise InputError(
                "digitally signed: adding a text layer would invalidate the signature "
                "(--invalidate-digital-signatures converts it anyway)",
                file=label,
            )
        warnings.warn(
            PdfocrWarning(f"{label}: digitally signed; the output's copy of the signature no longer holds"),
            stacklevel=3,
        )


def one_page_pdf(label: str, path: str, index: int, password: str | None) -> bytes:
    """Page ``index`` (0-based) of the PDF at ``path`` as a PDF of its own (what it
    inherits from its page tree copied onto it): what a cluster's worker needs of it."""
    try:
        with pikepdf.open(path, password=password or "") as document:
            single = pikepdf.new()
            single.pages.append(document.pages[index])
            out = io.BytesIO()
            single.save(out)
            return out.getvalue()
    except (pikepdf.PdfError, OSError, IndexError) as error:
        raise InputError(
            f"the page cannot be read ({_first_line(error)})", file=label, page=index + 1
        ) from None


PDFIUM_LOCK = threading.RLock()
"""Held around every use of PDFium in a process: it is not thread-safe, not even for
different documents (pypdfium2's documentation), and a service's threads share it."""


def read_pdf_page(
    label: str,
    index: int,
    *,
    path: str | None,
    data: bytes | None,
    password: str | None = None,
    force: bool = False,
    redo: bool = False,
) -> PdfPage:
    """Render page ``index`` (0-based) for OCR and tell whether it has text already;
    ``force`` renders every page (in colour: it will replace the page), ``redo`` also a
    page with text that shows images: its text is masked (rendering never shows
    invisible text, and visible text is made invisible for it), so only the images are
    read."""
    with _pdf_file(label, path, data, index + 1) as stream, PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(stream, password=password)
        except pdfium.PdfiumError as error:
            raise InputError(f"the PDF cannot be read ({error})", file=label, page=index + 1) from None
        try:
            return _read(document, index, force, redo)
        except pdfium.PdfiumError as error:  # a page qpdf repaired but PDFium cannot take
            raise InputError(f"the page cannot be read ({error})", file=label, page=index + 1) from None
        finally:
            document.close()


PREVIEW_MEGAPIXELS = 4.0
"""A page shown (a search hit) is at most this large, however tall and thin the page."""


def page_preview(path: str, number: int, width: int) -> bytes:
    """Page ``number`` (1-based) of a PDF as a PNG ``width`` pixels wide (a search hit,
    shown), or narrower if that would pass :data:`PREVIEW_MEGAPIXELS`. Raises
    :class:`InputError` for a page the PDF does not have or PDFium cannot render."""
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as error:
            raise InputError(f"the PDF cannot be read ({error})", file=path) from None
        try:
            if not 1 <= number <= len(document):
                raise InputError(f"no page {number}: the PDF has {len(document)}", file=path)
            page = document[number - 1]
            page_width, page_height = page.get_size()
            scale = min(
                width / max(page_width, 1.0), _within_page(page_width, page_height, PREVIEW_MEGAPIXELS) / 72
            )
            image = page.render(scale=scale, may_draw_forms=False).to_pil()
        except pdfium.PdfiumError as error:
            raise InputError(f"the page cannot be rendered ({error})", file=path, page=number) from None
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _read(document: pdfium.PdfDocument, index: int, force: bool, redo: bool) -> PdfPage:
    page = document[index]
    textpage = page.get_textpage()
    has_text = textpage.count_chars() > 0
    text = textpage.get_text_range().replace("\r\n", "\n").strip() if has_text else ""
    invisible_only = has_text and _invisible_only(page)
    dpi, has_images = _image_resolution(page)
    to_read = force or (has_images and (redo or not has_text))
    visible_text = ""
    if force:
        # Without its annotations: they stay on the page, over its new content.
        rendering = page.render(scale=dpi / 72, draw_annots=False, may_draw_forms=False)
        image = _gray_if_gray(rendering.to_pil())
    elif not to_read:
        image = Image.new("L", (1, 1), 255)  # not OCRed: nothing to render
    else:
        if has_text and not invisible_only:
            visible_text = _visible_text(textpage)
            _mask_text(page)  # redo: the images are read, the visible text stays as it is
        image = page.render(scale=dpi / 72, grayscale=True, may_draw_forms=False).to_pil()
    return PdfPage(
        image,
        page.get_size(),
        dpi,
        has_text=has_text,
        invisible_only=invisible_only,
        text=text,
        has_images=has_images,
        to_read=to_read,
        visible_text=visible_text,
        words=page_words(page, textpage) if not to_read else None,
    )


def _visible_text(textpage: pdfium.PdfTextPage) -> str:
    """The page's text without its invisible characters (an earlier OCR's), line by line."""
    invisible = pdfium.raw.FPDF_TEXTRENDERMODE_INVISIBLE
    characters = []
    for index in range(textpage.count_chars()):
        item = pdfium.raw.FPDFText_GetTextObject(textpage.raw, index)
        if item and pdfium.raw.FPDFTextObj_GetTextRenderMode(item) == invisible:
            continue
        characters.append(chr(pdfium.raw.FPDFText_GetUnicode(textpage.raw, index)))
    lines = "".join(characters).replace("\r\n", "\n").splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _mask_text(page: pdfium.PdfPage) -> None:
    """Make every text object of the page (also inside forms) invisible, in PDFium's
    copy only: the page is then rendered as it looks without its text."""
    invisible = pdfium.raw.FPDF_TEXTRENDERMODE_INVISIBLE
    for item in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_TEXT,), max_depth=MAX_FORM_DEPTH):
        pdfium.raw.FPDFTextObj_SetTextRenderMode(item.raw, invisible)


def _invisible_only(page: pdfium.PdfPage) -> bool:
    """Whether every text object of the page (also inside forms) is invisible."""
    texts = page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_TEXT,), max_depth=MAX_FORM_DEPTH)
    invisible = pdfium.raw.FPDF_TEXTRENDERMODE_INVISIBLE
    return all(pdfium.raw.FPDFTextObj_GetTextRenderMode(item.raw) == invisible for item in texts)


def _gray_if_gray(image: Image.Image) -> Image.Image:
    """A rendered page in gray when it has no colour (a third of the bytes as a PNG)."""
    rgb = image.convert("RGB")
    red, green, blue = rgb.split()
    if red.tobytes() == green.tobytes() == blue.tobytes():
        return red
    return rgb


def _image_resolution(page: pdfium.PdfPage) -> tuple[float, bool]:
    """The resolution the page's images are shown at (the finest), and whether it has
    any: the page is rendered at that, so OCR sees every pixel of the scan."""
    width, height = page.get_size()
    finest, found = 0.0, False
    for item in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=MAX_FORM_DEPTH):
        found = True
        try:
            pixels = item.get_px_size()
            left, bottom, right, top = item.get_bounds()
        except pdfium.PdfiumError:
            continue
        shown_w, shown_h = abs(right - left), abs(top - bottom)
        if shown_w < 1 or shown_h < 1:
            continue
        # A sideways image (turned by its matrix) has its pixel sides swapped.
        along = max(pixels[0] / shown_w, pixels[1] / shown_h)
        across = max(pixels[1] / shown_w, pixels[0] / shown_h)
        ratio = along if abs(pixels[0] / pixels[1] - shown_w / shown_h) < 0.1 else across
        finest = max(finest, ratio * 72)
    if not found:
        return DEFAULT_RENDER_DPI, False
    dpi = round(finest) if abs(finest - round(finest)) < 0.05 else finest  # 299.99998: 300
    dpi = dpi or DEFAULT_RENDER_DPI
    # Keep a page's pixels within what OCR should take (the same limit as for images).
    return min(max(dpi, MIN_RENDER_DPI), MAX_RENDER_DPI, _within_page(width, height)), True


def _within_page(width: float, height: float, megapixels: float = 50.0) -> float:
    """The highest resolution at which a page of ``width`` x ``height`` points stays
    within ``megapixels``."""
    return float((megapixels * 1e6 / max(1.0, width * height / 72 / 72)) ** 0.5)


def _first_line(error: Exception) -> str:
    """The first line of qpdf's message, without its name for the file ("stream <...>:",
    the file names itself in pdfocr's message)."""
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return re.sub(r"^stream <[^>]*>: ", "", line)

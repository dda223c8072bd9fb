"""Grafting a text layer onto a page of an input PDF, taking an earlier OCR's invisible
text off it (``redo_ocr``), and replacing what it shows by its rendering (``force_ocr``):
the only places pdfocr edits a page it did not draw.

The layer is a form XObject the size of the page as a reader sees it; it is placed on the
page's crop box within its media box, turned by its /Rotate (qpdf's placement logic). The
page's own content streams stay the very same objects, bracketed by new streams.
"""

from __future__ import annotations

import math
from typing import Any, cast

import pikepdf


def turn(page: pikepdf.Page, clockwise: int) -> None:
    """Turn the page ``clockwise`` degrees (a multiple of 90) as a reader sees it, by its
    /Rotate: nothing drawn on it changes (``rotate_pages``)."""
    rotation = (int(page.obj.get("/Rotate", 0)) + clockwise) % 360
    if rotation:
        page.obj.Rotate = rotation
    elif "/Rotate" in page.obj:
        del page.obj.Rotate


def graft(
    document: pikepdf.Pdf, page: pikepdf.Page, layer: pikepdf.Object, *, straighten: float = 0.0
) -> None:
    """Draw ``layer`` (a form XObject the size of the page as a reader sees it) over
    ``page``: the page's content streams stay the very same objects, bracketed by new
    streams (q before; as many Q as the page leaves open, and the layer, after).

    ``straighten`` (degrees counter-clockwise, ``deskew``) rotates the page's own content
    about the middle of the part a reader sees, so that a skewed scan shows straight
    while its image keeps its bytes; the layer, read from the straightened page, is not
    rotated."""
    placement = _placed(page, layer)
    contents = page.obj.get("/Contents")
    originals = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents else []
    unclosed = 0
    for operation in pikepdf.parse_content_stream(page, "q Q"):  # only these two operators
        unclosed = max(0, unclosed + (1 if str(operation.operator) == "q" else -1))
    before = pikepdf.Stream(document, b"q\n" + _rotation_about_middle(_shown_box(page), straighten))
    after = pikepdf.Stream(document, b"\n" + b"Q\n" * (unclosed + 1) + placement)
    page.obj.Contents = pikepdf.Array([before, *originals, after])


def replace_content(document: pikepdf.Pdf, page: pikepdf.Page, drawing: pikepdf.Object) -> None:
    """Make ``drawing`` (a form XObject the size of the page as a reader sees it: the page
    rendered, with its text layer) all that the page's content shows (``force_ocr``). The
    page object stays, with its boxes, /Rotate and annotations, and so does everything that
    points at it: outline, links, named destinations, page labels."""
    page.obj.Resources = pikepdf.Dictionary()
    page.obj.Contents = document.make_stream(_placed(page, drawing))


def _placed(page: pikepdf.Page, form: pikepdf.Object) -> bytes:
    """The operators that draw ``form`` (made a resource of the page) on the part of the
    page a reader sees, the way the reader sees it (turned by the page's /Rotate)."""
    name = page.add_resource(form, pikepdf.Name.XObject, prefix="OCR")
    return page.calc_form_xobject_placement(
        form, name, _shown_box(page), invert_transformations=True, allow_expand=True
    )


def remove_invisible_text(document: pikepdf.Pdf, page: pikepdf.Page) -> None:
    """Remove the text objects that show only invisible text (render mode 3: an earlier
    OCR's layer) from the page's content and from the forms it draws, however deeply
    nested (``redo_ocr``). Everything visible stays; the page's content becomes one new
    stream. A form is never edited in place, since other pages may draw it too: the
    page gets a cleaned copy, in a copy of its resources."""
    resources = page.obj.get("/Resources")
    if isinstance(resources, pikepdf.Dictionary):
        cleaned = _resources_without_invisible_text(document, resources, depth=0)
        if cleaned is not None:
            page.obj.Resources = cleaned
    content = _without_invisible_text(page)
    if content is not None:
        page.obj.Contents = document.make_stream(content)


MAX_FORM_DEPTH = 12
"""Forms drawn within forms are followed this deep (a form may, wrongly, draw itself)."""


def _resources_without_invisible_text(
    document: pikepdf.Pdf, resources: pikepdf.Dictionary, depth: int
) -> pikepdf.Dictionary | None:
    """A copy of ``resources`` whose forms show no invisible text; None when none does."""
    xobjects = resources.get("/XObject")
    if depth >= MAX_FORM_DEPTH or not isinstance(xobjects, pikepdf.Dictionary):
        return None
    replaced = {}
    for name, item in xobjects.items():
        if isinstance(item, pikepdf.Stream) and item.get("/Subtype") == "/Form":
            cleaned = _form_without_invisible_text(document, item, depth)
            if cleaned is not None:
                replaced[name] = cleaned
    if not replaced:
        return None
    copy = pikepdf.Dictionary(dict(resources.items()))
    copy.XObject = pikepdf.Dictionary({**dict(xobjects.items()), **replaced})
    return copy


def _form_without_invisible_text(
    document: pikepdf.Pdf, form: pikepdf.Stream, depth: int
) -> pikepdf.Stream | None:
    """A copy of ``form`` without its invisible text (also in the forms it draws);
    None when it has none."""
    inner = form.get("/Resources")
    resources = (
        _resources_without_invisible_text(document, inner, depth + 1)
        if isinstance(inner, pikepdf.Dictionary)
        else None
    )
    content = _without_invisible_text(form)
    if content is None and resources is None:
        return None
    copy = document.make_stream(b"")
    for key, value in form.items():
        if key not in ("/Length", "/Filter", "/DecodeParms"):
            copy[key] = value
    if content is not None:
        copy.write(content)
    else:  # only its forms changed: its own content keeps its bytes
        encoding = cast(Any, form.get("/Filter")), cast(Any, form.get("/DecodeParms"))
        copy.write(form.read_raw_bytes(), filter=encoding[0], decode_parms=encoding[1])
    if resources is not None:
        copy.Resources = resources
    return copy


def _without_invisible_text(content: pikepdf.Page | pikepdf.Stream) -> bytes | None:
    """``content`` without its BT ... ET blocks whose every shown string is drawn in
    render mode 3 (None when it has none). The render mode is followed through q/Q as
    the graphics state is."""
    kept: list[pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage] = []
    block: list[pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage] | None = None
    mode, saved, shows, visible, removed = 0, [], False, False, False
    for instruction in pikepdf.parse_content_stream(content):
        operator = str(instruction.operator)
        if operator == "q":
            saved.append(mode)
        elif operator == "Q":
            mode = saved.pop() if saved else 0
        elif operator == "Tr":
            mode = int(instruction.operands[0])
        elif operator in ("Tj", "TJ", "'", '"'):
            shows, visible = True, visible or mode != 3
        if operator == "BT":
            block, shows, visible = [instruction], False, False
        elif block is not None:
            block.append(instruction)
            if operator == "ET":
                if visible or not shows:
                    kept.extend(block)
                else:
                    removed = True
                block = None
        else:
            kept.append(instruction)
    return pikepdf.unparse_content_stream(kept + (block or [])) if removed else None


def _rotation_about_middle(box: pikepdf.Rectangle, degrees: float) -> bytes:
    """A ``cm`` operator rotating by ``degrees`` counter-clockwise about the middle of
    ``box`` (in default user space a rotation turns the same way as on the shown page,
    whatever its /Rotate); nothing for 0."""
    if not degrees:
        return b""
    middle_x, middle_y = (box.llx + box.urx) / 2, (box.lly + box.ury) / 2
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    matrix = pikepdf.Matrix(cos, sin, -sin, cos, 0, 0)
    x, y = matrix.transform((middle_x, middle_y))  # where the middle would go: move it back
    return pikepdf.Matrix(cos, sin, -sin, cos, middle_x - x, middle_y - y).encode() + b" cm\n"


def _shown_box(page: pikepdf.Page) -> pikepdf.Rectangle:
    """The part of the page a reader sees (and PDFium rendered for OCR): its crop box,
    within its media box."""
    crop, media = pikepdf.Rectangle(page.cropbox), pikepdf.Rectangle(page.mediabox)
    left, bottom = max(crop.llx, media.llx), max(crop.lly, media.lly)
    right, top = min(crop.urx, media.urx), min(crop.ury, media.ury)
    if right <= left or top <= bottom:
        return media
    return pikepdf.Rectangle(left, bottom, right, top)

"""Grafting a text layer onto a page of an input PDF, taking an earlier OCR's invisible
text off it (``redo_ocr``), and replacing what it shows by its rendering (``force_ocr``):
the only places pdfocr edits a page it did not draw.

The layer (a one-page PDF the size of the page as a reader sees it) is drawn in the page's
own content, not as a form XObject: pdfminer.six lays out text only outside forms (its
text in a form comes out with every line run into the next). Its operators are placed on
the page's crop box within its media box, turned by its /Rotate (qpdf's placement logic),
its resources added to the page's under names of their own. The page's own content
streams stay the very same objects, bracketed by new streams.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
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


def graft(document: pikepdf.Pdf, page: pikepdf.Page, layer: pikepdf.Pdf, *, straighten: float = 0.0) -> None:
    """Draw ``layer`` (a one-page PDF, the size of ``page`` as a reader sees it) over
    ``page``: the page's content streams stay the very same objects, bracketed by
    new streams (q before; as many Q as the page leaves open, and the layer, after).

    ``straighten`` (degrees counter-clockwise, ``deskew``) rotates the page's own content
    about the middle of the part a reader sees, so that a skewed scan shows straight
    while its image keeps its bytes; the layer, read from the straightened page, is not
    rotated."""
    placement = _placed(document, page, layer)
    contents = page.obj.get("/Contents")
    originals = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents else []
    unclosed = 0
    for operation in pikepdf.parse_content_stream(page, "q Q"):  # only these two operators
        unclosed = max(0, unclosed + (1 if str(operation.operator) == "q" else -1))
    before = pikepdf.Stream(document, b"q\n" + _rotation_about_middle(_shown_box(page), straighten))
    after = _compressed(document, b"\n" + b"Q\n" * (unclosed + 1) + placement)
    page.obj.Contents = pikepdf.Array([before, *originals, after])


def replace_content(document: pikepdf.Pdf, page: pikepdf.Page, drawing: pikepdf.Pdf) -> None:
    """Make ``drawing`` (a one-page PDF, the size of ``page`` as a reader sees it: the
    page rendered, with its text layer) all that the page's content shows
    (``force_ocr``). The page object stays, with its boxes, /Rotate and annotations, and so
    does everything that points at it: outline, links, named destinations, page labels."""
    page.obj.Resources = pikepdf.Dictionary()
    page.obj.Contents = _compressed(document, _placed(document, page, drawing))
    if "/StructParents" in page.obj:  # the tags it had point at content that is gone
        del page.obj.StructParents


def _placed(document: pikepdf.Pdf, page: pikepdf.Page, drawing: pikepdf.Pdf) -> bytes:
    """The operators that draw the content of ``drawing`` (a one-page PDF) on the part of
    ``page`` a reader sees, the way the reader sees it (turned by the page's /Rotate), its
    resources made the page's under new names."""
    source = drawing.pages[0]
    form = source.as_form_xobject()  # only for qpdf to place; never written
    placement = page.calc_form_xobject_placement(
        form, pikepdf.Name("/Drawing"), _shown_box(page), invert_transformations=True, allow_expand=True
    )
    (matrix,) = (
        instruction.operands
        for instruction in pikepdf.parse_content_stream(pikepdf.Stream(document, placement))
        if str(instruction.operator) == "cm"
    )
    renamed = _resources_added(document, page, drawing, source.obj.get("/Resources"))
    operations = []
    for instruction in pikepdf.parse_content_stream(source):
        named = None
        if isinstance(instruction, pikepdf.ContentStreamInstruction):
            named = _NAMED_RESOURCE.get(str(instruction.operator))
        if named is None or not instruction.operands:
            operations.append(instruction)  # inline images too
            continue
        category, which = named
        operands = list(instruction.operands)
        if isinstance(operands[which], pikepdf.Name):
            operands[which] = renamed[category].get(str(operands[which]), operands[which])
        operations.append(pikepdf.ContentStreamInstruction(operands, instruction.operator))
    return pikepdf.unparse_content_stream(
        [_instruction("q"), _instruction("cm", *matrix), *operations, _instruction("Q")]
    )


def _instruction(operator: str, *operands: Any) -> pikepdf.ContentStreamInstruction:
    return pikepdf.ContentStreamInstruction(list(operands), pikepdf.Operator(operator))


def _compressed(document: pikepdf.Pdf, content: bytes) -> pikepdf.Stream:
    """A new content stream, compressed (the document is saved without recompressing)."""
    return pikepdf.Stream(document, zlib.compress(content), Filter=pikepdf.Name.FlateDecode)


# Operators naming a resource: its category, and which operand is the name.
_NAMED_RESOURCE = {
    "Tf": ("/Font", 0),
    "Do": ("/XObject", 0),
    "gs": ("/ExtGState", 0),
    "cs": ("/ColorSpace", 0),
    "CS": ("/ColorSpace", 0),
    "sh": ("/Shading", 0),
    "scn": ("/Pattern", -1),
    "SCN": ("/Pattern", -1),
    "BDC": ("/Properties", 1),
}


def _resources_added(
    document: pikepdf.Pdf, page: pikepdf.Page, source: pikepdf.Pdf, resources: pikepdf.Object | None
) -> dict[str, dict[str, pikepdf.Name]]:
    """Add ``resources`` (of the PDF ``source``) to the page's, each under a name the page
    does not use yet; returns, per category, each old name's new one."""
    renamed: dict[str, dict[str, pikepdf.Name]] = {category: {} for category, _ in _NAMED_RESOURCE.values()}
    if not isinstance(resources, pikepdf.Dictionary):
        return renamed
    copied = document.copy_foreign(resources if resources.is_indirect else source.make_indirect(resources))
    for category, entries in copied.items():
        if category in renamed and isinstance(entries, pikepdf.Dictionary):
            for name, value in entries.items():
                renamed[category][name] = page.add_resource(value, pikepdf.Name(category), prefix="OCR")
    return renamed


class InvisibleTextRemover:
    """Takes an earlier OCR's invisible text (render mode 3) off pages of one document
    (``redo_ocr``): from their content and from the forms they draw, however deeply
    nested, also forms that draw each other. Everything visible stays. A form is never
    edited in place, since pages kept as they were may draw it too: pages redone get a
    cleaned copy (one per form, shared by them), in a copy of their resources."""

    def __init__(self, document: pikepdf.Pdf) -> None:
        self._document = document
        self._forms: dict[tuple[int, int], _Form] = {}
        self._copies: dict[tuple[int, int], pikepdf.Stream] = {}

    def remove(self, page: pikepdf.Page) -> None:
        """Take the invisible text off ``page``; its content becomes one new stream
        (unless it had none)."""
        resources = page.obj.get("/Resources")
        if isinstance(resources, pikepdf.Dictionary):
            drawn = self._drawn(resources)
            dirty = self._dirty(drawn)
            for key in drawn:
                if key in dirty and key not in self._copies:
                    self._copies[key] = self._copy(self._forms[key])
            for key in drawn:  # the copies draw the copies
                copy = self._copies.get(key)
                if copy is not None and "/Resources" in copy:
                    copy.Resources = self._rewired(copy.Resources, dirty) or copy.Resources
            rewired = self._rewired(resources, dirty)
            if rewired is not None:
                page.obj.Resources = rewired
        content = _without_invisible_text(page)
        if content is not None:
            page.obj.Contents = self._document.make_stream(content)

    def _drawn(self, resources: pikepdf.Dictionary) -> list[tuple[int, int]]:
        """Every form these resources draw, however deeply (each once), read as needed."""
        found: list[tuple[int, int]] = []
        pending = forms_in(resources)
        while pending:
            form = pending.pop()
            key = form.objgen
            if key in found:
                continue
            found.append(key)
            if key not in self._forms:
                self._forms[key] = _Form(
                    form, _without_invisible_text(form), forms_in(form.get("/Resources"))
                )
            pending += self._forms[key].draws
        return found

    def _dirty(self, drawn: list[tuple[int, int]]) -> set[tuple[int, int]]:
        """The forms that show invisible text, themselves or through the forms they draw."""
        dirty = {key for key in drawn if self._forms[key].cleaned is not None}
        changed = True
        while changed:
            changed = False
            for key in drawn:
                if key not in dirty and any(child.objgen in dirty for child in self._forms[key].draws):
                    dirty.add(key)
                    changed = True
        return dirty

    def _copy(self, form: _Form) -> pikepdf.Stream:
        copy = self._document.make_stream(b"")
        for key, value in form.stream.items():
            if key not in ("/Length", "/Filter", "/DecodeParms"):
                copy[key] = value
        if form.cleaned is not None:
            copy.write(form.cleaned)
        else:  # only the forms it draws changed: its own content keeps its bytes
            encoding = cast(Any, form.stream.get("/Filter"))
            parameters = cast(Any, form.stream.get("/DecodeParms"))
            copy.write(form.stream.read_raw_bytes(), filter=encoding, decode_parms=parameters)
        return copy

    def _rewired(self, resources: pikepdf.Object, dirty: set[tuple[int, int]]) -> pikepdf.Dictionary | None:
        """A copy of ``resources`` drawing the cleaned copies of its dirty forms; None
        when it draws none."""
        xobjects = resources.get("/XObject")
        if not isinstance(xobjects, pikepdf.Dictionary):
            return None
        replaced = {
            name: self._copies[item.objgen]
            for name, item in xobjects.items()
            if isinstance(item, pikepdf.Stream) and item.objgen in dirty
        }
        if not replaced:
            return None
        copy = pikepdf.Dictionary(dict(resources.items()))
        copy.XObject = pikepdf.Dictionary({**dict(xobjects.items()), **replaced})
        return copy


@dataclass(frozen=True)
class _Form:
    stream: pikepdf.Stream
    cleaned: bytes | None
    """Its content without its invisible text; None when it has none of its own."""
    draws: list[pikepdf.Stream]
    """The forms it draws."""


def forms_in(resources: pikepdf.Object | None) -> list[pikepdf.Stream]:
    """The form XObjects a resource dictionary holds (what ``Do`` can draw as a form)."""
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return []
    return [
        item
        for _, item in xobjects.items()
        if isinstance(item, pikepdf.Stream) and item.get("/Subtype") == "/Form"
    ]


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

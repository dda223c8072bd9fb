"""Which character codes each font of a document shows, for the fonts that are embedded
in place of those a PDF names without embedding them (:mod:`pdfocr.fontsubstitutes`):
a substitute carries the glyphs of those codes only.

The text-showing operators are followed through every content stream that can show
text: the pages', the forms they draw (each with the font it starts with, since a form
may show text in the font selected before it), their annotations' appearances, tiling
patterns, soft masks and the glyphs of Type 3 fonts. Every font asked about that is
reached through their resource dictionaries is listed, shown or not. Only the content that
can show those fonts is parsed: a scanned page's text layer, in a font of pdfocr's own,
costs a look at its resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pikepdf

ObjGen = tuple[int, int]

_OPERATORS = "q Q Tf Tj TJ ' \" Do"
"""The operators that select a font, show text, save and restore the font, draw a form."""


@dataclass
class FontUsage:
    """The fonts reached through a document's resource dictionaries (indirect ones, by
    object number), and the codes each shows."""

    fonts: dict[ObjGen, pikepdf.Dictionary] = field(default_factory=dict)
    codes: dict[ObjGen, set[int]] = field(default_factory=dict)


def font_usage(document: pikepdf.Pdf, wanted: Callable[[pikepdf.Dictionary], bool]) -> FontUsage:
    """Every font that the document's content can reach and ``wanted`` accepts, with the
    codes shown in it (one byte each, as simple fonts' codes are). Such a font written
    directly in a resource dictionary is made an indirect object there (nothing drawn
    changes), so that it has an object number."""
    walk = _Walk(document, wanted)
    for page in document.pages:
        walk.content(page.obj, _inherited_resources(page.obj), None)
        annotations = page.obj.get("/Annots")
        for annotation in annotations if isinstance(annotations, pikepdf.Array) else []:
            for appearance in _appearances(annotation):
                walk.content(appearance, appearance.get("/Resources"), None)
    return walk.usage


class _Walk:
    def __init__(self, document: pikepdf.Pdf, wanted: Callable[[pikepdf.Dictionary], bool]) -> None:
        self.usage = FontUsage()
        self._document = document
        self._wanted = wanted
        self._walked: set[tuple[ObjGen, ObjGen | None]] = set()
        self._resources: set[ObjGen] = set()

    def content(self, holder: pikepdf.Object, resources: pikepdf.Object | None, font: ObjGen | None) -> None:
        """Follow ``holder``'s content (a page's, a form's), which starts with ``font``."""
        if holder.is_indirect:
            if (holder.objgen, font) in self._walked:  # also ends forms that draw each other
                return
            self._walked.add((holder.objgen, font))
        if not isinstance(resources, pikepdf.Dictionary):
            resources = pikepdf.Dictionary()
        self._reach(resources)
        fonts, xobjects = resources.get("/Font"), resources.get("/XObject")
        if font is None and not any(_indirect(item) in self.usage.fonts for item in _values(fonts)):
            # Nothing here can show a font asked about: only the forms it holds can.
            for form in _values(xobjects):
                if isinstance(form, pikepdf.Stream) and form.get("/Subtype") == "/Form":
                    self.content(form, form.get("/Resources", resources), None)
            return
        try:
            instructions = pikepdf.parse_content_stream(holder, _OPERATORS)
        except pikepdf.PdfError:  # unreadable: the validator says so, not this walk
            return
        saved: list[ObjGen | None] = []
        for instruction in instructions:
            name, operands = str(instruction.operator), instruction.operands
            if name == "q":
                saved.append(font)
            elif name == "Q":
                font = saved.pop() if saved else font
            elif name == "Tf" and operands:
                font = _indirect(_entry(fonts, operands[0]))
                font = font if font in self.usage.fonts else None
            elif name in ("Tj", "'", '"') and operands:
                self._show(font, [operands[-1]])
            elif name == "TJ" and operands and isinstance(operands[0], pikepdf.Array):
                self._show(font, list(operands[0]))
            elif name == "Do" and operands:
                drawn = _entry(xobjects, operands[0])
                if isinstance(drawn, pikepdf.Stream) and drawn.get("/Subtype") == "/Form":
                    self.content(drawn, drawn.get("/Resources", resources), font)

    def _show(self, font: ObjGen | None, items: list[object]) -> None:
        if font is None:
            return
        codes = self.usage.codes.setdefault(font, set())
        for item in items:
            if isinstance(item, pikepdf.String):
                codes.update(bytes(item))

    def _reach(self, resources: pikepdf.Dictionary) -> None:
        """List the fonts of ``resources`` and follow the content its fonts, patterns and
        soft masks hold (each resource dictionary once)."""
        if resources.is_indirect:
            if resources.objgen in self._resources:
                return
            self._resources.add(resources.objgen)
        fonts = resources.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            self._list(fonts, resources)
        for pattern in _values(resources.get("/Pattern")):
            if isinstance(pattern, pikepdf.Stream):  # a tiling pattern draws content
                self.content(pattern, pattern.get("/Resources"), None)
        for state in _values(resources.get("/ExtGState")):
            mask = state.get("/SMask") if isinstance(state, pikepdf.Dictionary) else None
            group = mask.get("/G") if isinstance(mask, pikepdf.Dictionary) else None
            if isinstance(group, pikepdf.Stream):
                self.content(group, group.get("/Resources", resources), None)

    def _list(self, fonts: pikepdf.Dictionary, resources: pikepdf.Dictionary) -> None:
        """List the fonts asked about among ``fonts``, and follow Type 3 fonts' glyphs."""
        for key in sorted(fonts.keys()):  # in one order, run after run
            font = fonts.get(key)
            if not isinstance(font, pikepdf.Dictionary):
                continue
            if self._wanted(font):
                if not font.is_indirect:
                    font = self._document.make_indirect(font)
                    fonts[key] = font
                self.usage.fonts[font.objgen] = font
            elif font.get("/Subtype") == "/Type3":  # its glyphs are content of their own
                for glyph in _values(font.get("/CharProcs")):
                    if isinstance(glyph, pikepdf.Stream):
                        self.content(glyph, font.get("/Resources", resources), None)


def _values(dictionary: pikepdf.Object | None) -> list[pikepdf.Object]:
    return list(dictionary.values()) if isinstance(dictionary, pikepdf.Dictionary) else []


def _entry(dictionary: pikepdf.Object | None, name: object) -> pikepdf.Object | None:
    if not isinstance(dictionary, pikepdf.Dictionary) or not isinstance(name, pikepdf.Name):
        return None
    return dictionary.get(name)


def _indirect(font: pikepdf.Object | None) -> ObjGen | None:
    return font.objgen if isinstance(font, pikepdf.Dictionary) and font.is_indirect else None


def _inherited_resources(page: pikepdf.Dictionary) -> pikepdf.Object | None:
    """The page's resources, or those it inherits from the page tree."""
    node: pikepdf.Object | None = page
    for _ in range(64):  # a page tree that loops ends
        if not isinstance(node, pikepdf.Dictionary):
            return None
        if "/Resources" in node:
            return node.get("/Resources")
        node = node.get("/Parent")
    return None


def _appearances(annotation: pikepdf.Object) -> list[pikepdf.Stream]:
    """Every appearance stream of ``annotation`` (each state of each kind)."""
    kinds = annotation.get("/AP") if isinstance(annotation, pikepdf.Dictionary) else None
    found: list[pikepdf.Stream] = []
    for appearance in _values(kinds):
        states = _values(appearance) if isinstance(appearance, pikepdf.Dictionary) else [appearance]
        found += [state for state in states if isinstance(state, pikepdf.Stream)]
    return found

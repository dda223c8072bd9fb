"""The text layer's font: ``fonts/glyphless.ttf`` (made by
``scripts/make_glyphless_font.py``), one blank glyph with a box that paints nothing,
written into each layer as a composite (Type 0) font for reportlab to draw with.

Why composite: every character is shown with a two-byte code equal to its Unicode code
point (Identity-H; characters past U+FFFF get codes of their own in the surrogate range,
which no character uses), so the text is the same whether an extractor reads the
ToUnicode map or the codes themselves. A simple TrueType font (reportlab's own way) has
one-byte codes numbered in order of use, and Ghostscript, which does not read the map of
such fonts, gives back those numbers for every character past ASCII.

reportlab draws text in a "dynamic font" through three calls (documented at the top of
``reportlab.pdfbase.ttfonts``): ``splitString`` turns text into codes,
``getSubsetInternalName`` names the font in the page's resources, and ``addObjects``
writes the font's objects when the document is saved.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from reportlab.pdfbase import pdfdoc, pdfmetrics

FONT_NAME = "PdfocrGlyphless"
# The font's metrics (see scripts/make_glyphless_font.py), in thousandths of the font
# size: every glyph advances half an em; ascent and descent span exactly one em.
ADVANCE = 500
ASCENT = 800
DESCENT = -200
OVERHANG = 5  # how far the glyph's box reaches past its advance, either side
# Glyph 1 is the blank glyph (glyph 0 is .notdef, which PDF/A forbids showing).
BLANK_GLYPH = 1
# Codes for characters past U+FFFF: the surrogate range, which holds no character.
FIRST_ASTRAL_CODE, LAST_ASTRAL_CODE = 0xD800, 0xDFFF
REPLACEMENT_CHARACTER = 0xFFFD


@dataclass
class _DocumentState:
    """What one layer being drawn has used: the font's name there and the codes shown."""

    internal_name: str | None = None
    used: dict[int, str] = field(default_factory=dict)  # code -> the character it shows
    astral: dict[str, int] = field(default_factory=dict)  # character past U+FFFF -> code


class GlyphlessFont:
    """The glyphless font as a reportlab dynamic font written as a Type 0 font."""

    _dynamicFont = 1
    _multiByte = 1
    shapable = False  # reportlab would otherwise try to shape text with HarfBuzz

    def __init__(self, name: str, program: bytes) -> None:
        self.fontName = name
        self.program = program
        self.face = _Face(name)
        self._states: weakref.WeakKeyDictionary[Any, _DocumentState] = weakref.WeakKeyDictionary()

    def _state(self, doc: Any) -> _DocumentState:
        state = self._states.get(doc)
        if state is None:
            state = self._states[doc] = _DocumentState()
        return state

    def stringWidth(self, text: str, size: float, encoding: str = "utf8") -> float:
        return len(text) * ADVANCE * size / 1000

    def splitString(self, text: str, doc: Any, encoding: str = "utf-8") -> list[tuple[int, bytes]]:
        """``text`` as two-byte codes, all in the one "subset" 0."""
        state = self._state(doc)
        codes = bytearray()
        for character in text:
            code = self._code(character, state)
            state.used[code] = character
            codes += code.to_bytes(2, "big")
        return [(0, bytes(codes))]

    @staticmethod
    def _code(character: str, state: _DocumentState) -> int:
        point = ord(character)
        if FIRST_ASTRAL_CODE <= point <= LAST_ASTRAL_CODE:
            return REPLACEMENT_CHARACTER  # a lone surrogate is not a character
        if point <= 0xFFFF:
            return point
        code = state.astral.get(character)
        if code is None:
            code = FIRST_ASTRAL_CODE + len(state.astral)
            if code > LAST_ASTRAL_CODE:
                return REPLACEMENT_CHARACTER  # more than 2,048 such characters on one page
            state.astral[character] = code
        return code

    def getSubsetInternalName(self, subset: int, doc: Any) -> str:
        state = self._state(doc)
        if state.internal_name is None:
            state.internal_name = f"F{len(doc.fontMapping) + 1}"
            doc.fontMapping[self.fontName] = "/" + state.internal_name
            doc.delayedFonts.append(self)
        return "/" + state.internal_name

    def addObjects(self, doc: Any) -> None:
        """Write the font: Type 0 over a CIDFontType2 whose every CID shows the blank
        glyph, with a ToUnicode map of the codes this layer used."""
        state = self._states.pop(doc)
        assert state.internal_name is not None
        compressed = [pdfdoc.PDFZCompress] if doc.compression else None

        program = pdfdoc.PDFStream(content=self.program, filters=compressed)
        program.dictionary["Length1"] = len(self.program)
        descriptor = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("FontDescriptor"),
                "FontName": pdfdoc.PDFName(FONT_NAME),
                "Flags": 4,  # symbolic: its glyphs are not a standard Latin set
                "FontBBox": pdfdoc.PDFArray([-OVERHANG, DESCENT, ADVANCE + OVERHANG, ASCENT]),
                "ItalicAngle": 0,
                "Ascent": ASCENT,
                "Descent": DESCENT,
                "CapHeight": ASCENT,
                "StemV": 80,
                "FontFile2": doc.Reference(program),
            }
        )
        # CID -> glyph, two bytes each: every code used (and every code below it) shows
        # the blank glyph; CID 0 stays .notdef.
        top = max(state.used, default=0)
        glyphs = pdfdoc.PDFStream(
            content=b"\x00\x00" + BLANK_GLYPH.to_bytes(2, "big") * top, filters=compressed
        )
        descendant = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Font"),
                "Subtype": pdfdoc.PDFName("CIDFontType2"),
                "BaseFont": pdfdoc.PDFName(FONT_NAME),
                "CIDSystemInfo": pdfdoc.PDFDictionary(
                    {
                        "Registry": pdfdoc.PDFString("Adobe"),
                        "Ordering": pdfdoc.PDFString("Identity"),
                        "Supplement": 0,
                    }
                ),
                "FontDescriptor": doc.Reference(descriptor),
                "DW": ADVANCE,
                "CIDToGIDMap": doc.Reference(glyphs),
            }
        )
        to_unicode = pdfdoc.PDFStream(content=to_unicode_cmap(state.used), filters=compressed)
        font = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Font"),
                "Subtype": pdfdoc.PDFName("Type0"),
                "BaseFont": pdfdoc.PDFName(FONT_NAME),
                "Encoding": pdfdoc.PDFName("Identity-H"),
                "DescendantFonts": pdfdoc.PDFArray([doc.Reference(descendant)]),
                "ToUnicode": doc.Reference(to_unicode),
            }
        )
        doc.Reference(font, state.internal_name)
        doc.idToObject[pdfdoc.BasicFonts].dict[state.internal_name] = font


@dataclass(frozen=True)
class _Face:
    """What reportlab's font registry reads of a font's face."""

    name: str


def to_unicode_cmap(used: dict[int, str]) -> bytes:
    """A ToUnicode CMap (PDF 1.7, 9.10.3) taking each two-byte code to its character in
    UTF-16BE, at most 100 entries per section."""
    entries = [f"<{code:04X}> <{used[code].encode('utf-16-be').hex().upper()}>" for code in sorted(used)]
    sections = [
        line
        for start in range(0, len(entries), 100)
        for line in (
            f"{len(entries[start : start + 100])} beginbfchar",
            *entries[start : start + 100],
            "endbfchar",
        )
    ]
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
        *sections,
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines).encode("ascii")


@functools.cache
def register_font() -> str:
    """Register the glyphless font with reportlab, once per process (reportlab keeps
    fonts in a process-wide registry); returns its name there."""
    program = (resources.files("pdfocr") / "fonts" / "glyphless.ttf").read_bytes()
    pdfmetrics.registerFont(GlyphlessFont(FONT_NAME, program))
    return FONT_NAME

"""Generate pdfocr's glyphless font: every Unicode code point maps to one empty glyph.

The text layer of a searchable PDF must carry any text the OCR engine returns without
ever painting it, so the font needs a cmap entry for every code point but no outlines.
Run from the repository root:  python scripts/make_glyphless_font.py
It writes pdfocr/fonts/glyphless.ttf; the output is deterministic, so the committed file
can be checked against a fresh run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampFromString
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphCoordinates, flagOnCurve

FONT_DATE = timestampFromString("Thu Jan  1 00:00:00 2026")
OUTPUT = Path(__file__).resolve().parent.parent / "pdfocr" / "fonts" / "glyphless.ttf"

UNITS_PER_EM = 1000
# Every glyph is half an em wide; the renderer scales each word horizontally to its box.
ADVANCE = 500
# Ascent + descent span exactly one em, so at font size S a glyph's box is S tall:
# the renderer picks S and the baseline so that the box covers the word's ink.
ASCENT = 800
DESCENT = -200
# A glyph's box reaches this far past its advance on either side, so that the boxes of
# text shown one after the other overlap a little rather than only touch: PDFium starts a
# new line between two pieces of text whose boxes do not overlap across the line's
# direction, and it can take the direction of text turned by the page to be across it.
OVERHANG = 5
SURROGATES = (0xD800, 0xDFFF)
LAST_CODE_POINT = 0x10FFFF


def build_font() -> FontBuilder:
    glyph_order = [".notdef", "blank"]
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(glyph_order)
    # A small Windows BMP table (format 4) for printable ASCII: the one reportlab reads (it
    # takes the last Windows table), so that loading the font stays cheap; pdfocr tells
    # reportlab at run time that every other code point maps to the same blank glyph.
    builder.setupCharacterMap({cp: "blank" for cp in range(0x20, 0x7F)})
    # Format 13 (many-to-one ranges) maps all of Unicode, astral planes included, to one
    # glyph in a few bytes, under the Unicode platform's full-repertoire encoding.
    # (Format 4 cannot: its offsets overflow for a full BMP.)
    everything = CmapSubtable.newSubtable(13)
    everything.platformID, everything.platEncID, everything.language = 0, 6, 0
    everything.cmap = {
        cp: "blank" for cp in range(0x20, LAST_CODE_POINT + 1) if not SURROGATES[0] <= cp <= SURROGATES[1]
    }
    builder.font["cmap"].tables.append(everything)
    builder.setupGlyf({name: _blank_glyph() for name in glyph_order})
    builder.setupHorizontalMetrics({name: (ADVANCE, 0) for name in glyph_order})
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    builder.setupNameTable({"familyName": "PdfocrGlyphless", "styleName": "Regular"})
    builder.setupOS2(
        sTypoAscender=ASCENT,
        sTypoDescender=DESCENT,
        sTypoLineGap=0,
        usWinAscent=ASCENT,
        usWinDescent=-DESCENT,
        sxHeight=500,
        sCapHeight=700,
    )
    builder.setupPost()
    # The glyphs are empty, but the font's box is the em box every glyph advances through:
    # an empty FontBBox makes MuPDF take each character as empty, and drop the text of
    # every line that runs straight across the page.
    head = builder.font["head"]
    head.xMin, head.yMin, head.xMax, head.yMax = -OVERHANG, DESCENT, ADVANCE + OVERHANG, ASCENT
    # head.created/modified default to "now"; pin them so the file is reproducible, to a
    # real date (a zero date makes font checkers, fontTools among them, warn).
    builder.font["head"].created = builder.font["head"].modified = FONT_DATE
    return builder


def _blank_glyph() -> Glyph:
    """A glyph that paints nothing but has a box: two contours of one point each, at the
    corners of its em box (widened by the overhang). Extractors take a glyph's box as
    where its character is, and MuPDF drops a character whose box is empty (an
    outline-less glyph's is) when its line runs straight across the page."""
    glyph = Glyph()
    glyph.numberOfContours = 2
    glyph.coordinates = GlyphCoordinates([(-OVERHANG, DESCENT), (ADVANCE + OVERHANG, ASCENT)])
    glyph.endPtsOfContours = [0, 1]
    glyph.flags = bytearray([flagOnCurve, flagOnCurve])
    glyph.program = ttProgram.Program()
    glyph.program.fromBytecode(b"")
    return glyph


def main() -> int:
    builder = build_font()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    builder.font.recalcBBoxes = False  # keep the em box set above
    builder.save(str(OUTPUT))
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

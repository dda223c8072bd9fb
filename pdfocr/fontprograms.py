"""The font programs embedded in place of fonts a PDF does not embed: subsets of a
substitute font (a TrueType file) holding only the glyphs shown, each glyph advancing by
the width the PDF's font dictionary gives it, so that the program and the dictionary's
/Widths agree (PDF/A requires it) and the text stays where it was.

Two forms, one for each kind of font dictionary, so that the dictionary keeps its
subtype and its encoding as they are:

- for a Type 1 font, a bare CFF program (``/FontFile3 /Type1C``) whose glyphs bear the
  names the font's encoding gives its codes, so they are found by name as a Type 1
  font's are, whatever its encoding (the standard one, WinAnsi, MacRoman, differences);
  the substitute's quadratic outlines are drawn as the cubic curves CFF holds, exactly;
- for a TrueType font, a TrueType subset (``/FontFile2``) with the substitute's (3,1)
  Unicode cmap, through which a non-symbolic TrueType font's glyphs are found (a code's
  glyph name, its Unicode value, the glyph).

Each keeps the substitute's copyright and licence notices; neither bears its font name
(the PDF's name for the font stands).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from fontTools import subset
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

NOTICES = (0, 13, 14)
"""Name table entries every subset keeps: copyright, licence, licence URL."""


@dataclass(frozen=True)
class Glyph:
    """A glyph of the substitute, and the width (in 1000ths of the font size) it is to
    advance by."""

    source: str
    """The glyph's name in the substitute font."""
    width: float


def cff_program(font: TTFont, font_name: str, glyphs: dict[str, Glyph]) -> bytes:
    """A bare CFF font named ``font_name`` holding ``glyphs`` (keyed by the names they are
    to bear) and a .notdef glyph, drawn from the TrueType font ``font`` (which is only
    read) in 1000 units per em; its built-in encoding is the standard one."""
    glyph_set = font.getGlyphSet()
    scale = 1000 / font["head"].unitsPerEm
    drawn = {".notdef": Glyph(".notdef", glyph_set[".notdef"].width * scale), **glyphs}
    charstrings = {}
    for name, glyph in drawn.items():
        # The pen is given the glyph set so that it draws composite glyphs (an accented
        # letter made of a letter and an accent) as outlines of their own.
        pen = T2CharStringPen(glyph.width, glyph_set)
        glyph_set[glyph.source].draw(TransformPen(pen, (scale, 0, 0, scale, 0, 0)))
        charstrings[name] = pen.getCharString()
    notices = _notices(font)
    built = FontBuilder(1000, isTTF=False)
    built.setupGlyphOrder(list(drawn))
    info = {"FullName": font_name, "Notice": notices.get(0, ""), "Copyright": _licence(notices)}
    built.setupCFF(font_name, info, charstrings, {})
    data: bytes = built.font["CFF "].compile(built.font)
    return data


def truetype_program(source: bytes, widths: dict[int, float]) -> bytes:
    """A TrueType subset of ``source`` holding the glyphs of the Unicode characters in
    ``widths`` (and .notdef), each advancing by its width (in 1000ths of an em); its
    cmap keeps the substitute's subtables, the (3,1) Unicode one among them."""
    font = TTFont(io.BytesIO(source))
    options = subset.Options()
    options.layout_features = []  # no substitutions or positioning: a PDF places glyphs
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.hinting = False
    options.notdef_outline = True
    options.glyph_names = True
    options.name_IDs = list(NOTICES)
    options.name_languages = ["*"]
    options.drop_tables += ["FFTM"]  # FontForge's timestamp, which the subsetter would log
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=list(widths))
    subsetter.subset(font)
    units = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    metrics = font["hmtx"].metrics
    for character, width in widths.items():
        name = cmap.get(character)
        if name is not None:
            metrics[name] = (round(width * units / 1000), metrics[name][1])
    written = io.BytesIO()
    font.save(written)
    return written.getvalue()


def _notices(font: TTFont) -> dict[int, str]:
    table = font.get("name")
    found: dict[int, str] = {}
    for record in table.names if table is not None else []:
        if record.nameID in NOTICES and record.nameID not in found:
            found[record.nameID] = record.toUnicode()
    return found


def _licence(notices: dict[int, str]) -> str:
    return " ".join(notices[number] for number in (13, 14) if number in notices)

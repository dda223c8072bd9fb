"""Free fonts embedded in place of the fonts a PDF names without embedding them, so that
a born-digital page in the standard fonts can be PDF/A (which needs every font embedded).

A simple font (Type 1 or TrueType) that is not embedded and is named for Helvetica or
Arial, Times or Times New Roman, Courier or Courier New (the standard 14 names, the
Windows and PostScript names, ``,Bold``-style suffixes, subset tags) gets a subset of
Liberation Sans, Serif or Mono in the same style embedded: fonts metric-compatible with
those (a glyph as wide as the original's), under the SIL Open Font License 1.1, which
allows embedding (Debian's fonts-liberation2; URW's base 35 fonts are AGPL and not used).
The font dictionary keeps its subtype, encoding, /Widths and /ToUnicode; a standard 14
font written without /Widths is given those of its Adobe metrics (reportlab's copy), which
it was shown with. What the font draws changes from the reader's choice of a font to the
substitute; where it draws it does not.

Symbol and ZapfDingbats, symbolic TrueType fonts and fonts of other names have no known
substitute: they stay as they are, and the validator refuses them as not embedded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from fontTools import agl
from fontTools.ttLib import TTFont
from reportlab.pdfbase import pdfmetrics

from .errors import DependencyError
from .fontprograms import Glyph, cff_program, truetype_program
from .fontusage import font_usage

PACKAGE = "fonts-liberation2"
"""The Debian package that installs the substitutes (scripts/bootstrap.sh installs it)."""

FONT_FOLDERS = (
    Path("/usr/share/fonts/truetype/liberation2"),  # Debian, Ubuntu: fonts-liberation2
    Path("/usr/share/fonts/truetype/liberation"),  # Debian 13's fonts-liberation (2.x)
    Path("/usr/share/fonts/liberation-sans"),  # Fedora
    Path("/usr/share/fonts/liberation-serif"),
    Path("/usr/share/fonts/liberation-mono"),
)
"""Where the substitutes are looked for (a file is used only under the OFL: Liberation
1.x, GPL with a font exception, is not)."""

_FAMILIES = {
    "helvetica": "Sans",
    "arial": "Sans",
    "liberationsans": "Sans",
    "arimo": "Sans",
    "times": "Serif",
    "timesroman": "Serif",
    "timesnewroman": "Serif",
    "liberationserif": "Serif",
    "tinos": "Serif",
    "courier": "Mono",
    "couriernew": "Mono",
    "liberationmono": "Mono",
    "cousine": "Mono",
}
"""Font families (names lower case, without spaces) and their substitutes."""

_STYLE = re.compile(
    r"(?:ps)?(?:mt)?(?:roman|regular|normal|book)?(?P<bold>bold)?(?P<italic>italic|oblique)?(?:mt)?"
)
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")
_STANDARD_NAMES = {
    "Sans": ("Helvetica", "Oblique"),
    "Serif": ("Times", "Italic"),
    "Mono": ("Courier", "Oblique"),
}
_ENCODINGS = ("StandardEncoding", "WinAnsiEncoding", "MacRomanEncoding")

FLAG_FIXED_PITCH, FLAG_SERIF, FLAG_SYMBOLIC, FLAG_NONSYMBOLIC, FLAG_ITALIC = 1, 2, 4, 32, 64


class FontsMissing(DependencyError):
    """A font must be embedded in place of one a PDF does not embed, and the free font
    that takes its place is not installed."""


@dataclass(frozen=True)
class Substitute:
    """The free font that takes a font's place."""

    family: str
    """``Sans``, ``Serif`` or ``Mono``."""
    bold: bool
    italic: bool

    @property
    def file_name(self) -> str:
        style = ("Bold" if self.bold else "") + ("Italic" if self.italic else "")
        return f"Liberation{self.family}-{style or 'Regular'}.ttf"

    @property
    def standard(self) -> str:
        """The standard 14 font with the same metrics (``Helvetica-BoldOblique``)."""
        family, slant = _STANDARD_NAMES[self.family]
        style = ("Bold" if self.bold else "") + (slant if self.italic else "")
        if family == "Times" and not style:
            style = "Roman"
        return f"{family}-{style}" if style else family


def substitute_for(font: pikepdf.Object) -> Substitute | None:
    """The substitute to embed for ``font``: a simple font that is not embedded, named for
    a family with a known substitute, that is not a symbolic TrueType font; else None."""
    if not isinstance(font, pikepdf.Dictionary) or font.get("/Subtype") not in ("/Type1", "/TrueType"):
        return None
    descriptor = font.get("/FontDescriptor")
    if isinstance(descriptor, pikepdf.Dictionary):
        if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            return None
        flags = descriptor.get("/Flags", 0)
        if font.Subtype == "/TrueType" and (not isinstance(flags, int) or flags & FLAG_SYMBOLIC):
            return None  # its codes select glyphs by the font's own cmap, not by name
    base_font = font.get("/BaseFont")
    if not isinstance(base_font, pikepdf.Name) or _code_names(font) is None:
        return None
    compact = re.sub(r"[\s,_-]", "", _SUBSET_TAG.sub("", str(base_font)[1:])).lower()
    for family in sorted(_FAMILIES, key=len, reverse=True):
        style = _STYLE.fullmatch(compact[len(family) :]) if compact.startswith(family) else None
        if style is not None:
            return Substitute(_FAMILIES[family], bool(style["bold"]), bool(style["italic"]))
    return None


def embed_substitutes(document: pikepdf.Pdf) -> int:
    """Embed a subset of its substitute in every font of ``document`` that has one (see
    the module's docstring); returns how many fonts got one. Raises :class:`FontsMissing`
    (naming the package) when a substitute is needed and not installed."""
    usage = font_usage(document, lambda font: substitute_for(font) is not None)
    library = _Library()
    for key, font in usage.fonts.items():
        substitute = substitute_for(font)
        assert substitute is not None
        _embed(document, font, substitute, usage.codes.get(key, set()), library)
    return len(usage.fonts)


def describe_font(item: pikepdf.Object) -> str | None:
    """How a message names the font ``item`` (``font Symbol``, with why it could not be
    embedded when it is not); None when it is no font."""
    if not isinstance(item, pikepdf.Dictionary) or item.get("/Type") != "/Font":
        return None
    name = item.get("/BaseFont")
    named = f"font {str(name)[1:]}" if isinstance(name, pikepdf.Name) else "a font"
    descriptor = item.get("/FontDescriptor")
    embedded = isinstance(descriptor, pikepdf.Dictionary) and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
    )
    if item.get("/Subtype") in ("/Type1", "/TrueType") and not embedded:
        return f"{named} (no free substitute is known for it)"
    return named


@dataclass(frozen=True)
class _Source:
    """A substitute's file: its bytes, the font read from them, its Unicode cmap."""

    data: bytes
    font: TTFont
    cmap: dict[int, str]

    @property
    def scale(self) -> float:
        """From the font's units to 1000ths of an em."""
        return 1000 / float(self.font["head"].unitsPerEm)


class _Library:
    """The substitutes' files, read when first needed (each once per document)."""

    def __init__(self) -> None:
        self._read: dict[str, _Source] = {}

    def font(self, substitute: Substitute, base_font: str) -> _Source:
        name = substitute.file_name
        if name not in self._read:
            self._read[name] = self._find(name, base_font)
        return self._read[name]

    @staticmethod
    def _find(name: str, base_font: str) -> _Source:
        for folder in FONT_FOLDERS:
            path = folder / name
            try:
                data = path.read_bytes()
            except OSError:
                continue
            font = TTFont(path)
            if any(
                "Open Font License" in record.toUnicode()
                for record in font["name"].names
                if record.nameID == 13
            ):
                return _Source(data, font, font.getBestCmap())
        raise FontsMissing(
            f"the font {base_font} is not embedded, and its free substitute {name} is not "
            f"installed (install Debian's {PACKAGE}; scripts/bootstrap.sh does)"
        )


def _embed(
    document: pikepdf.Pdf,
    font: pikepdf.Dictionary,
    substitute: Substitute,
    shown: set[int],
    library: _Library,
) -> None:
    """Embed ``substitute``'s glyphs for the codes ``shown`` in ``font`` (a subset named
    with a tag, as PDF names subsets), with a font descriptor of its metrics."""
    base_font = _SUBSET_TAG.sub("", str(font.BaseFont)[1:])
    source = library.font(substitute, base_font)
    names = _code_names(font) or {}
    widths = _widths(font, names, shown, substitute, source)
    glyphs = {
        names[code]: Glyph(glyph, width)
        for code, width in sorted(widths.items())
        if code in shown and (glyph := _glyph_named(source, names[code])) is not None
    }
    tag = _tag(base_font, [f"{name} {glyph.width:g}" for name, glyph in sorted(glyphs.items())])
    descriptor = _descriptor(document, font, substitute, source, f"{tag}+{base_font}")
    if font.Subtype == "/Type1":
        program = cff_program(source.font, f"{tag}+{base_font}", glyphs)
        descriptor.FontFile3 = document.make_stream(program, Subtype=pikepdf.Name.Type1C)
        descriptor.CharSet = pikepdf.String("".join(f"/{name}" for name in sorted(glyphs)))
        descriptor.Flags = _flags(substitute)
    else:
        characters = {ord(agl.toUnicode(name)): glyph.width for name, glyph in glyphs.items()}
        program = truetype_program(source.data, characters)
        descriptor.FontFile2 = document.make_stream(program, Length1=len(program))
    font.BaseFont = pikepdf.Name(f"/{tag}+{base_font}")
    font.FontDescriptor = descriptor


def _code_names(font: pikepdf.Dictionary) -> dict[int, str] | None:
    """The glyph name of each code of a simple font with a Latin encoding (the standard
    one when it names none); None for another encoding."""
    encoding = font.get("/Encoding")
    base, differences = "StandardEncoding", None
    if isinstance(encoding, pikepdf.Dictionary):
        named = encoding.get("/BaseEncoding")
        base = str(named)[1:] if isinstance(named, pikepdf.Name) else base
        differences = encoding.get("/Differences")
    elif isinstance(encoding, pikepdf.Name):
        base = str(encoding)[1:]
    elif encoding is not None:
        return None
    if base not in _ENCODINGS:
        return None
    names = {code: name for code, name in enumerate(pdfmetrics.getEncoding(base).vector) if name}
    code = 0
    for item in differences if isinstance(differences, pikepdf.Array) else []:
        if isinstance(item, pikepdf.Name):
            names[code] = str(item)[1:]
            code += 1
        elif isinstance(item, int):
            code = item
        else:
            return None  # a malformed encoding: nothing to tell its glyphs by
    return names


def _glyph_named(source: _Source, name: str) -> str | None:
    """The substitute's glyph for the glyph name ``name``, found by the name's Unicode
    value (as a reader finds a non-symbolic TrueType font's glyphs)."""
    text = agl.toUnicode(name)
    return source.cmap.get(ord(text)) if len(text) == 1 else None


def _widths(
    font: pikepdf.Dictionary, names: dict[int, str], shown: set[int], substitute: Substitute, source: _Source
) -> dict[int, float]:
    """The width of each code of ``font`` in 1000ths, as its /Widths gives them; a font
    without them (a standard 14 font may have none) is given them over the codes shown:
    the standard font's Adobe metrics, or the substitute's own width of a glyph they lack."""
    widths = font.get("/Widths")
    first = font.get("/FirstChar")
    if isinstance(widths, pikepdf.Array) and isinstance(first, int):
        return {int(first) + index: float(width) for index, width in enumerate(widths)}
    adobe = pdfmetrics.getTypeFace(substitute.standard).glyphWidths
    low, high = (min(shown), max(shown)) if shown else (32, 32)
    given = {}
    for code in range(low, high + 1):
        name = names.get(code, ".notdef")
        glyph = _glyph_named(source, name)
        own = source.font["hmtx"][glyph][0] * source.scale if glyph is not None else 0
        given[code] = float(adobe.get(name, round(own)))
    font.FirstChar, font.LastChar = low, high
    font.Widths = pikepdf.Array([round(width) if width.is_integer() else width for width in given.values()])
    return given


def _descriptor(
    document: pikepdf.Pdf, font: pikepdf.Dictionary, substitute: Substitute, source: _Source, name: str
) -> pikepdf.Dictionary:
    """The font's descriptor (its own, when it has one, keeping what it says), with what it
    lacks taken from the substitute and, for a standard font, its Adobe metrics."""
    existing = font.get("/FontDescriptor")
    descriptor = (
        existing if isinstance(existing, pikepdf.Dictionary) else document.make_indirect(pikepdf.Dictionary())
    )
    scale = source.scale
    head, metrics = source.font["head"], source.font["OS/2"]
    # The family's upright face's ascent and descent, which readers give every style of
    # a standard font they do not embed (poppler does): text boxes stay where they were.
    face = pdfmetrics.getTypeFace(Substitute(substitute.family, False, False).standard)
    defaults: dict[str, Any] = {
        "/Type": pikepdf.Name.FontDescriptor,
        "/Flags": _flags(substitute),
        "/FontBBox": [round(value * scale) for value in (head.xMin, head.yMin, head.xMax, head.yMax)],
        "/ItalicAngle": float(source.font["post"].italicAngle),
        "/Ascent": face.ascent,
        "/Descent": face.descent,
        "/CapHeight": round(getattr(metrics, "sCapHeight", 0) * scale) or face.ascent,
        # A TrueType font gives no stem width: the usual estimate from its weight class.
        "/StemV": 50 + round((metrics.usWeightClass / 65) ** 2),
    }
    for key, value in defaults.items():
        if key not in descriptor:
            descriptor[key] = pikepdf.Array(value) if isinstance(value, list) else value
    descriptor.FontName = pikepdf.Name(f"/{name}")
    return descriptor


def _flags(substitute: Substitute) -> int:
    return (
        FLAG_NONSYMBOLIC
        | (FLAG_FIXED_PITCH if substitute.family == "Mono" else 0)
        | (FLAG_SERIF if substitute.family == "Serif" else 0)
        | (FLAG_ITALIC if substitute.italic else 0)
    )


def _tag(base_font: str, glyphs: list[str]) -> str:
    """The six capital letters that name a subset, from what it holds (the same subset of
    the same font always gets the same tag)."""
    digest = hashlib.sha256("\n".join([base_font, *glyphs]).encode()).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])

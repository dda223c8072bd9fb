"""PDF/A of a PDF whose born-digital page uses the standard fonts without embedding them
(as reportlab and many office tools write them): metric-compatible free fonts are
embedded in their place (pdfocr/fontsubstitutes.py), the page extracts the same text and
looks nearly the same. Fonts without a known substitute (Symbol, ZapfDingbats) stay
refused. PDF/A-1b outputs also pass PDFBox's Preflight where Java has it."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from conftest import pdftotext, pdftotext_words
from fontTools import agl
from fontTools.ttLib import TTFont
from pikepdf import pdfa
from PIL import Image, ImageChops, ImageFilter, ImageStat
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from test_archival import _has_preflight, _preflight

import pdfocr
from pdfocr import fontsubstitutes
from pdfocr.fontsubstitutes import Substitute, embed_substitutes, substitute_for
from pdfocr.fontusage import font_usage

SAMPLE = Path(__file__).resolve().parent.parent / "samples"
FLAVOURS = {"pdfa-1": "1b", "pdfa-2": "2b", "pdfa-3": "3b", "pdfa": "2b", "auto": "2b"}
STANDARD = [
    f"{family}{style}"
    for family, styles in (
        ("Helvetica", ["", "-Bold", "-Oblique", "-BoldOblique"]),
        ("Times", ["-Roman", "-Bold", "-Italic", "-BoldItalic"]),
        ("Courier", ["", "-Bold", "-Oblique", "-BoldOblique"]),
    )
    for style in styles
]
LINE = "Quoting Müller's “façade” — 12½% off, €40: fine."
WIDTHS_THAT_DIFFER = {"divide", "plusminus", "macron", "mu", "periodcentered"}
"""The glyphs of the standard fonts' Latin set whose Liberation widths are not Adobe's
(within a unit): the PDF's widths, Adobe's, stand for them."""

pytestmark = pytest.mark.skipif(
    not any((folder / "LiberationSans-Regular.ttf").exists() for folder in fontsubstitutes.FONT_FOLDERS),
    reason="the Liberation fonts are not installed (scripts/bootstrap.sh installs fonts-liberation2)",
)


def _typed(path: Path, fonts: list[str], line: str = LINE) -> Path:
    """A born-digital page: one line in each of ``fonts``, none of them embedded."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(612, 792))
    for number, font in enumerate(fonts):
        canvas.setFont(font, 14)
        canvas.drawString(54, 740 - 28 * number, f"{font}: {line}")
    canvas.save()
    path.write_bytes(buffer.getvalue())
    return path


def _with_scan(folder: Path, typed: Path) -> Path:
    """A scanned page (an image) and the born-digital page ``typed`` in one PDF."""
    page = Image.open(SAMPLE / "page1.png").convert("L")
    crop = io.BytesIO()
    page.crop((0, 0, page.width, page.height // 3)).save(crop, format="PNG", dpi=(300, 300))
    scan = folder / "scan.pdf"
    scan.write_bytes(img2pdf.convert(crop.getvalue()))
    mixed = folder / "mixed.pdf"
    with pikepdf.open(scan) as document, pikepdf.open(typed) as born:
        document.pages.extend(born.pages)
        document.save(mixed)
    return mixed


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    return _with_scan(folder, _typed(folder / "typed.pdf", STANDARD))


@pytest.fixture(scope="module")
def archived(mixed: Path) -> Path:
    output = mixed.with_name("archived.pdf")
    result = pdfocr.convert(mixed, output, output_type="pdfa-2")
    assert result.output_type == "pdfa-2"
    return output


def _page_text(pdf: Path, page: int, *args: str) -> str:
    return pdftotext(pdf, "-f", str(page), "-l", str(page), *args)


def test_a_mixed_pdf_with_standard_fonts_becomes_pdfa_2(mixed: Path, archived: Path) -> None:
    report = pdfa.validate_written(archived, "2b")
    assert report.passed, report.summary()
    # Every font of the born-digital page embedded, as a small subset.
    with pikepdf.open(archived) as document:
        fonts = list(document.pages[1].Resources.Font.values())
        assert len(fonts) == len(STANDARD)
        programs = [font.FontDescriptor.FontFile3 for font in fonts]
        assert all(program.Subtype == "/Type1C" for program in programs)
        assert all(len(program.read_raw_bytes()) < 8_000 for program in programs)
        assert sorted(str(font.BaseFont)[8:] for font in fonts) == sorted(STANDARD)  # /ABCDEF+...
    # The same text, the words in the very same boxes.
    assert _page_text(archived, 2) == _page_text(mixed, 2)
    assert pdftotext_words(archived)[1] == pdftotext_words(mixed)[1]


@pytest.mark.parametrize("output_type", ["pdfa", "pdfa-1", "pdfa-2", "pdfa-3", "auto"])
def test_the_cli_makes_pdfa_of_a_mixed_pdf_with_standard_fonts(
    tmp_path: Path, cli, mixed: Path, output_type: str
) -> None:
    output = tmp_path / "out.pdf"
    run = cli(str(mixed), "-o", str(output), "--output-type", output_type)
    assert run.returncode == 0, run.stderr
    flavour = FLAVOURS[output_type]
    (summary,) = run.stderr.strip().splitlines()  # no warning: nothing stood in the way
    assert f"(PDF/A-{flavour})" in summary
    report = pdfa.validate_written(output, flavour)
    assert report.passed, report.summary()
    assert _page_text(output, 2) == _page_text(mixed, 2)
    if flavour == "1b" and _has_preflight():
        checked = _preflight(output)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _rendered(pdf: Path, page: int, name: Path) -> Image.Image:
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-gray",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            "-png",
            str(pdf),
            str(name),
        ],
        check=True,
    )
    return Image.open(name.with_suffix(".png")).convert("L")


def _differences(a: Image.Image, b: Image.Image, blur: float = 0) -> tuple[float, float]:
    """The share of pixels that differ by more than 64 levels of 255, and the mean absolute
    difference (levels); ``blur``: of the pages blurred by that radius (pixels) first,
    which forgives a glyph drawn a little differently and not one out of place."""
    if blur:
        a, b = a.filter(ImageFilter.GaussianBlur(blur)), b.filter(ImageFilter.GaussianBlur(blur))
    difference = ImageChops.difference(a, b)
    histogram = difference.histogram()
    return sum(histogram[65:]) / (a.width * a.height), ImageStat.Stat(difference).mean[0]


def _looks_like(before: Image.Image, after: Image.Image) -> bool:
    """The bound a substitute meets. Measured on the twelve lines of the standard fonts at
    100 dpi, poppler showing the input's Helvetica, Times and Courier with URW's Nimbus
    fonts: 2.5% of the pixels, mean 4.4 levels; blurred (2 px), 0.04%. Each family shown
    in another one's substitute: 4.9% and 9.6, blurred 2.4%."""
    share, mean = _differences(before, after)
    blurred, _ = _differences(before, after, blur=2)
    return share < 0.035 and mean < 6.5 and blurred < 0.005


def test_the_substitutes_look_like_the_fonts_they_replace(
    tmp_path: Path, mixed: Path, archived: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _rendered(mixed, 2, tmp_path / "before")
    after = _rendered(archived, 2, tmp_path / "after")
    assert before.size == after.size
    assert _looks_like(before, after), (_differences(before, after), _differences(before, after, blur=2))
    # The bound tells a wrong font: each family given another family's substitute.
    for family, wrong in (("helvetica", "Serif"), ("times", "Sans"), ("courier", "Sans")):
        monkeypatch.setitem(fontsubstitutes._FAMILIES, family, wrong)
    wrongly = tmp_path / "wrong.pdf"
    with pikepdf.open(mixed) as document:
        assert embed_substitutes(document) == len(STANDARD)
        document.save(wrongly)
    shown = _rendered(wrongly, 2, tmp_path / "wrong")
    assert not _looks_like(before, shown), (_differences(before, shown), _differences(before, shown, blur=2))


def _office_truetype(path: Path) -> Path:
    """A page in Arial, Times New Roman and Courier New as office programs write them when
    they do not embed them: TrueType fonts with widths and a descriptor, no program."""
    fonts = {
        "Helvetica-Bold": "Arial,Bold",
        "Times-Roman": "TimesNewRomanPSMT",
        "Courier": "CourierNewPS-ItalicMT",
    }
    _typed(path, list(fonts))
    winansi = pdfmetrics.getEncoding("WinAnsiEncoding").vector
    with pikepdf.open(path, allow_overwriting_input=True) as document:
        for font in document.pages[0].Resources.Font.values():
            if str(font.BaseFont)[1:] not in fonts:
                continue  # reportlab's first font, Helvetica, drawing nothing
            adobe = pdfmetrics.getTypeFace(str(font.BaseFont)[1:]).glyphWidths
            name = pikepdf.Name("/" + fonts[str(font.BaseFont)[1:]])
            font.Subtype, font.BaseFont = pikepdf.Name.TrueType, name
            font.FirstChar, font.LastChar = 32, 255
            font.Widths = pikepdf.Array([adobe.get(winansi[code], 0) for code in range(32, 256)])
            font.FontDescriptor = document.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.FontDescriptor,
                    FontName=name,
                    Flags=32,
                    FontBBox=[-665, -325, 2000, 1006],
                    ItalicAngle=0,
                    Ascent=905,
                    Descent=-212,
                    CapHeight=716,
                    StemV=80,
                )
            )
        document.save(path)
    return path


@pytest.mark.parametrize("output_type", ["pdfa-1", "pdfa-2"])
def test_truetype_fonts_office_does_not_embed_get_truetype_substitutes(
    tmp_path: Path, output_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    typed = _office_truetype(tmp_path / "office.pdf")
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(typed, output, output_type=output_type)
    assert not [record for record in caplog.records if record.name.startswith("fontTools")]  # nothing said
    flavour = FLAVOURS[output_type]
    assert result.output_type == output_type
    report = pdfa.validate_written(output, flavour)
    assert report.passed, report.summary()
    if flavour == "1b" and _has_preflight():
        checked = _preflight(output)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert pdftotext(output) == pdftotext(typed)
    with pikepdf.open(output) as document:
        truetype = [font for font in document.pages[0].Resources.Font.values() if font.Subtype == "/TrueType"]
        assert len(truetype) == 3
        for font in truetype:
            assert font.Encoding == "/WinAnsiEncoding"
            program = TTFont(io.BytesIO(font.FontDescriptor.FontFile2.read_bytes()))
            # Non-symbolic: the glyphs are found by Unicode, through the (3,1) cmap.
            unicode_cmap = program["cmap"].getcmap(3, 1).cmap
            assert {ord(character) for character in "Müller€—½"} <= set(unicode_cmap)
            assert len(program.getGlyphOrder()) < 60


@pytest.mark.parametrize("font", ["Symbol", "ZapfDingbats"])
@pytest.mark.parametrize("output_type", ["pdfa", "pdfa-1", "pdfa-2", "pdfa-3"])
def test_a_font_without_a_substitute_stays_refused(tmp_path: Path, cli, font: str, output_type: str) -> None:
    typed = tmp_path / "typed.pdf"
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(612, 792))
    canvas.drawString(54, 740, "Helvetica has a substitute, the next line's font has none")
    canvas.setFont(font, 14)
    canvas.drawString(54, 700, "abcd")
    canvas.save()
    typed.write_bytes(buffer.getvalue())
    output = tmp_path / "out.pdf"
    run = cli(str(typed), "-o", str(output), "--output-type", output_type)
    assert run.returncode == 8, run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"pdfocr: error: {output}: cannot be PDF/A-{FLAVOURS[output_type]}: {typed}: ")
    assert f"font {font} (no free substitute is known for it): " in line
    assert "not embedded" in line and not output.exists()


def test_without_the_substitutes_installed(
    tmp_path: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fontsubstitutes, "FONT_FOLDERS", (tmp_path / "none",))
    output = tmp_path / "out.pdf"
    # Asked for PDF/A: the missing package, named.
    with pytest.raises(
        pdfocr.DependencyError,
        match=r"the font [\w-]+ is not embedded, and its free substitute Liberation\w+-\w+\.ttf is not "
        r"installed .*fonts-liberation2",
    ):
        pdfocr.convert(mixed, output, output_type="pdfa-2")
    assert not output.exists()
    # By default: plain PDF, the warning naming the package.
    with pytest.warns(pdfocr.PdfocrWarning, match=r"written as plain PDF, not PDF/A: .*fonts-liberation2"):
        result = pdfocr.convert(mixed, output)
    assert result.output_type == "pdf"


def test_the_substitutes_are_metric_compatible() -> None:
    """Liberation's widths are the standard fonts' (Adobe's metrics), a few glyphs apart."""
    for name in STANDARD:
        substitute = substitute_for(
            pikepdf.Dictionary(Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name("/" + name))
        )
        assert substitute is not None and substitute.standard == name
        source = next(
            folder / substitute.file_name for folder in fontsubstitutes.FONT_FOLDERS if folder.exists()
        )
        font = TTFont(source)
        cmap, scale = font.getBestCmap(), 1000 / font["head"].unitsPerEm
        adobe = pdfmetrics.getTypeFace(name).glyphWidths
        differ = {
            glyph
            for glyph, width in adobe.items()
            if abs(font["hmtx"][cmap[ord(agl.toUnicode(glyph))]][0] * scale - width) > 1
        }
        assert differ <= WIDTHS_THAT_DIFFER, name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Helvetica", Substitute("Sans", False, False)),
        ("ABCDEF+Helvetica-BoldOblique", Substitute("Sans", True, True)),
        ("ArialMT", Substitute("Sans", False, False)),
        ("Arial-BoldItalicMT", Substitute("Sans", True, True)),
        ("Arial,Bold", Substitute("Sans", True, False)),
        ("Times-Roman", Substitute("Serif", False, False)),
        ("TimesNewRoman", Substitute("Serif", False, False)),
        ("TimesNewRomanPS-BoldItalicMT", Substitute("Serif", True, True)),
        ("Times New Roman,Italic", Substitute("Serif", False, True)),
        ("Courier-Oblique", Substitute("Mono", False, True)),
        ("CourierNewPSMT", Substitute("Mono", False, False)),
        ("CourierNew,Bold", Substitute("Mono", True, False)),
        ("Symbol", None),
        ("ZapfDingbats", None),
        ("ArialNarrow", None),
        ("Arial-Black", None),
        ("Helvetica-Light", None),
        ("Frutiger-Roman", None),
    ],
)
def test_which_fonts_have_a_substitute(name: str, expected: Substitute | None) -> None:
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name("/" + name)
    )
    assert substitute_for(font) == expected
    font.Subtype = pikepdf.Name.TrueType
    assert substitute_for(font) == expected


def _font(subtype: str, **entries: object) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name(subtype), BaseFont=pikepdf.Name.Arial, **entries
    )


def test_embedded_symbolic_and_composite_fonts_keep_what_they_have() -> None:
    embedded = pikepdf.Dictionary(FontFile2=pikepdf.Stream(pikepdf.new(), b""), Flags=32)
    assert substitute_for(_font("/TrueType", FontDescriptor=embedded)) is None
    assert substitute_for(_font("/TrueType", FontDescriptor=pikepdf.Dictionary(Flags=4))) is None  # symbolic
    assert substitute_for(_font("/Type0")) is None
    assert substitute_for(_font("/Type1", Encoding=pikepdf.Name("/Custom"))) is None
    assert substitute_for(_font("/TrueType", FontDescriptor=pikepdf.Dictionary(Flags=32))) is not None


def test_the_codes_shown_are_found_in_forms_too() -> None:
    """A form drawn by the page shows text in the font selected before it is drawn; a
    font written directly in the resources, unused, is listed too."""
    document = pikepdf.new()
    font = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    unused = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Courier
    )
    form = document.make_stream(b"BT (form) Tj ET", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form)
    form.BBox = [0, 0, 100, 100]
    resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary(F1=font, F2=unused), XObject=pikepdf.Dictionary(X=form)
    )
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 100, 100],
        Resources=resources,
        Contents=document.make_stream(b"BT /F1 9 Tf [(p) 20 (age)] TJ ET /X Do"),
    )
    document.pages.append(pikepdf.Page(page))
    usage = font_usage(document, lambda font: True)
    found = {str(item.BaseFont): usage.codes.get(key, set()) for key, item in usage.fonts.items()}
    assert found == {"/Helvetica": set(b"pageform"), "/Courier": set()}
    assert resources.Font.F2.is_indirect  # written directly, made indirect to be told apart
    assert font_usage(document, lambda font: font.BaseFont == "/Courier").codes == {}

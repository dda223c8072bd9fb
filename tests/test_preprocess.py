"""Pages turned upright (--rotate-pages) and straightened (--deskew), with the real
Tesseract: the page shows upright and the text layer lines up with it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from conftest import pdftotext, pdftotext_words, words_of
from fakes import EchoEngine
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

import pdfocr
from pdfocr.inputs import LoadedPage
from pdfocr.preprocess import (
    MAX_SKEW,
    MIN_SKEW,
    SKEW_SAMPLE_PIXELS,
    _skew_sample,
    ocr_copy,
    skew_angle,
    straightened,
)

DPI = 150
POINTS = 11  # the size the test page's text is set in


@pytest.fixture(scope="module")
def upright_page(page_factory, prose_lines):
    return page_factory(prose_lines(11, 7) + prose_lines(12, 7), dpi=DPI, points=POINTS)


def _shown(pdf: Path) -> Image.Image:
    out = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", str(pdf), str(out)], check=True
    )
    return Image.open(out.with_suffix(".png")).convert("L")


def _assert_lines_up(pdf: Path, page) -> None:
    (found,) = pdftotext_words(pdf)
    drawn = page.words
    assert [w.text for w in found] == [w.text for w in drawn]
    scale = 72 / page.dpi
    for got, want in zip(found, drawn, strict=True):
        assert got.left == pytest.approx(want.box[0] * scale, abs=1)
        assert got.right == pytest.approx(want.box[2] * scale, abs=1)


@pytest.mark.parametrize("turned", [0, 90, 180, 270])
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_pages_are_turned_upright(tmp_path: Path, upright_page, turned: int, suffix: str) -> None:
    scan = upright_page.image.rotate(turned, expand=True)  # counter-clockwise, as scanned
    path = tmp_path / f"scan{suffix}"
    scan.save(path, dpi=(DPI, DPI), **({"quality": 95} if suffix == ".jpg" else {}))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output, rotate_pages=True)
    assert result.pages[0].rotated == turned
    assert words_of(result.pages[0].text) == words_of(upright_page.text)
    shown = _shown(output)
    assert shown.size == upright_page.image.size
    assert ImageStat.Stat(ImageChops.difference(shown, upright_page.image)).mean[0] < 8
    _assert_lines_up(output, upright_page)
    if suffix == ".jpg":
        assert path.read_bytes() in output.read_bytes()  # turned by /Rotate, not re-encoded


def test_pages_without_clear_orientation_are_left_alone(tmp_path: Path, upright_page) -> None:
    photo = Image.effect_noise((600, 400), 60).filter(ImageFilter.GaussianBlur(3))
    blank = Image.new("L", (600, 800), 255)
    sideways = upright_page.image.rotate(90, expand=True)
    paths = []
    for name, image in [("photo.png", photo), ("blank.png", blank), ("sideways.png", sideways)]:
        image.save(tmp_path / name, dpi=(DPI, DPI))
        paths.append(tmp_path / name)
    result = pdfocr.convert(paths, tmp_path / "out.pdf", rotate_pages=True)
    assert [page.rotated for page in result.pages] == [0, 0, 90]
    strict = pdfocr.convert(paths[2], tmp_path / "strict.pdf", rotate_pages=True, rotate_threshold=1000)
    assert strict.pages[0].rotated == 0


@pytest.mark.parametrize("skew", [-2.0, 1.5])
def test_skewed_pages_are_straightened(tmp_path: Path, upright_page, skew: float) -> None:
    scan = upright_page.image.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    path = tmp_path / "skewed.png"
    scan.save(path, dpi=(DPI, DPI))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output, deskew=True)
    _assert_straightened(result, output, upright_page, skew)


def _assert_straightened(result: pdfocr.Result, output: Path, page, skew: float) -> None:
    assert result.pages[0].deskewed == pytest.approx(-skew, abs=0.1)
    assert words_of(result.pages[0].text) == words_of(page.text)
    shown = _shown(output)
    # The page as shown is the straight page again (but for its corners) ...
    inner = (40, 40, shown.width - 40, shown.height - 40)
    straight = page.image.crop(inner)
    assert ImageStat.Stat(ImageChops.difference(shown.crop(inner), straight)).mean[0] < 8
    # ... and the text layer lines up with the straight words.
    _assert_lines_up(output, page)


def _scanned_pdf(tmp_path: Path, scan: Image.Image, rotation: int = 0) -> Path:
    png = tmp_path / "scan.png"
    scan.save(png, dpi=(DPI, DPI))
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(img2pdf.convert(str(png), rotation=img2pdf.Rotation[str(rotation)]))
    return pdf


def _image_streams(pdf: Path) -> list[bytes]:
    with pikepdf.open(pdf) as document:
        return [
            item.read_raw_bytes()
            for page in document.pages
            for item in page.obj.Resources.XObject.values()
            if item.Subtype == "/Image"
        ]


@pytest.mark.parametrize(("turned", "rotate"), [(90, 0), (180, 0), (270, 90)])
def test_pdf_pages_are_turned_upright_by_their_rotate(
    tmp_path: Path, upright_page, turned: int, rotate: int
) -> None:
    # Scanned sideways (with a /Rotate that does not make up for it, or none).
    scan = _scanned_pdf(tmp_path, upright_page.image.rotate(turned + rotate, expand=True), rotate)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(scan, output, rotate_pages=True)
    assert result.pages[0].rotated == turned and not result.pages[0].kept
    assert words_of(result.pages[0].text) == words_of(upright_page.text)
    shown = _shown(output)
    assert shown.size == upright_page.image.size
    assert ImageStat.Stat(ImageChops.difference(shown, upright_page.image)).mean[0] < 8
    _assert_lines_up(output, upright_page)
    assert _image_streams(output) == _image_streams(scan)  # turned by /Rotate, not re-encoded
    with pikepdf.open(output) as document:
        assert document.pages[0].obj.get("/Rotate", 0) == (turned + rotate) % 360


@pytest.mark.parametrize("rotate", [0, 90])
def test_skewed_pdf_pages_are_straightened_with_their_image_kept(
    tmp_path: Path, upright_page, rotate: int
) -> None:
    skewed = upright_page.image.rotate(1.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    scan = _scanned_pdf(tmp_path, skewed.rotate(rotate, expand=True), rotate)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(scan, output, deskew=True)
    _assert_straightened(result, output, upright_page, 1.5)
    # The scan keeps its bytes: the page's content is rotated, not its pixels.
    assert _image_streams(output) == _image_streams(scan)
    assert subprocess.run(["qpdf", "--check", str(output)], capture_output=True).returncode == 0


def test_straight_pages_are_left_as_they_are(tmp_path: Path, upright_page) -> None:
    path = tmp_path / "straight.jpg"
    upright_page.image.save(path, dpi=(DPI, DPI), quality=90)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output, deskew=True)
    assert result.pages[0].deskewed == 0
    assert path.read_bytes() in output.read_bytes()


@pytest.mark.parametrize("skew", [1.5, -4.0])
def test_without_deskew_every_extractor_reads_the_skewed_lines(
    tmp_path: Path, upright_page, skew: float
) -> None:
    from extractors import EXTRACTORS

    from pdfocr.engines.tesseract import TesseractEngine

    scan = upright_page.image.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=255)
    path = tmp_path / "skewed.png"
    scan.save(path, dpi=(DPI, DPI))
    output = tmp_path / "out.pdf"
    pdfocr.convert(path, output, output_type="pdf")
    lines = TesseractEngine().recognize(scan, languages=("eng",), dpi=DPI).lines
    engine_lines = [" ".join(line.text.split()) for line in lines]
    for name, extract in EXTRACTORS.items():  # line by line, words neither glued nor split
        got = [" ".join(line.split()) for line in extract(output).splitlines() if line.strip()]
        assert got == engine_lines, name
    (found,) = pdftotext_words(output)
    engine_words = [(word, line) for line in lines for word in line.words]
    assert [w.text for w in found] == [word.text for word, _ in engine_words]
    scale = 72 / DPI
    for got_word, (want, line) in zip(found, engine_words, strict=True):
        # Each word keeps its left and right edges; the line is level, so at its ends a
        # word sits up to half the line's rise above or below its ink.
        assert got_word.left == pytest.approx(want.box.left * scale, abs=1.5)
        assert got_word.right == pytest.approx(want.box.right * scale, abs=1.5)
        half_rise = abs(line.slope) * line.box.width / 2 * scale
        middle = (want.box.top + want.box.bottom) / 2 * scale
        assert got_word.top - half_rise - 1 <= middle <= got_word.bottom + half_rise + 1
        assert got_word.bottom - got_word.top < 2.5 * POINTS  # and does not just span everything


def test_a_sideways_page_not_turned_reads_as_the_engine_read_it(tmp_path: Path, upright_page) -> None:
    from extractors import EXTRACTORS

    path = tmp_path / "sideways.png"
    upright_page.image.rotate(90, expand=True).save(path, dpi=(DPI, DPI))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output, output_type="pdf")  # read as it lies: lines run down
    engine_lines = [" ".join(line.split()) for line in result.pages[0].text.splitlines() if line.strip()]
    assert len(engine_lines) >= 10
    # The lines are written running down the page, so these read every line whole, words
    # neither glued nor split (not always in the engine's order of lines). Not yet:
    # pdftotext -raw, Ghostscript and pdfminer.six.
    for name in ("pdftotext", "pdfium", "pdf.js", "mupdf", "pypdf"):
        got = [" ".join(line.split()) for line in EXTRACTORS[name](output).splitlines() if line.strip()]
        assert sorted(got) == sorted(engine_lines), name


def test_large_pages_are_read_on_a_smaller_copy(tmp_path: Path, page_factory, prose_lines) -> None:
    from pdfocr.engines.tesseract import TesseractEngine
    from pdfocr.inputs import expand_inputs
    from pdfocr.options import ConvertOptions
    from pdfocr.page import recognize_page
    from pdfocr.render import render_page

    page = page_factory(prose_lines(13, 4), dpi=400, points=12)  # 2332 x 3308: 7.7 megapixels
    path = tmp_path / "large.png"
    page.image.save(path, dpi=(400, 400))
    (source,) = expand_inputs([path])
    found = recognize_page(source, TesseractEngine(), ConvertOptions(ocr_max_megapixels=2))
    assert words_of(found.text.text) == words_of(page.text)
    # Boxes come back in the original's pixels, within the copy's coarser grid.
    for got, want in zip((w for line in found.text.lines for w in line.words), page.words, strict=True):
        assert got.box.left == pytest.approx(want.box[0], abs=5)
        assert got.box.right == pytest.approx(want.box[2], abs=5)
    pdf = tmp_path / "large.pdf"
    pdf.write_bytes(render_page(found.page, found.text))
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True).stdout
    assert listing.splitlines()[2].split()[3:5] == ["2332", "3308"]  # the PDF keeps every pixel
    _assert_lines_up(pdf, page)


def test_a_skewed_1_bit_scan_is_straightened_and_stays_1_bit() -> None:
    image = Image.new("1", (1200, 800), 1)
    draw = ImageDraw.Draw(image)
    for y in range(100, 700, 40):
        draw.line((100, y, 1100, y + 30), fill=0, width=6)  # lines sloping by ~1.7 degrees
    straight, angle = straightened(LoadedPage(image=image, dpi=(300.0, 300.0)))
    assert straight.image.mode == "1"
    assert 1.0 < abs(angle) < 2.5


def _text_page(page, *, ink: int = 0, paper: int = 255, border: int = 0) -> Image.Image:
    """The drawn page with other ink and paper shades, and a dark frame ``border`` wide
    (a scanner lid), as the measure sees them."""
    gray = page.image.convert("L")
    shaded = gray.point(lambda v: round(paper + (ink - paper) * (255 - v) / 255))
    if border:
        framed = Image.new("L", (shaded.width + 2 * border, shaded.height + 2 * border), 20)
        framed.paste(shaded, (border, border))
        return framed
    return shaded


def _skewed(image: Image.Image, degrees: float, fill: int) -> Image.Image:
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=fill)


def test_pages_with_nothing_to_measure_are_left_alone(upright_page) -> None:
    blank = LoadedPage(image=Image.new("L", (1200, 1600), 255), dpi=(150.0, 150.0))
    assert straightened(blank) == (blank, 0.0)
    noisy = Image.effect_noise((1200, 1600), 8).point(lambda v: min(255, v + 120))
    assert skew_angle(noisy) == 0.0
    faint = _text_page(upright_page, ink=215, paper=250)  # pale print, straight
    assert abs(skew_angle(faint)) < MIN_SKEW


@pytest.mark.parametrize(
    ("name", "ink", "paper", "border"),
    [("faint print", 200, 250, 0), ("white on black", 245, 15, 0), ("dark frame", 0, 255, 60)],
)
@pytest.mark.parametrize("skew", [-2.5, 1.5])
def test_skew_is_measured_on_hard_pages(
    upright_page, name: str, ink: int, paper: int, border: int, skew: float
) -> None:
    page = _text_page(upright_page, ink=ink, paper=paper, border=border)
    found = skew_angle(_skewed(page, skew, fill=paper))
    assert found == pytest.approx(-skew, abs=0.15), name


def test_the_angle_stays_within_the_documented_range(upright_page) -> None:
    page = _text_page(upright_page)
    for skew in (-8.0, 7.0):  # beyond what deskew straightens
        assert abs(skew_angle(_skewed(page, skew, fill=255))) <= MAX_SKEW


def test_the_skew_sample_is_small_whatever_the_shape() -> None:
    strip = Image.new("L", (900, 40_000), 255)
    sample = _skew_sample(strip)
    assert sample.width * sample.height <= SKEW_SAMPLE_PIXELS
    assert sample.width >= 0.85 * 900  # measured at its own resolution, on a band of it


def test_a_skewed_black_and_white_palette_png_stays_1_bit(tmp_path: Path) -> None:
    image = Image.new("1", (1200, 800), 1)
    draw = ImageDraw.Draw(image)
    for y in range(100, 700, 40):
        draw.line((100, y, 1100, y + 30), fill=0, width=6)
    palette = image.convert("P")  # what a 1-bit palette PNG opens as
    palette.putpalette([0, 0, 0, 255, 255, 255])
    path = tmp_path / "fax.png"
    palette.save(path, bits=1, dpi=(300, 300))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output, deskew=True, engine=EchoEngine())
    assert abs(result.pages[0].deskewed) > 1
    listing = subprocess.run(["pdfimages", "-list", str(output)], capture_output=True, text=True).stdout
    color, _, bits, encoding = listing.splitlines()[2].split()[5:9]
    assert (color, bits, encoding) == ("gray", "1", "ccitt")  # not 8-bit RGB, 24 times the bits


def test_corners_uncovered_by_straightening_take_the_page_colour(upright_page) -> None:
    page = _text_page(upright_page, ink=245, paper=15)  # white on black
    skewed = LoadedPage(image=_skewed(page, 2.5, fill=15), dpi=(150.0, 150.0))
    straight, angle = straightened(skewed)
    assert angle == pytest.approx(-2.5, abs=0.15)
    assert straight.image.getpixel((0, 0)) < 40  # black like the page, not a white wedge


def test_pages_read_the_wrong_way_up_are_turned_by_default(tmp_path: Path, upright_page) -> None:
    paths = []
    for turned in (0, 90, 180, 270):
        path = tmp_path / f"scan-{turned}.png"
        upright_page.image.rotate(turned, expand=True).save(path, dpi=(DPI, DPI))
        paths.append(path)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(paths, output)
    assert [page.rotated for page in result.pages] == [0, 90, 180, 270]
    for page in result.pages:
        assert words_of(page.text) == words_of(upright_page.text)
    # Every extractor's page reads upright: pdftotext gives the text back as written.
    assert words_of(pdftotext(output)) == words_of(upright_page.text) * 4
    as_they_lie = pdfocr.convert(paths[2], tmp_path / "off.pdf", rotate_pages=False)
    assert as_they_lie.pages[0].rotated == 0
    assert words_of(as_they_lie.pages[0].text) != words_of(upright_page.text)


def _fax(page_factory, prose_lines, standard: bool) -> tuple[Image.Image, object]:
    """A fax of a page: 204 x 196 dpi (fine mode) or 204 x 98 (standard: every other
    row, the letters squashed to half their height), 1 bit, and the page drawn."""
    drawn = page_factory(prose_lines(31, 9), dpi=204, points=10, size_inches=(8.27, 5.0))
    width, height = drawn.image.size
    rows = height * 196 // 204 // (2 if standard else 1)
    fax = drawn.image.resize((width, rows), Image.Resampling.BOX).point(lambda v: 255 if v > 150 else 0)
    return fax.convert("1"), drawn


@pytest.mark.parametrize("standard", [True, False])
def test_faxes_keep_their_size_and_are_read_with_square_pixels(
    tmp_path: Path, page_factory, prose_lines, standard: bool
) -> None:
    fax, drawn = _fax(page_factory, prose_lines, standard)
    dpi_y = 98 if standard else 196
    path = tmp_path / "fax.tif"
    fax.save(path, compression="group4", dpi=(204, dpi_y))
    output = tmp_path / "fax.pdf"
    result = pdfocr.convert(path, output)
    assert words_of(result.pages[0].text) == words_of(drawn.text)
    with pikepdf.open(output) as document:
        box = [float(v) for v in document.pages[0].mediabox]
    # The page keeps its true size: pixels over each axis's resolution.
    assert box[2] == pytest.approx(fax.width * 72 / 204, abs=0.1)
    assert box[3] == pytest.approx(fax.height * 72 / dpi_y, abs=0.1)
    # The words' boxes lie on the ink, across and down (the page was drawn at 204 dpi).
    (found,) = pdftotext_words(output)
    scale = 72 / 204
    for got, want in zip(found, [word for line in drawn.lines for word in line], strict=True):
        assert got.left == pytest.approx(want.box[0] * scale, abs=1.5)
        assert got.right == pytest.approx(want.box[2] * scale, abs=1.5)
        assert got.top < (want.box[1] + want.box[3]) / 2 * scale < got.bottom


def test_the_engine_reads_a_copy_with_square_pixels() -> None:
    page = LoadedPage(image=Image.new("1", (1700, 550), 1), dpi=(204.0, 98.0))
    copy = ocr_copy(page, 50.0)
    assert copy.image.size == (1700, round(550 * 204 / 98)) and copy.dpi == 204.0
    assert copy.enlarge_x == 1.0 and copy.enlarge_y == pytest.approx(98 / 204, rel=1e-3)
    square = LoadedPage(image=Image.new("L", (1000, 800), 255), dpi=(300.0, 301.0))
    assert ocr_copy(square, 50.0).is_page

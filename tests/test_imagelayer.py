"""Every kind of scan goes into the PDF losslessly, in its own encoding where a PDF can
hold it, and poppler shows it with the source's colours."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from pdfocr.inputs import expand_inputs, load_page
from pdfocr.model import PageText
from pdfocr.options import ConvertOptions
from pdfocr.render import render_page

DPI = 72  # one image pixel per PDF point: pdftoppm at 72 dpi gives the pixels back


def _colourful(size: tuple[int, int] = (240, 160)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for x in range(size[0]):
        draw.line([(x, 0), (x, 40)], fill=(x, 255 - x, (3 * x) % 256))
    draw.rectangle([10, 60, 80, 120], fill=(200, 30, 40))
    draw.rectangle([90, 60, 160, 120], fill=(20, 160, 60))
    draw.rectangle([170, 60, 230, 120], fill=(30, 60, 200))
    draw.text((20, 130), "Scan 42", fill="black")
    return image


def _pdf(tmp_path: Path, data: bytes, name: str) -> Path:
    source = tmp_path / name
    source.write_bytes(data)
    (page_source,) = expand_inputs([source])
    page = load_page(page_source, ConvertOptions(dpi=DPI))
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_page(page, PageText(page.image.width, page.image.height)))
    return pdf


def _shown(pdf: Path) -> Image.Image:
    out = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(pdf), str(out)], check=True)
    return Image.open(out.with_suffix(".png")).convert("RGB")


def _extracted(pdf: Path) -> Image.Image:
    """The page's image as stored in the PDF, decoded by poppler (pdfimages)."""
    subprocess.run(["pdfimages", "-png", str(pdf), str(pdf.with_suffix(""))], check=True)
    (image,) = pdf.parent.glob(pdf.stem + "-*.png")
    return Image.open(image)


def _same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


def _embedded(pdf: Path) -> dict[str, str]:
    """pdfimages -list's row for the page's one image: color, bpc, enc."""
    rows = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True)
    (row,) = rows.stdout.splitlines()[2:]
    fields = row.split()
    return {"color": fields[5], "components": fields[6], "bpc": fields[7], "enc": fields[8]}


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean colour difference (0-255). Poppler's rendering moves some edges by a pixel,
    so a faithful page scores a few units; a blank, inverted or grey page scores 50+."""
    assert a.size == b.size
    return max(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean)


def _encoded(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, dpi=(DPI, DPI), **options)
    return buffer.getvalue()


def test_rgb_jpeg_is_kept_as_is(tmp_path: Path) -> None:
    data = _encoded(_colourful(), format="JPEG", quality=90)
    pdf = _pdf(tmp_path, data, "photo.jpg")
    assert data in pdf.read_bytes()
    assert _embedded(pdf)["enc"] == "jpeg"
    assert _difference(_shown(pdf), Image.open(io.BytesIO(data))) < 8


def test_cmyk_jpeg_keeps_its_colours(tmp_path: Path) -> None:
    source = _colourful().convert("CMYK")
    data = _encoded(source, format="JPEG", quality=95)
    pdf = _pdf(tmp_path, data, "print.jpg")
    assert data in pdf.read_bytes()
    assert _embedded(pdf)["color"] == "cmyk"
    # Poppler's CMYK->RGB differs from Pillow's naive one; the colours must still match
    # closely (an uninverted Adobe CMYK JPEG would come out as a negative, ~200 off).
    assert _difference(_shown(pdf), Image.open(io.BytesIO(data))) < 40


def test_bilevel_tiff_stays_group4(tmp_path: Path) -> None:
    bilevel = _colourful().convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    data = _encoded(bilevel, format="TIFF", compression="group4")
    pdf = _pdf(tmp_path, data, "fax.tif")
    embedded = _embedded(pdf)
    assert (embedded["enc"], embedded["bpc"]) == ("ccitt", "1")
    assert _same_pixels(_extracted(pdf), bilevel)
    assert _difference(_shown(pdf), bilevel) < 8


def test_frames_of_a_multipage_bilevel_tiff_stay_group4(tmp_path: Path) -> None:
    frames = [
        _colourful().convert("L").point(lambda v, t=t: 255 if v > t else 0).convert("1") for t in (100, 160)
    ]
    data = io.BytesIO()
    frames[0].save(data, format="TIFF", save_all=True, append_images=frames[1:], compression="group4")
    source = tmp_path / "pages.tif"
    source.write_bytes(data.getvalue())
    second = expand_inputs([source])[1]
    page = load_page(second, ConvertOptions(dpi=DPI))
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_page(page, PageText(page.image.width, page.image.height)))
    assert (_embedded(pdf)["enc"], _embedded(pdf)["bpc"]) == ("ccitt", "1")
    assert _same_pixels(_extracted(pdf), frames[1])


@pytest.mark.parametrize(
    ("mode", "color"),
    [("L", "gray"), ("P", "index"), ("RGB", "rgb")],
)
def test_png_keeps_its_colour_model(tmp_path: Path, mode: str, color: str) -> None:
    image = _colourful().convert(mode)
    data = _encoded(image, format="PNG")
    pdf = _pdf(tmp_path, data, f"scan-{mode}.png")
    assert _embedded(pdf)["color"] == color
    assert _same_pixels(_extracted(pdf), image)
    assert _difference(_shown(pdf), image) < 15
    # A lossless copy costs about what the file did.
    assert pdf.stat().st_size < len(data) * 1.05 + 10_000


def test_sixteen_bit_png_is_not_blank(tmp_path: Path) -> None:
    eight = _colourful().convert("L")
    sixteen = Image.new("I;16", eight.size)
    sixteen.putdata([v * 257 for v in eight.get_flattened_data()])
    data = _encoded(sixteen, format="PNG")
    pdf = _pdf(tmp_path, data, "deep.png")
    shown = _shown(pdf)
    assert ImageStat.Stat(shown).extrema[0][0] < 50  # the dark parts are dark
    assert _difference(shown, eight) < 8


@pytest.mark.parametrize("format_name", ["BMP", "GIF", "WEBP"])
def test_other_formats_are_embedded_losslessly(tmp_path: Path, format_name: str) -> None:
    image = _colourful()
    options: dict[str, object] = {"lossless": True} if format_name == "WEBP" else {}
    data = _encoded(image, format=format_name, **options)
    pdf = _pdf(tmp_path, data, f"scan.{format_name.lower()}")
    assert _same_pixels(_extracted(pdf), Image.open(io.BytesIO(data)))


def test_alpha_is_flattened_onto_white(tmp_path: Path) -> None:
    image = _colourful().convert("RGBA")
    image.putalpha(Image.new("L", image.size, 0).point(lambda _: 0))
    ImageDraw.Draw(image).rectangle([10, 10, 50, 50], fill=(0, 0, 255, 255))
    pdf = _pdf(tmp_path, _encoded(image, format="PNG"), "logo.png")
    shown = _shown(pdf)
    assert shown.getpixel((100, 100)) == (255, 255, 255)
    assert shown.getpixel((30, 30)) == (0, 0, 255)


def test_group4_strip_of_a_scanner_tiff_is_copied_as_is(tmp_path: Path) -> None:
    bilevel = _colourful().convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    # Scanners write each page as one strip; that strip is what the PDF can hold as is.
    data = _encoded(bilevel, format="TIFF", compression="group4", strip_size=2**31 - 1)
    tiff = Image.open(io.BytesIO(data))
    (offset,), (length,) = tiff.tag_v2[273], tiff.tag_v2[279]
    pdf = _pdf(tmp_path, data, "scanner.tif")
    assert data[offset : offset + length] in pdf.read_bytes()
    assert _same_pixels(_extracted(pdf), bilevel)


def test_a_bilevel_png_keeps_its_own_data_at_one_bit(tmp_path: Path) -> None:
    bilevel = _colourful().convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    data = _encoded(bilevel, format="PNG")
    pdf = _pdf(tmp_path, data, "fax.png")
    embedded = _embedded(pdf)
    assert (embedded["color"], embedded["bpc"], embedded["enc"]) == ("gray", "1", "image")  # Flate
    assert _same_pixels(_extracted(pdf), bilevel)


def test_gray_with_alpha_stays_gray(tmp_path: Path) -> None:
    gray = _colourful().convert("L")
    image = gray.convert("LA")
    ImageDraw.Draw(image).rectangle([100, 100, 140, 140], fill=(0, 0))  # a transparent hole
    pdf = _pdf(tmp_path, _encoded(image, format="PNG"), "gray-alpha.png")
    assert _embedded(pdf)["color"] == "gray"
    expected = gray.copy()
    ImageDraw.Draw(expected).rectangle([100, 100, 140, 140], fill=255)  # the hole shows white paper
    assert _same_pixels(_extracted(pdf), expected)


def test_a_floating_point_tiff_becomes_gray(tmp_path: Path) -> None:
    gray = _colourful().convert("L")
    image = Image.eval(gray.convert("F"), lambda v: v / 255)  # values 0..1
    pdf = _pdf(tmp_path, _encoded(image, format="TIFF"), "float.tif")
    assert _embedded(pdf)["color"] == "gray"
    assert _difference(_extracted(pdf), gray) < 1

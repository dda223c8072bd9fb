"""Pages turned upright (--rotate-pages) and straightened (--deskew), with the real
Tesseract: the page shows upright and the text layer lines up with it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import pdftotext_words, words_of
from PIL import Image, ImageChops, ImageFilter, ImageStat

import pdfocr

DPI = 150


@pytest.fixture(scope="module")
def upright_page(page_factory, prose_lines):
    return page_factory(prose_lines(11, 7) + prose_lines(12, 7), dpi=DPI, points=11)


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

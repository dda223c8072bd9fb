"""``optimize="lossless"`` (pdfocr.optimize): smaller images, every pixel the same, proved
by rendering both PDFs with poppler; a copy that would change a pixel is not taken."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from conftest import pdftotext
from PIL import Image

import pdfocr
from pdfocr import optimize

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> list[Path]:
    """A 1-bit scan (PNG), a gray photo-like scan (JPEG), a gray PNG, a black-and-white
    scan stored as 8-bit gray, and a colour PNG."""
    folder = tmp_path_factory.mktemp("bundle")
    bitonal, two_levels, colour = folder / "bitonal.png", folder / "two-levels.png", folder / "colour.png"
    page = Image.open(SAMPLES / "page1.png")
    page.convert("1").save(bitonal, dpi=(300, 300))
    page.convert("1").convert("L").save(two_levels, dpi=(300, 300))
    page.convert("RGB").save(colour, dpi=(300, 300))
    return [bitonal, SAMPLES / "page2.jpg", SAMPLES / "page3.png", two_levels, colour]


def _pages(pdf: Path, folder: Path) -> list[bytes]:
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", "100", "-gray", str(pdf), str(prefix)], check=True)
    return [Image.open(page).tobytes() for page in sorted(folder.glob(f"{pdf.stem}-*.pgm"))]


@pytest.mark.parametrize("output_type", ["pdf", "pdfa-2"])
def test_lossless_is_smaller_with_every_pixel_the_same(
    tmp_path: Path, bundle: list[Path], output_type: str
) -> None:
    plain, small = tmp_path / "plain.pdf", tmp_path / "small.pdf"
    pdfocr.convert(bundle, plain, output_type=output_type)
    result = pdfocr.convert(bundle, small, output_type=output_type, optimize="lossless")
    assert result.output_type == output_type  # still valid PDF/A: validated as it was written
    assert small.stat().st_size < 0.85 * plain.stat().st_size
    assert _pages(small, tmp_path) == _pages(plain, tmp_path)
    assert pdftotext(small) == pdftotext(plain)
    with pikepdf.open(small) as document:
        filters = [str(next(iter(page.images.values())).Filter) for page in document.pages]
    assert filters[:2] == ["/CCITTFaxDecode", "/DCTDecode"]
    assert filters[3] == "/CCITTFaxDecode"  # the black-and-white page stored as gray


def test_a_copy_that_would_change_a_pixel_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    original = (SAMPLES / "page2.jpg").read_bytes()
    document = pikepdf.open(io.BytesIO(img2pdf.convert(original)))
    worse = io.BytesIO()
    Image.open(io.BytesIO(original)).save(worse, format="JPEG", quality=20)
    monkeypatch.setattr(optimize, "_smaller_jpeg", lambda raw: worse.getvalue())
    with pytest.warns(pdfocr.PdfocrWarning, match="differed in its pixels: kept as it was"):
        done = optimize.optimize_lossless(document)
    assert (done.images, done.kept) == (0, 1)
    (image,) = document.pages[0].images.values()
    assert image.read_raw_bytes() == original


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(pdfocr.UsageError, match="unknown optimize level 'tiny'"):
        pdfocr.ConvertOptions(optimize="tiny")


@pytest.fixture(scope="module")
def noisy_scan(tmp_path_factory) -> Path:
    """A gray office scan with paper grain and bleed-through (PNG): JPEG makes it smaller."""
    from realistic_pages import realistic_cases, write_cases

    ((_, path),) = write_cases(tmp_path_factory.mktemp("noisy"), realistic_cases(["bleed-through"]))
    return path


def test_lossy_pages_are_jpegs_the_engine_reads_the_same(tmp_path: Path, noisy_scan: Path) -> None:
    plain, small = tmp_path / "plain.pdf", tmp_path / "small.pdf"
    kept = pdfocr.convert(noisy_scan, plain, output_type="pdfa-2")
    result = pdfocr.convert(noisy_scan, small, output_type="pdfa-2", optimize="lossy")
    assert result.output_type == "pdfa-2"
    assert small.stat().st_size < 0.5 * plain.stat().st_size
    with pikepdf.open(small) as document:
        (image,) = document.pages[0].images.values()
        assert image.Filter == "/DCTDecode"
    # The text layer is the first reading's: the same as without optimising.
    assert pdftotext(small) == pdftotext(plain)
    assert result.text == kept.text


def test_a_jpeg_that_loses_a_number_falls_back_to_a_milder_one(tmp_path: Path, noisy_scan: Path) -> None:
    milder, plain = tmp_path / "milder.pdf", tmp_path / "plain.pdf"
    pdfocr.convert(noisy_scan, plain, output_type="pdf")
    # Quality 1 loses numbers (the guard refuses it); quality 80 does not.
    pdfocr.convert(noisy_scan, milder, output_type="pdf", optimize="lossy=1")
    with pikepdf.open(milder) as document:
        (image,) = document.pages[0].images.values()
        assert image.Filter == "/DCTDecode"
        jpeg = Image.open(io.BytesIO(image.read_raw_bytes()))
        assert jpeg.quantization[0][0] < 10  # about quality 80, not 1 (whose steps are in the hundreds)
    assert pdftotext(milder) == pdftotext(plain)


def test_a_page_no_jpeg_reads_the_same_keeps_its_image(
    tmp_path: Path, noisy_scan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdfocr import lossy

    monkeypatch.setattr(lossy, "MILDER", ())  # in this process: the inline executor below
    output = tmp_path / "out.pdf"
    with (
        pdfocr.Converter(executor=pdfocr.executors.InlineExecutor()) as converter,
        pytest.warns(pdfocr.PdfocrWarning, match=r"kept its image: as a JPEG at quality 1 "),
    ):
        converter.convert(noisy_scan, output, output_type="pdf", optimize="lossy=1")
    with pikepdf.open(output) as document:
        (image,) = document.pages[0].images.values()
        assert image.Filter != "/DCTDecode"

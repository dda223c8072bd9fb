"""Phone photos (pdfocr.photo): the sheet found, its perspective corrected, its light made
even, read by the real Tesseract; or the photo kept as taken, the words mapped back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import pdftotext
from PIL import Image, ImageStat
from realistic_pages import realistic_cases, word_recall, write_cases

import pdfocr
from pdfocr.photo import find_sheet


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> tuple[Path, str]:
    """A phone photo (JPEG, EXIF 72 dpi) of a printed page on a wooden table, and its text."""
    ((case, path),) = write_cases(tmp_path_factory.mktemp("photo"), realistic_cases(["photo-table"]))
    return path, case.text


def _shown(pdf: Path) -> Image.Image:
    out = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", "-singlefile", str(pdf), str(out)], check=True)
    return Image.open(out.with_suffix(".png")).convert("L")


def test_the_sheet_of_a_photo_is_read_and_shown_flattened(tmp_path: Path, photo) -> None:
    path, truth = photo
    output = tmp_path / "flat.pdf"
    result = pdfocr.convert(path, output, engine="tesseract")
    assert word_recall(truth, result.text) >= 0.9
    assert word_recall(truth, pdftotext(output)) >= 0.9
    with pikepdf.open(output) as document:
        box = [float(v) for v in document.pages[0].mediabox]
    # The page is a sheet of paper (the photo's 3:4 sheet came out as A4 or Letter) ...
    assert (box[2], box[3]) in ((pytest.approx(595.4, abs=2), pytest.approx(841.7, abs=2)),
                                (pytest.approx(612, abs=2), pytest.approx(792, abs=2)))  # fmt: skip
    # ... showing the sheet alone: paper up to its edges, no table around it.
    shown = _shown(output)
    for corner in [
        (0, 0),
        (shown.width - 12, 0),
        (0, shown.height - 12),
        (shown.width - 12, shown.height - 12),
    ]:
        patch = shown.crop((*corner, corner[0] + 12, corner[1] + 12))
        assert ImageStat.Stat(patch).mean[0] > 200


def test_without_flattening_tesseract_reads_the_table_not_the_page(tmp_path: Path, photo) -> None:
    path, truth = photo
    as_taken = pdfocr.convert(path, tmp_path / "raw.pdf", engine="tesseract", flatten_photos=False)
    assert word_recall(truth, as_taken.text) < 0.5


def test_straightening_never_makes_a_photo_worse(tmp_path: Path, photo) -> None:
    path, truth = photo
    plain = pdfocr.convert(path, tmp_path / "plain.pdf", engine="tesseract")
    straightened = pdfocr.convert(path, tmp_path / "deskew.pdf", engine="tesseract", deskew=True)
    assert word_recall(truth, straightened.text) >= word_recall(truth, plain.text) - 0.02


def test_scans_and_pages_filling_the_frame_have_no_sheet_to_find(page_factory, prose_lines) -> None:
    scan = page_factory(prose_lines(51, 10), dpi=100, points=11).image
    assert find_sheet(scan) is None
    on_gray = Image.new("L", (900, 1200), 120)
    on_gray.paste(scan.resize((500, 700)), (200, 250))
    found = find_sheet(on_gray)
    assert found is not None
    xs = sorted(x for x, _ in found.corners)
    ys = sorted(y for _, y in found.corners)
    assert xs[0] == pytest.approx(200, abs=6) and xs[-1] == pytest.approx(700, abs=6)
    assert ys[0] == pytest.approx(250, abs=6) and ys[-1] == pytest.approx(950, abs=6)


HEIC_LINES = [
    "Meeting notes, 12 March",
    "The library opens at nine.",
    "Bring the signed forms back",
    "before Friday, please.",
    "Questions go to the front desk.",
]


def test_a_heic_photo_is_read_and_its_sheet_shown(tmp_path: Path) -> None:
    # tests/photo.heic: a phone's HEIC photo (EXIF: a camera, 72 dpi) of a note on a dark
    # desk, turned 4 degrees; made once with pillow-heif (pdfocr reads it with pi-heif).
    photo = Path(__file__).parent / "photo.heic"
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(photo.read_bytes())
    output = tmp_path / "note.pdf"
    result = pdfocr.convert(folder, output)  # a folder picks HEIC files up too
    assert result.page_count == 1
    assert [line for line in result.text.splitlines() if line.strip()] == HEIC_LINES
    with pikepdf.open(output) as document:
        box = [float(v) for v in document.pages[0].mediabox]
        (image,) = [x for x in document.pages[0].obj.Resources.XObject.values() if x.Subtype == "/Image"]
        assert image.Filter == "/DCTDecode"  # a photo's sheet stays a photo: JPEG
    assert box[3] / box[2] == pytest.approx(11.69 / 8.27, rel=0.03) or box[3] / box[2] == pytest.approx(
        11 / 8.5, rel=0.03
    )
    assert box[3] < 900  # a sheet of paper, not 1600 pixels at 72 dpi

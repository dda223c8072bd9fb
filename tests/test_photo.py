"""Phone photos (pdfocr.photo): the sheet found, its perspective corrected, its light made
even, read by the real Tesseract; or the photo kept as taken, the words mapped back."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pikepdf
import pytest
from conftest import pdftotext, pdftotext_words
from extractors import EXTRACTORS
from PIL import Image, ImageStat
from realistic_pages import cer, realistic_cases, word_recall, write_cases

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


def _sure_words(photo: Path, truth: str, tmp_path: Path) -> dict[str, tuple[float, float]]:
    """The words Tesseract itself reads for sure on the photo as taken (sparse text,
    confidence over 80, five letters or more, each once on the page, punctuation aside),
    and their middles (pixels)."""
    once = Counter(token.strip(".,;:!?()\"'") for token in truth.split())
    subprocess.run(
        ["tesseract", str(photo), str(tmp_path / "sure"), "--psm", "11", "tsv"],
        check=True,
        capture_output=True,
    )
    seen: dict[str, list[tuple[float, float]]] = {}
    for row in (tmp_path / "sure.tsv").read_text().splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) == 12 and float(fields[10]) > 80 and len(fields[11]) > 4 and fields[11].isalpha():
            left, top, width, height = map(float, fields[6:10])
            seen.setdefault(fields[11], []).append((left + width / 2, top + height / 2))
    return {word: middles[0] for word, middles in seen.items() if len(middles) == 1 and once[word] == 1}


def test_a_kept_photo_shows_its_own_bytes_with_the_text_where_it_lies(tmp_path: Path, photo) -> None:
    path, truth = photo
    output = tmp_path / "kept.pdf"
    result = pdfocr.convert(path, output, engine="tesseract", keep_photos=True)
    assert word_recall(truth, result.text) >= 0.9  # read as well as flattened
    subprocess.run(["pdfimages", "-all", str(output), str(tmp_path / "image")], check=True)
    assert (tmp_path / "image-000.jpg").read_bytes() == path.read_bytes()
    # Every extractor reads the text in its order, although the photo's lines are tilted.
    for name, extract in EXTRACTORS.items():
        assert cer(truth, extract(output)) < 0.02, name
    with Image.open(path) as image:
        width, height = image.size
    with pikepdf.open(output) as document:
        box = [float(v) for v in document.pages[0].mediabox]
    # The whole photo is the page, its sheet at about the size of a sheet of paper.
    assert box[2] / box[3] == pytest.approx(width / height, rel=0.01)
    assert 700 < box[3] < 1300
    per_point = width / box[2]
    placed_words = pdftotext_words(output)[0]
    texts = [word.text for word in placed_words]
    layer = {word.text: word for word in placed_words if texts.count(word.text) == 1}
    sure = _sure_words(path, truth, tmp_path)
    compared = [word for word in sure if word in layer]
    assert len(compared) >= 20
    for word in compared:
        placed = layer[word]
        x, y = sure[word]
        # Each word across where its ink is; down, within the rise of a tilted line.
        assert (placed.left + placed.right) / 2 * per_point == pytest.approx(x, abs=20), word
        assert (placed.top + placed.bottom) / 2 * per_point == pytest.approx(y, abs=90), word


def test_the_page_of_a_book_photo_is_cut_at_the_spine(tmp_path: Path) -> None:
    # The open book runs off the photo at the left, its neighbour page's lines cut off there.
    ((case, path),) = write_cases(tmp_path, realistic_cases(["photo-book"]))
    output = tmp_path / "book.pdf"
    result = pdfocr.convert(path, output, engine="tesseract")
    assert word_recall(case.text, result.text) >= 0.9
    assert cer(case.text, result.text) < 0.03  # none of the neighbour page's cut-off words
    with Image.open(path) as photo:
        sheet = find_sheet(photo)
        width = photo.width
    assert sheet is not None
    # The page's left edge is the spine, well inside the photo; its others are the page's own.
    left_edge = (sheet.corners[0][0] + sheet.corners[3][0]) / 2
    assert 0.15 * width < left_edge < 0.35 * width
    shown = _shown(output)
    assert ImageStat.Stat(shown.crop((0, shown.height // 3, 8, 2 * shown.height // 3))).mean[0] > 150


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

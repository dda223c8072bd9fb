"""The second engine, RapidOCR, and the ``auto`` engine's choice, with the real RapidOCR
(its wheel's own PP-OCRv6 models) and the real Tesseract on pages made like the ones
people photograph."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pdftotext, words_of
from fakes import FixedEngine
from PIL import Image
from realistic_pages import realistic_cases, word_recall, write_cases

import pdfocr
from pdfocr.engines import SecondOpinion
from pdfocr.engines import rapidocr as rapidocr_module
from pdfocr.engines.auto import AutoEngine, is_poor
from pdfocr.engines.rapidocr import RapidOcrEngine
from pdfocr.engines.tesseract import TesseractEngine
from pdfocr.errors import DependencyError, UsageError
from pdfocr.model import Block, Box, Line, PageText, Word
from pdfocr.options import ConvertOptions


@pytest.fixture(scope="module")
def receipt(tmp_path_factory) -> tuple[Path, str]:
    """A photo of a thermal receipt (faded print on a dark table), and its text."""
    ((case, path),) = write_cases(tmp_path_factory.mktemp("receipt"), realistic_cases(["receipt"]))
    return path, case.text


def test_rapidocr_reads_words_with_their_boxes_on_the_ink(page_factory) -> None:
    drawn = page_factory(["Invoice 4711 paid in full", "Thank you for your order"], dpi=200, points=14)
    found = RapidOcrEngine().recognize(drawn.image, languages=("eng",), dpi=200)
    assert words_of(found.text) == words_of(drawn.text)
    assert [line.text for line in found.lines] == [
        " ".join(word.text for word in line) for line in drawn.lines
    ]
    for got, want in zip(
        [word for line in found.lines for word in line.words],
        [word for line in drawn.lines for word in line],
        strict=True,
    ):
        # Each word's box holds the word's ink, give or take the detector's margin.
        assert got.box.left <= want.box[0] + 6 and got.box.right >= want.box[2] - 6
        assert got.box.right - got.box.left < (want.box[2] - want.box[0]) * 1.6 + 12
        assert got.confidence is not None and got.confidence > 80


def test_rapidocr_refuses_languages_it_does_not_read_in_one_line(tmp_path: Path, cli, samples) -> None:
    with pytest.raises(UsageError, match="does not read heb"):
        RapidOcrEngine().check(["eng", "heb"])
    run = cli(
        str(next(samples.glob("*.png"))), "-o", str(tmp_path / "out.pdf"), "--engine", "rapidocr", "-l", "heb"
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "does not read heb" in run.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_rapidocr_never_downloads_models_it_lacks(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(rapidocr_module, "_package_folder", lambda: tmp_path)
    with pytest.raises(DependencyError, match="never downloads models"):
        RapidOcrEngine().check(["eng"])


def test_auto_is_the_default_and_reads_a_receipt_tesseract_cannot(tmp_path: Path, receipt, cli) -> None:
    path, truth = receipt
    assert ConvertOptions().engine == "auto"
    alone = pdfocr.convert(path, tmp_path / "tesseract.pdf", engine="tesseract")
    assert word_recall(truth, alone.text) < 0.5
    output = tmp_path / "auto.pdf"
    run = cli(str(path), "-o", str(output))
    assert run.returncode == 0, run.stderr
    assert "pages/s; read by rapidocr 1)" in run.stderr
    assert word_recall(truth, pdftotext(output)) >= 0.9


def test_auto_leaves_clean_pages_to_tesseract(tmp_path: Path, samples) -> None:
    result = pdfocr.convert(sorted(samples.glob("*.png"))[:2], tmp_path / "out.pdf")
    assert [page.engine for page in result.pages] == ["tesseract", "tesseract"]
    assert result.engine_counts == {"tesseract": 2}


def _reading(confidence: float, characters: int) -> PageText:
    word = Word("x" * characters, Box(0, 0, 10 * characters, 20), confidence)
    return PageText(1000, 1000, (Block((Line((word,), word.box),)),))


def test_auto_keeps_the_better_reading() -> None:
    inked = Image.new("L", (400, 400), 255)
    inked.paste(0, (100, 100, 300, 140))
    poor, good = _reading(40.0, 200), _reading(95.0, 180)
    auto = AutoEngine(fallback=FixedEngine(good))  # type: ignore[arg-type]
    assert isinstance(auto, SecondOpinion)
    assert auto.reconsider(inked, poor, languages=["eng"], dpi=300) == (good, "fixed")
    # A reading better than the second engine's stays; a good one never asks it.
    worse = AutoEngine(fallback=FixedEngine(_reading(90.0, 20)))  # type: ignore[arg-type]
    assert worse.reconsider(inked, poor, languages=["eng"], dpi=300) == (poor, "tesseract")
    assert auto.reconsider(inked, _reading(92.0, 200), languages=["eng"], dpi=300)[1] == "tesseract"


def test_what_makes_a_reading_poor(page_factory, prose_lines) -> None:
    blank = Image.new("L", (400, 400), 250)
    inked = blank.copy()
    inked.paste(0, (50, 50, 350, 90))
    nothing = PageText(400, 400)
    assert is_poor(inked, nothing) and not is_poor(blank, nothing)
    assert is_poor(inked, _reading(60.0, 100))
    # A page of print: read whole it is not poor; with half its lines unread, it is.
    drawn = page_factory(prose_lines(41, 12), dpi=150, points=11)
    read = TesseractEngine().recognize(drawn.image, languages=["eng"], dpi=150)
    assert not is_poor(drawn.image, read)
    half = PageText(read.width, read.height, read.blocks[: max(1, len(read.blocks) // 3)])
    assert len(half.lines) < len(read.lines) / 2
    assert is_poor(drawn.image, half)
    # Solid areas (a black bar, a coloured fill) are not print left unread.
    barred = drawn.image.copy()
    barred.paste(0, (0, 0, barred.width, barred.height // 3))
    assert not is_poor(barred, read)

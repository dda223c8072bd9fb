"""The real Tesseract engine on drawn pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import words_of
from PIL import Image

from pdfocr.engines import resolve_engine
from pdfocr.engines.tesseract import TesseractEngine, installed_languages
from pdfocr.errors import DependencyError, UsageError


@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "command"])
def test_recognizes_words_where_they_are_drawn(page_factory, prose_lines, in_process: bool) -> None:
    page = page_factory(prose_lines(1, 4), dpi=200)
    found = TesseractEngine(in_process=in_process).recognize(page.image, languages=("eng",), dpi=200)
    assert words_of(found.text) == words_of(page.text)
    drawn = page.words
    assert len(found.lines) == len(page.lines)
    for got, want in zip((w for line in found.lines for w in line.words), drawn, strict=True):
        assert got.text == want.text
        # Tesseract boxes the ink; Pillow's text box can differ by a pixel or two.
        for got_edge, want_edge in zip(
            (got.box.left, got.box.top, got.box.right, got.box.bottom), want.box, strict=True
        ):
            assert got_edge == pytest.approx(want_edge, abs=4)
    for line in found.lines:
        assert line.baseline is not None
        assert line.box.top < line.baseline <= line.box.bottom


@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "command"])
def test_missing_language_lists_the_installed_ones(in_process: bool) -> None:
    installed = installed_languages()
    assert "eng" in installed
    with pytest.raises(DependencyError) as caught:
        TesseractEngine(in_process=in_process).check(["eng", "xyz"])
    message = str(caught.value)
    assert "xyz" in message
    languages = [code for code in installed if code != "osd"]  # orientation data, not a language
    assert f"(installed: {', '.join(languages)})" in message
    assert "tesseract-ocr-xyz" in message


def test_missing_program_says_how_to_install() -> None:
    with pytest.raises(DependencyError, match="apt-get install tesseract-ocr"):
        TesseractEngine(program="no-such-tesseract", in_process=False).check(["eng"])


def test_unknown_engine_name() -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'nope'.*tesseract"):
        resolve_engine("nope")


@pytest.mark.parametrize("in_process", [True, False], ids=["tesserocr", "command"])
def test_orientation_is_detected(page_factory, prose_lines, in_process: bool) -> None:
    page = page_factory(prose_lines(2, 14), dpi=150)
    engine = TesseractEngine(in_process=in_process)
    for turned in (0, 90, 180, 270):
        found = engine.detect_rotation(page.image.rotate(turned, expand=True), dpi=150)
        assert found is not None
        assert found[0] == turned
    assert engine.detect_rotation(Image.new("L", (400, 400), 255), dpi=150) is None


@pytest.mark.parametrize("in_process", [True, False])
def test_tesseract_variables_reach_the_engine(page_factory, in_process: bool) -> None:
    drawn = page_factory(["Invoice 4711 of 2024"], dpi=200, points=16)
    plain = TesseractEngine(in_process=in_process).recognize(drawn.image, languages=["eng"], dpi=200)
    assert "Invoice" in plain.text
    digits = TesseractEngine(in_process=in_process, config=("tessedit_char_whitelist=0123456789",))
    # Only digits are read: the words of letters are gone.
    assert "".join(digits.recognize(drawn.image, languages=["eng"], dpi=200).text.split()) == "47112024"


def test_tesseract_knobs_on_the_command_line(tmp_path: Path, cli, page_factory) -> None:
    page = tmp_path / "page.png"
    page_factory(["Invoice 4711 of 2024"], dpi=200, points=16).image.save(page, dpi=(200, 200))
    sidecar = tmp_path / "out.txt"
    run = cli(
        # Tesseract alone: auto would have RapidOCR read the letters Tesseract was told not to.
        str(page), "-o", str(tmp_path / "out.pdf"), "--sidecar", str(sidecar), "--engine", "tesseract",
        "--tesseract-psm", "6",
        "--tesseract-config", "tessedit_char_whitelist=0123456789",
        "--tesseract-config", "textord_min_xheight=8",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "".join(sidecar.read_text().split()) == "47112024"
    for bad, says in [
        (["--tesseract-psm", "14"], "psm must be a whole number, 0 to 13, not '14'"),
        (["--tesseract-config", "no value"], "VARIABLE=VALUE"),
        (["--user-words", str(tmp_path / "missing.txt")], "missing.txt: the user words file cannot be read"),
        (["--user-patterns", str(sidecar), "--engine", "rapidocr"], "is for --engine auto or tesseract"),
    ]:
        run = cli(str(page), "-o", str(tmp_path / "bad.pdf"), *bad)
        assert run.returncode == 2 and says in run.stderr and run.stderr.count("\n") == 1, run.stderr
    assert not (tmp_path / "bad.pdf").exists()


def test_user_words_are_handed_to_tesseract(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("Quxbrillig\n")
    engine = TesseractEngine(user_words=str(words), psm=6, oem="1")  # type: ignore[arg-type]
    assert engine.variables == {"user_words_file": str(words)} and engine.oem == 1
    assert engine._command_options() == ["--psm", "6", "--oem", "1", "-c", f"user_words_file={words}"]

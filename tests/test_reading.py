"""Reading a page (pdfocr.reading): upright pages pay nothing for being checked; a page
read the wrong way up gets orientation detection and a second read, with the real
Tesseract in this process; the choice between two readings with fakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import words_of
from hard_pages import CASES
from PIL import Image
from realistic_pages import realistic_cases, word_recall

import pdfocr
from pdfocr.engines.tesseract import TesseractEngine
from pdfocr.errors import UsageError
from pdfocr.inputs import LoadedPage
from pdfocr.model import Block, Box, Line, PageText, Word
from pdfocr.options import ConvertOptions
from pdfocr.quality import Reading
from pdfocr.reading import read_page

DPI = 200


@dataclass(frozen=True)
class CountingTesseract(TesseractEngine):
    """Tesseract in this process, noting every read and orientation detection."""

    calls: list[str] = field(default_factory=list, compare=False)

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        self.calls.append("read")
        return super().recognize(image, languages=languages, dpi=dpi)

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        self.calls.append("orientation")
        return super().detect_rotation(image, dpi=dpi)


@pytest.fixture(scope="module")
def prose_page(page_factory, prose_lines):
    return page_factory(prose_lines(21, 8), dpi=DPI, points=11, noise=True, seed=21)


def _loaded(image: Image.Image) -> LoadedPage:
    return LoadedPage(image=image, dpi=(DPI, DPI))


def test_an_upright_page_is_read_once_and_never_asked_its_orientation(prose_page) -> None:
    engine = CountingTesseract()
    found = read_page(_loaded(prose_page.image), engine, ConvertOptions())
    assert engine.calls == ["read"]
    assert found.rotated == 0
    assert words_of(found.text.text) == words_of(prose_page.text)


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_a_page_read_the_wrong_way_up_is_turned_and_read_again(prose_page, turned: int) -> None:
    engine = CountingTesseract()
    scan = prose_page.image.rotate(turned, expand=True)  # counter-clockwise, as scanned
    found = read_page(_loaded(scan), engine, ConvertOptions())
    assert engine.calls == ["read", "orientation", "read"]
    assert found.rotated == turned
    assert found.page.image.size == prose_page.image.size
    assert words_of(found.text.text) == words_of(prose_page.text)


def test_turning_off_reads_the_page_as_it_lies(prose_page) -> None:
    engine = CountingTesseract()
    found = read_page(_loaded(prose_page.image.rotate(180)), engine, ConvertOptions(rotate_pages=False))
    assert engine.calls == ["read"]
    assert found.rotated == 0
    assert words_of(found.text.text) != words_of(prose_page.text)


def _text(confidence: float, words: int = 8, down: bool = False) -> PageText:
    """A page of ``words`` five-letter words of ``confidence``, across or down the page."""
    placed = []
    for index in range(words):
        offset = index * 60
        box = Box(10, 10 + offset, 30, 60 + offset) if down else Box(10 + offset, 10, 60 + offset, 30)
        placed.append(Word("abcde", box, confidence))
    line_box = Box(10, 10, 30, 60 * words) if down else Box(10, 10, 60 * words, 30)
    return PageText(400, 600, (Block((Line(tuple(placed), line_box),)),))


@dataclass(frozen=True)
class ScriptedEngine:
    """Gives its readings in turn and says the page is turned ``degrees``."""

    readings: tuple[PageText, ...]
    degrees: int = 180
    calls: list[str] = field(default_factory=list, compare=False)
    name: str = "scripted"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        self.calls.append("read")
        return self.readings[min(len(self.calls) - 1, len(self.readings) - 1)]

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        self.calls.append("orientation")
        return self.degrees, 20.0


def test_the_better_of_two_readings_is_kept() -> None:
    page = _loaded(Image.new("L", (400, 600), 255))
    better = ScriptedEngine((_text(30.0), _text(95.0)))
    assert read_page(page, better, ConvertOptions()).rotated == 180
    # Turned, the page reads worse still: the page stays as it lay, its first reading kept.
    worse = ScriptedEngine((_text(40.0), _text(20.0)))
    found = read_page(page, worse, ConvertOptions())
    assert (found.rotated, found.text) == (0, _text(40.0))
    assert worse.calls == ["read", "orientation", "read"]


def test_a_poor_reading_of_an_upright_page_costs_one_detection_and_no_second_read() -> None:
    engine = ScriptedEngine((_text(45.0),), degrees=0)
    found = read_page(_loaded(Image.new("L", (400, 600), 255)), engine, ConvertOptions())
    assert engine.calls == ["read", "orientation"]
    assert found.rotated == 0


def test_an_unsure_detection_leaves_the_page_alone() -> None:
    engine = ScriptedEngine((_text(30.0), _text(95.0)))
    found = read_page(_loaded(Image.new("L", (400, 600), 255)), engine, ConvertOptions(rotate_threshold=50))
    assert engine.calls == ["read", "orientation"]
    assert found.rotated == 0


def test_what_tells_a_turned_reading() -> None:
    assert not Reading.of(_text(92.0)).looks_turned
    assert Reading.of(_text(30.0)).looks_turned
    assert Reading.of(_text(95.0, down=True)).looks_turned  # read as it lies, sideways
    assert not Reading.of(_text(10.0, words=2)).looks_turned  # too little to tell
    assert not Reading.of(PageText(10, 10)).looks_turned
    no_confidence = _text(50.0)
    stripped = PageText(
        10,
        10,
        tuple(
            Block(tuple(Line(tuple(Word(w.text, w.box) for w in line.words), line.box) for line in b.lines))
            for b in no_confidence.blocks
        ),
    )
    assert Reading.of(stripped).confidence is None and not Reading.of(stripped).looks_turned
    # Confidence weighted by characters: one long sure word outweighs two short unsure ones.
    mixed = PageText(
        10,
        10,
        (
            Block(
                (
                    Line(
                        (
                            Word("a" * 20, Box(0, 0, 200, 10), 90.0),
                            Word("b", Box(210, 0, 220, 10), 0.0),
                            Word("c", Box(230, 0, 240, 10), 0.0),
                        ),
                        Box(0, 0, 240, 10),
                    ),
                )
            ),
        ),
    )
    assert Reading.of(mixed).confidence == pytest.approx(90 * 20 / 22)
    assert Reading.of(_text(95.0)).score > Reading.of(_text(95.0, down=True)).score


def test_a_page_in_a_language_nobody_named_is_read_in_it(tmp_path: Path) -> None:
    (case,) = realistic_cases(["german"])
    path = tmp_path / "german.png"
    case.image.save(path, dpi=(300, 300))
    chosen = pdfocr.convert(path, tmp_path / "auto.pdf")
    named = pdfocr.convert(path, tmp_path / "deu.pdf", languages="deu")
    assert chosen.pages[0].languages == ("deu",) and named.pages[0].languages == ("deu",)
    assert chosen.text == named.text
    assert word_recall(case.text, chosen.text) >= 0.95
    english = pdfocr.convert(path, tmp_path / "eng.pdf", languages="eng")
    assert word_recall(case.text, english.text) < word_recall(case.text, chosen.text)


def test_an_english_page_is_read_once_in_english(prose_page) -> None:
    engine = CountingTesseract()
    found = read_page(_loaded(prose_page.image), engine, ConvertOptions())
    assert engine.calls == ["read"] and found.languages == ("eng",)


def test_a_page_in_another_script_is_read_in_an_installed_language_of_it() -> None:
    page = LoadedPage(image=CASES["chinese"]().image, dpi=(300, 300))
    found = read_page(page, CountingTesseract(), ConvertOptions())
    named = read_page(page, CountingTesseract(), ConvertOptions(languages="chi_sim"))
    assert found.languages == ("chi_sim",)
    assert found.text.text == named.text.text and "可搜索的文档" in found.text.text


def test_auto_goes_alone() -> None:
    with pytest.raises(UsageError, match="goes alone"):
        ConvertOptions(languages="auto+eng")
    assert ConvertOptions().languages == ("auto",) and ConvertOptions().engine_languages == ("eng",)

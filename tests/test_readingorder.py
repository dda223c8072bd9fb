"""One reading order (pdfocr.readingorder): lines the engine cut in two at a streak are
whole again in the sidecar and the layer; columns stay apart."""

from __future__ import annotations

from pathlib import Path

from conftest import pdftotext
from realistic_pages import cer, realistic_cases, write_cases

from pdfocr.model import Block, Box, Line, PageText, Word
from pdfocr.readingorder import whole_lines


def _line(words: list[str], left: float, top: float, height: float = 20.0) -> Line:
    placed, x = [], left
    for word in words:
        placed.append(Word(word, Box(x, top, x + 10 * len(word), top + height)))
        x += 10 * len(word) + 6
    return Line(tuple(placed), Box(left, top, x - 6, top + height))


def test_halves_of_lines_in_two_blocks_are_joined() -> None:
    left = Block(tuple(_line(["the", "first"], 10, 40 * row) for row in range(3)))
    # Each right half starts a word's gap after its left half ends (a streak between them).
    right = Block(tuple(_line(["half", "of", "it"], 10 + 86 + 12, 40 * row + 1) for row in range(3)))
    joined = whole_lines(PageText(400, 200, (left, right)))
    assert joined.text == "\n".join(["the first half of it"] * 3)
    assert len(joined.blocks) == 1


def test_columns_stay_apart() -> None:
    left = Block(tuple(_line(["left", "column"], 10, 40 * row) for row in range(3)))
    # A gutter of 2.5 line heights: another column, not the rest of the line.
    right = Block(tuple(_line(["right", "column"], 10 + 106 + 50, 40 * row) for row in range(3)))
    page = PageText(400, 200, (left, right))
    assert whole_lines(page) is page


def test_a_streaked_fax_reads_line_by_line_in_the_sidecar_and_the_layer(tmp_path: Path, cli) -> None:
    ((case, path),) = write_cases(tmp_path, realistic_cases(["fax-streak"]))
    output, sidecar = tmp_path / "fax.pdf", tmp_path / "fax.txt"
    run = cli(str(path), "-o", str(output), "--sidecar", str(sidecar), "-q")
    assert run.returncode == 0, run.stderr
    assert cer(case.text, sidecar.read_text()) < 0.06  # 0.6 with each line's halves far apart
    assert cer(case.text, pdftotext(output)) < 0.06


def test_lines_running_down_a_sideways_page_are_never_joined() -> None:
    def down(left: float) -> Line:
        words = tuple(
            Word(w, Box(left, 10 + 60 * i, left + 20, 60 + 60 * i)) for i, w in enumerate(["abc", "defg"])
        )
        return Line(words, Box(left, 10, left + 20, 120))

    # Lines read as a sideways page lies stand side by side, a line's spacing apart.
    page = PageText(400, 200, (Block((down(10), down(40))), Block((down(70),))))
    assert whole_lines(page) is page

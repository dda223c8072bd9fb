"""Word boxes for line-only engines: words placed at the ink gaps of the line's image."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from synthetic_pages import SERIF, DrawnPage, DrawnWord

from pdfocr.engines.wordboxes import line_with_words
from pdfocr.model import Box


def _line_box(words: list[DrawnWord], pad: int = 6) -> Box:
    return Box(
        min(word.box[0] for word in words) - pad,
        min(word.box[1] for word in words) - pad,
        max(word.box[2] for word in words) + pad,
        max(word.box[3] for word in words) + pad,
    )


@pytest.mark.parametrize("style", [{}, {"font": SERIF, "points": 10}, {"noise": True, "seed": 3}])
def test_words_land_on_their_ink(page_factory: Callable[..., DrawnPage], style: dict[str, object]) -> None:
    page = page_factory(
        [
            "after the auditors had checked every invoice twice.",
            "Page 1: memo number 237 of 1,000",
            "I saw a b c",
        ],
        **style,
    )
    for drawn in page.lines:
        text = " ".join(word.text for word in drawn)
        line = line_with_words(page.image, text, _line_box(drawn))
        assert [word.text for word in line.words] == [word.text for word in drawn]
        for found, truth in zip(line.words, drawn, strict=True):
            assert found.box.left == pytest.approx(truth.box[0], abs=2), found.text
            assert found.box.right == pytest.approx(truth.box[2], abs=2), found.text


def test_touching_words_share_the_line_by_typeset_width(page_factory: Callable[..., DrawnPage]) -> None:
    # The engine read two words where the image shows one run of ink: no gap to use.
    page = page_factory(["Thisisjustoneword"])
    drawn = page.lines[0]
    box = _line_box(drawn)
    line = line_with_words(page.image, "Thisis justoneword", box)
    first, second = line.words
    assert first.box.left == pytest.approx(drawn[0].box[0], abs=1)
    assert second.box.right == pytest.approx(drawn[0].box[2], abs=1)
    # "Thisis" is about a third of the width, not half of it.
    share = first.box.width / (second.box.right - first.box.left)
    assert 0.25 < share < 0.42
    assert first.box.right < second.box.left


def test_a_blank_or_off_page_box_still_gives_every_word(page_factory: Callable[..., DrawnPage]) -> None:
    page = page_factory(["x"])
    blank = Box(10, page.image.height - 60, 400, page.image.height - 10)
    off_page = Box(page.image.width + 10, 0, page.image.width + 200, 40)
    for box in (blank, off_page):
        line = line_with_words(page.image, "three short words", box)
        assert [word.text for word in line.words] == ["three", "short", "words"]
        assert line.words[0].box.left == box.left and line.words[-1].box.right == pytest.approx(box.right)
        assert all(a.box.right < b.box.left for a, b in zip(line.words, line.words[1:], strict=False))

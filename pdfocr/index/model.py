"""What the index holds and answers: a document's pages (text and word boxes, read back
from the searchable PDF itself), and a hit (the page, a snippet with the match marked, the
boxes of the matching words to highlight)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..pdftext import page_text_of
from .query import Query, fold

if TYPE_CHECKING:
    import pypdfium2

    from ..conversion import Result

Box = tuple[float, float, float, float]
"""left, bottom, right, top in PDF points (the page's own coordinates)."""


@dataclass(frozen=True)
class IndexedPage:
    number: int
    """1-based page number in the output PDF."""
    text: str
    width: float
    height: float
    words: list[tuple[str, float, float, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class IndexedDocument:
    output: str
    """The searchable PDF (absolute path)."""
    sources: tuple[str, ...]
    pages: tuple[IndexedPage, ...]
    owner: str | None = None
    """Whose document it is (the service's token owner); searches may keep to one owner."""


@dataclass(frozen=True)
class Hit:
    output: str
    sources: tuple[str, ...]
    page: int
    score: float
    """Higher is better (BM25 for words; 0 for substring matches alone)."""
    snippet: str
    """Text around the first match, matches marked with [ and ]."""
    boxes: tuple[Box, ...]
    size: tuple[float, float]

    def as_json(self) -> dict[str, object]:
        return {
            "output": self.output,
            "sources": list(self.sources),
            "page": self.page,
            "score": round(self.score, 6),
            "snippet": self.snippet,
            "boxes": [list(box) for box in self.boxes],
            "page_size": list(self.size),
        }


SNIPPET_CONTEXT = 60


def snippet_and_boxes(
    text: str, words: list[list[object]] | list[tuple[str, float, float, float, float]], query: Query
) -> tuple[str, tuple[Box, ...]]:
    """A snippet of ``text`` around the first match of the query's positive terms, every
    match in it marked; and the boxes of the words that match."""
    wanted = [term for group in query.groups for term in group if not term.negated]
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for term in wanted:
        needle = fold(term.text)
        start = folded.find(needle)
        while start >= 0 and needle:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + len(needle))
    # Folding can change lengths (ligatures): fall back to the folded text's offsets only
    # when they line up with the original.
    source = text if len(folded) == len(text) else folded
    spans = _merged(spans)
    if spans:
        first = spans[0][0]
        begin, end = max(0, first - SNIPPET_CONTEXT), min(len(source), first + SNIPPET_CONTEXT * 2)
    else:
        begin, end = 0, min(len(source), SNIPPET_CONTEXT * 2)
    # Whole words at both ends (text without spaces is cut where it must be).
    if begin > 0:
        space = source.find(" ", begin, first if spans else end)
        begin = space + 1 if space >= 0 else begin
    if end < len(source):
        space = source.rfind(" ", spans[0][1] if spans else begin, end)
        end = space if space >= 0 else end
    parts, cursor = [], begin
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        parts += [source[cursor:start], "[", source[start:stop], "]"]
        cursor = stop
    parts.append(source[cursor:end])
    snippet = " ".join("".join(parts).split())
    snippet = ("…" if begin > 0 else "") + snippet + ("…" if end < len(source) else "")
    boxes: list[Box] = []
    folded_words = [_bare(fold(str(word[0]))) for word in words]
    for term in wanted:
        needles = [_bare(part) for part in fold(term.text).split()]
        if len(needles) > 1:  # a phrase: the words in a row
            for start in range(len(words) - len(needles) + 1):
                if folded_words[start : start + len(needles)] == needles:
                    boxes += [_box(word) for word in words[start : start + len(needles)]]
            continue
        for word, folded_word in zip(words, folded_words, strict=True):
            if folded_word.startswith(needles[0]) if term.prefix else needles[0] in folded_word:
                boxes.append(_box(word))
    return snippet, tuple(dict.fromkeys(boxes))


def _bare(word: str) -> str:
    """A word without the punctuation around it ("percent," is "percent")."""
    return word.strip(".,;:!?\"'()[]{}«»“”‘’")


def _box(word: Sequence[object]) -> Box:
    return (float(word[1]), float(word[2]), float(word[3]), float(word[4]))  # type: ignore[arg-type]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def read_pdf(path: str | Path, sources: tuple[str, ...] = (), owner: str | None = None) -> IndexedDocument:
    """A searchable PDF's pages as the index keeps them: each page's text and words with
    their boxes, read back with PDFium (the text Chrome gives, in reading order)."""
    import pypdfium2

    from ..pdfpages import PDFIUM_LOCK

    with PDFIUM_LOCK:
        return IndexedDocument(
            str(Path(path).resolve()), sources, _pages(pypdfium2.PdfDocument(str(path))), owner
        )


def document_of(
    result: Result, path: str | Path, sources: tuple[str, ...] = (), owner: str | None = None
) -> IndexedDocument | None:
    """A conversion's pages as the index keeps them, from its own words (the engine's
    boxes in points on the page as shown, a kept page's own text): no reading back. None
    when its words do not cover every page of the PDF (pages of an input PDF left out by
    ``skip_bad_pages`` are in the PDF, not in the result): then :func:`read_pdf`."""
    if result.skipped or any(page.words is None for page in result.pages):
        return None
    pages = []
    for number, page in enumerate(result.pages, start=1):
        words = page.words
        assert words is not None
        found = [word for line in words.text.lines for word in line.words]
        boxed = [(word.text, *words.to_points(word.box)) for word in found]
        width, height = words.size_points
        pages.append(IndexedPage(number, page.text, width, height, boxed))
    return IndexedDocument(str(Path(path).resolve()), sources, tuple(pages), owner)


def _pages(document: pypdfium2.PdfDocument) -> tuple[IndexedPage, ...]:
    pages = []
    try:
        for number, page in enumerate(document, start=1):
            width, height = page.get_size()  # as shown: turned by the page's /Rotate
            text, words = page_text_of(page, page.get_textpage())
            boxed = [(word, *box) for _, word, box in words]
            pages.append(IndexedPage(number, text, float(width), float(height), boxed))
    finally:
        document.close()
    return tuple(pages)

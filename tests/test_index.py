"""The full-text index (SQLite FTS5): the query syntax, folding, substrings for scripts
without spaces, replacement on re-indexing, and the CLI end to end on a real conversion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pdfocr.index import IndexedDocument, IndexedPage, SqliteIndex, open_index
from pdfocr.index.query import parse

ROOT = Path(__file__).resolve().parent.parent

PAGES = {
    "/docs/a.pdf": ["Le résumé est prêt pour la réunion", "Invoice 2024 for the signed contract"],
    "/docs/b.pdf": ["A draft invoice, not signed", "扫描文件变成可搜索的文档"],
    "/docs/c.pdf": ["Shipping costs rose by twelve percent", "contracts and contractors"],
}


def _document(output: str, texts: list[str]) -> IndexedDocument:
    pages = []
    for number, text in enumerate(texts, start=1):
        words = [(word, 10.0 * i, 700.0, 10.0 * i + 8, 712.0) for i, word in enumerate(text.split())]
        pages.append(IndexedPage(number, text, 612.0, 792.0, words))
    return IndexedDocument(output, (output.replace(".pdf", ".png"),), tuple(pages))


@pytest.fixture
def index(tmp_path: Path) -> SqliteIndex:
    made = open_index(tmp_path / "index.db")
    for output, texts in PAGES.items():
        made.add(_document(output, texts))
    return made


def _found(index: SqliteIndex, query: str) -> set[tuple[str, int]]:
    return {(hit.output, hit.page) for hit in index.search(query, limit=100)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("resume", {("/docs/a.pdf", 1)}),  # accents folded
        ("RÉSUMÉ", {("/docs/a.pdf", 1)}),
        ("invoice", {("/docs/a.pdf", 2), ("/docs/b.pdf", 1)}),
        ("invoice signed", {("/docs/a.pdf", 2), ("/docs/b.pdf", 1)}),
        ('"signed contract"', {("/docs/a.pdf", 2)}),
        ("invoice NOT draft", {("/docs/a.pdf", 2)}),
        ("invoice -draft", {("/docs/a.pdf", 2)}),
        ("contract*", {("/docs/a.pdf", 2), ("/docs/c.pdf", 2)}),
        ("contract", {("/docs/a.pdf", 2)}),  # whole words
        ("twelve OR réunion", {("/docs/c.pdf", 1), ("/docs/a.pdf", 1)}),
        ("可搜索", {("/docs/b.pdf", 2)}),  # substring of a line without spaces
        ("文件", {("/docs/b.pdf", 2)}),  # shorter than a trigram
        ("图", set()),
        ("文档 draft", set()),  # both on one page: none has both
        ("文件 -draft", {("/docs/b.pdf", 2)}),
    ],
)
def test_queries(index: SqliteIndex, query: str, expected: set[tuple[str, int]]) -> None:
    assert _found(index, query) == expected


def test_hits_are_ranked_and_marked(index: SqliteIndex) -> None:
    index.add(_document("/docs/d.pdf", ["invoice invoice invoice, the invoice of invoices"]))
    hits = index.search("invoice")
    assert hits[0].output == "/docs/d.pdf"  # the page most about it first
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    marked = next(hit for hit in hits if hit.output == "/docs/a.pdf")
    assert "[Invoice]" in marked.snippet and marked.page == 2
    assert marked.boxes == ((0.0, 700.0, 8.0, 712.0),)  # the word to highlight
    assert json.loads(json.dumps(marked.as_json()))["page_size"] == [612.0, 792.0]


def test_reindexing_a_file_replaces_its_pages(index: SqliteIndex) -> None:
    index.add(_document("/docs/a.pdf", ["Only one page now, about apples"]))
    assert _found(index, "résumé") == set()
    assert _found(index, "apples") == {("/docs/a.pdf", 1)}
    assert dict(index.documents())["/docs/a.pdf"] == 1
    assert index.remove("/docs/a.pdf") and not index.remove("/docs/a.pdf")
    assert _found(index, "apples") == set()
    # Every index forgets the old pages: words, trigrams, single characters.
    index.add(_document("/docs/b.pdf", ["nothing in Chinese here"]))
    assert _found(index, "文件") == _found(index, "可搜索") == _found(index, "draft") == set()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_no_input_breaks_the_query_parser(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    index = _shared_index(tmp_path_factory)
    hits = index.search(text)  # never raises
    assert all(hit.output in PAGES for hit in hits)
    parse(text)


_INDEXES: dict[int, SqliteIndex] = {}


def _shared_index(factory: pytest.TempPathFactory) -> SqliteIndex:
    key = id(factory)
    if key not in _INDEXES:
        _INDEXES[key] = open_index(factory.mktemp("fuzz") / "index.db")
        for output, texts in PAGES.items():
            _INDEXES[key].add(_document(output, texts))
    return _INDEXES[key]


def test_convert_with_an_index_then_search(tmp_path: Path) -> None:
    index = tmp_path / "pages.db"
    output = tmp_path / "samples.pdf"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pdfocr", *args], capture_output=True, text=True, timeout=300
        )

    converted = run(str(ROOT / "samples"), "-o", str(output), "--index", str(index), "-q")
    assert converted.returncode == 0, converted.stderr
    found = run("search", "--index", str(index), "--json", '"twelve percent"')
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits and all(hit["output"] == str(output.resolve()) for hit in hits)
    assert "[twelve percent]" in hits[0]["snippet"] and len(hits[0]["boxes"]) == 2
    # The boxes are on the page, where pdftotext puts those words.
    left, bottom, right, top = hits[0]["boxes"][0]
    width, height = hits[0]["page_size"]
    assert 0 <= left < right <= width and 0 <= bottom < top <= height
    # Converting again replaces the pages, never duplicates them.
    again = run(str(ROOT / "samples"), "-o", str(output), "--index", str(index), "-q")
    assert again.returncode == 0
    listed = run("index", "--index", str(index), "list")
    assert listed.stdout.strip() == f"{output.resolve()}\t5 pages"
    nothing = run("search", "--index", str(index), "zzzyzzy")
    assert nothing.returncode == 1 and nothing.stdout == ""
    output.unlink()
    run("index", "--index", str(index), "reindex")
    assert run("index", "--index", str(index), "list").stdout == ""

"""The full-text index: the query syntax, folding, substrings for scripts without spaces,
replacement on re-indexing, owners, and the CLI end to end on a real conversion. Every
test of the index's answers runs on both back ends: SQLite, and a real PostgreSQL server."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from postgres import PostgresServer

from pdfocr.index import IndexedDocument, IndexedPage, IndexStore, open_index
from pdfocr.index.query import parse

ROOT = Path(__file__).resolve().parent.parent

PAGES = {
    "/docs/a.pdf": ["Le résumé est prêt pour la réunion", "Invoice 2024 for the signed contract"],
    "/docs/b.pdf": ["A draft invoice, not signed", "扫描文件变成可搜索的文档"],
    "/docs/c.pdf": ["Shipping costs rose by twelve percent", "contracts and contractors"],
}


def _document(output: str, texts: list[str], owner: str | None = None) -> IndexedDocument:
    pages = []
    for number, text in enumerate(texts, start=1):
        words = [(word, 10.0 * i, 700.0, 10.0 * i + 8, 712.0) for i, word in enumerate(text.split())]
        pages.append(IndexedPage(number, text, 612.0, 792.0, words))
    return IndexedDocument(output, (output.replace(".pdf", ".png"),), tuple(pages), owner)


BACK_ENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACK_ENDS)
def empty_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexStore]:
    """A new index on each back end."""
    if request.param == "sqlite":
        made = open_index(tmp_path / "index.db")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        made = open_index(server.new_schema())
    with made:
        yield made


@pytest.fixture
def index(empty_index: IndexStore) -> IndexStore:
    for output, texts in PAGES.items():
        empty_index.add(_document(output, texts))
    return empty_index


def _found(index: IndexStore, query: str) -> set[tuple[str, int]]:
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
def test_queries(index: IndexStore, query: str, expected: set[tuple[str, int]]) -> None:
    assert _found(index, query) == expected


def test_hits_are_ranked_and_marked(index: IndexStore) -> None:
    index.add(_document("/docs/d.pdf", ["invoice invoice invoice, the invoice of invoices"]))
    hits = index.search("invoice")
    assert hits[0].output == "/docs/d.pdf"  # the page most about it first
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    marked = next(hit for hit in hits if hit.output == "/docs/a.pdf")
    assert "[Invoice]" in marked.snippet and marked.page == 2
    assert marked.boxes == ((0.0, 700.0, 8.0, 712.0),)  # the word to highlight
    assert json.loads(json.dumps(marked.as_json()))["page_size"] == [612.0, 792.0]


def test_reindexing_a_file_replaces_its_pages(index: IndexStore) -> None:
    index.add(_document("/docs/a.pdf", ["Only one page now, about apples"]))
    assert _found(index, "résumé") == set()
    assert _found(index, "apples") == {("/docs/a.pdf", 1)}
    assert {entry.output: entry.pages for entry in index.documents()}["/docs/a.pdf"] == 1
    assert index.remove("/docs/a.pdf") and not index.remove("/docs/a.pdf")
    assert _found(index, "apples") == set()
    # Every index forgets the old pages: words, trigrams, single characters.
    index.add(_document("/docs/b.pdf", ["nothing in Chinese here"]))
    assert _found(index, "文件") == _found(index, "可搜索") == _found(index, "draft") == set()


# Pages with what tokenizers disagree on: hyphens, apostrophes, underscores, digits in
# words, ligature-free accents, ß, fractions, mixed scripts.
TRICKY = {
    "/docs/t.pdf": [
        "e-mail l'été naïve CAFÉ_au_lait x2 2024-05-01 ½ Straße",
        "扫描ABC文件 かな混じり文 한국어 문서 ภาษาไทย",
        "percent% 100$ (twelve) [signed] re-signed co-operate",
        "مَرْحَبًا بالعالم हिन्दी भाषा สั่งซื้อ x\ue001y data東京 東 a",
    ]
}
VOCABULARY = sorted(
    {word for texts in [*PAGES.values(), *TRICKY.values()] for text in texts for word in text.split()}
    | {"OR", "NOT", "AND", "-", '"', "*", "文", "件可", "ABC文", "été", "ete", "strasse"}
)


@pytest.fixture(scope="module")
def both_indexes(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> Iterator[tuple[IndexStore, IndexStore]]:
    """The same pages in an SQLite index and a PostgreSQL one."""
    sqlite, postgres = (
        open_index(tmp_path_factory.mktemp("both") / "index.db"),
        open_index(postgres_server.new_schema()),
    )
    for made in (sqlite, postgres):
        for output, texts in [*PAGES.items(), *TRICKY.items()]:
            made.add(_document(output, texts))
    with sqlite, postgres:
        yield sqlite, postgres


def _same_hits(both: tuple[IndexStore, IndexStore], query: str) -> set[tuple[str, int]]:
    sqlite, postgres = (_found(index, query) for index in both)
    assert sqlite == postgres, f"{query!r}: SQLite {sorted(sqlite)}, PostgreSQL {sorted(postgres)}"
    return sqlite


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join))
def test_both_back_ends_give_the_same_hits(both_indexes: tuple[IndexStore, IndexStore], query: str) -> None:
    _same_hits(both_indexes, query)
    _same_hits(both_indexes, query.replace(" ", "* ") + "*")
    for index in both_indexes:  # the best few are the first few of all (each back end cuts early)
        every = [(hit.output, hit.page) for hit in index.search(query, limit=100)]
        assert [(hit.output, hit.page) for hit in index.search(query, limit=2)] == every[:2]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mail", {("/docs/t.pdf", 1)}),
        ('"e mail"', {("/docs/t.pdf", 1)}),
        ("ete", {("/docs/t.pdf", 1)}),
        ("cafe", {("/docs/t.pdf", 1)}),
        ("abc文", {("/docs/t.pdf", 2)}),  # mixed scripts, case folded
        ("文件", {("/docs/t.pdf", 2), ("/docs/b.pdf", 2)}),
        ("한국어", {("/docs/t.pdf", 2)}),
        ("ไทย", {("/docs/t.pdf", 2)}),
        ("signed -re", {("/docs/a.pdf", 2), ("/docs/b.pdf", 1)}),
    ],
)
def test_tricky_text_on_both_back_ends(
    both_indexes: tuple[IndexStore, IndexStore], query: str, expected: set[tuple[str, int]]
) -> None:
    assert _same_hits(both_indexes, query) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_no_input_breaks_the_query_parser(both_indexes: tuple[IndexStore, IndexStore], text: str) -> None:
    found = _same_hits(both_indexes, text)  # never raises, on either
    assert all(output in PAGES or output in TRICKY for output, _ in found)
    parse(text)


# Pieces of text that tokenizers, case folding and mark removal disagree on, and pages
# made of them at random: the back ends must agree on these too.
PIECES = [
    "résumé", "RESUME", "naïve", "e-mail", "東京", "東", "a", "data東京", "مَرْحَبًا", "مرحبا",
    "हिन्दी", "सं", "สั่งซื้อ", "ส", "x\ue001y", "½", "Straße", "ﬁle", "İstanbul", "ΣΟΦΙΑ",
    "σοφια", "2024-05-01", "_x_", "a_b", "文件", "可搜索的文档", "한국어", "e\u0301", "Ǆ", "ǆ",
]  # fmt: skip
SEPARATORS = [" ", "", "\n", ", ", "-", "\u00a0"]


@pytest.fixture(scope="module")
def generated_indexes(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> Iterator[tuple[IndexStore, IndexStore]]:
    rng = random.Random(7)
    texts = [
        "".join(rng.choice(PIECES) + rng.choice(SEPARATORS) for _ in range(rng.randint(3, 14)))
        for _ in range(40)
    ]
    sqlite, postgres = (
        open_index(tmp_path_factory.mktemp("generated") / "index.db"),
        open_index(postgres_server.new_schema()),
    )
    for made in (sqlite, postgres):
        for number in range(0, len(texts), 4):
            made.add(_document(f"/generated/{number}.pdf", texts[number : number + 4]))
    with sqlite, postgres:
        yield sqlite, postgres


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(PIECES)
        | st.sampled_from(PIECES).map(lambda piece: piece[: len(piece) // 2 + 1])
        | st.sampled_from(["OR", "-", '"', "*", "NOT"]),
        min_size=1,
        max_size=3,
    ).map(" ".join)
)
def test_both_back_ends_agree_on_generated_pages(
    generated_indexes: tuple[IndexStore, IndexStore], query: str
) -> None:
    _same_hits(generated_indexes, query)


def test_searches_keep_to_an_owner(empty_index: IndexStore) -> None:
    empty_index.add(_document("/jobs/1.pdf", ["alice's invoice 扫描文件"], owner="alice"))
    empty_index.add(_document("/jobs/2.pdf", ["bob's invoice 扫描文件"], owner="bob"))
    for query in ("invoice", "文件", "扫描文", "-nothing 文件"):
        assert {hit.output for hit in empty_index.search(query, owner="alice")} == {"/jobs/1.pdf"}
        assert {hit.output for hit in empty_index.search(query)} == {"/jobs/1.pdf", "/jobs/2.pdf"}
    assert empty_index.search("invoice", owner="carol") == []
    assert {entry.owner for entry in empty_index.documents()} == {"alice", "bob"}


@pytest.mark.parametrize("back_end", BACK_ENDS)
def test_convert_with_an_index_then_search(
    request: pytest.FixtureRequest, tmp_path: Path, back_end: str
) -> None:
    index = _index_target(request, tmp_path, back_end)
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


WRITER = """
import sys, time
from pdfocr.index import IndexedDocument, IndexedPage, open_index

target, name, mode = sys.argv[1], sys.argv[2], sys.argv[3]


class Stalling(tuple):
    '''Pages that stop coming after the first: the writer is killed inside its transaction.'''

    def __iter__(self):
        yield self[0]
        print("inside", flush=True)
        time.sleep(600)


def document(output, word, pages=5, stall=False):
    made = tuple(IndexedPage(n, f"{word} page {n} of {output}", 612, 792, []) for n in range(1, pages + 1))
    return IndexedDocument(output, (output,), Stalling(made) if stall else made)


index = open_index(target)
if mode == "stall":
    index.add(document("/docs/a.pdf", "replacement", stall=True))
else:
    for number in range(25):
        index.add(document(f"/docs/{name}-{number}.pdf", name))
        index.add(document("/docs/shared.pdf", f"shared{name}"))  # every writer, the same file
index.close()
print("done", flush=True)
"""


def _index_target(request: pytest.FixtureRequest, tmp_path: Path, back_end: str) -> str:
    if back_end == "sqlite":
        return str(tmp_path / "index.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_schema()


@pytest.mark.parametrize("back_end", BACK_ENDS)
def test_concurrent_writers(request: pytest.FixtureRequest, tmp_path: Path, back_end: str) -> None:
    target = _index_target(request, tmp_path, back_end)
    open_index(target).close()  # made before the writers race (they may also make it)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, target, f"w{number}", "many"], stdout=subprocess.PIPE, text=True
        )
        for number in range(4)
    ]
    for writer in writers:
        out, _ = writer.communicate(timeout=300)
        assert writer.returncode == 0 and out.strip() == "done"
    with open_index(target) as index:
        listed = {entry.output: entry.pages for entry in index.documents()}
        assert len(listed) == 4 * 25 + 1 and set(listed.values()) == {5}
        for number in range(4):
            assert len({hit.output for hit in index.search(f"w{number}", limit=1000)}) == 25
        # The shared file holds the pages of one writer, the last: never a mix, never twice.
        shared = index.search("page", limit=1000)
        shared_pages = [hit for hit in shared if hit.output == "/docs/shared.pdf"]
        assert sorted(hit.page for hit in shared_pages) == [1, 2, 3, 4, 5]
        assert len({hit.snippet.split()[0] for hit in shared_pages}) == 1


@pytest.mark.parametrize("back_end", BACK_ENDS)
def test_a_writer_killed_mid_document_leaves_the_index_whole(
    request: pytest.FixtureRequest, tmp_path: Path, back_end: str
) -> None:
    target = _index_target(request, tmp_path, back_end)
    with open_index(target) as index:
        for output, texts in PAGES.items():
            index.add(_document(output, texts))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, target, "x", "stall"], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "inside"
    writer.kill()
    writer.wait()
    with open_index(target) as index:
        # The old pages, all of them; none of the new.
        assert _found(index, "résumé") == {("/docs/a.pdf", 1)}
        assert _found(index, "replacement") == set()
        assert {entry.output: entry.pages for entry in index.documents()}["/docs/a.pdf"] == 2
        index.add(_document("/docs/a.pdf", ["written after the crash"]))
        assert _found(index, "crash") == {("/docs/a.pdf", 1)} and _found(index, "résumé") == set()
    if back_end == "sqlite":
        import sqlite3

        check = sqlite3.connect(target)
        for table in ("pages_words", "pages_chars"):
            check.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_words_read_back_keep_characters_beyond_the_basic_plane(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    from pdfocr.index import read_pdf
    from pdfocr.layerfont import register_font

    pdf = tmp_path / "astral.pdf"
    drawn = canvas.Canvas(str(pdf), pagesize=(300, 200))
    drawn.setFont(register_font(), 12)
    drawn.drawString(10, 100, "a𝐀b 😀x cd")
    drawn.save()
    page = read_pdf(pdf).pages[0]
    assert [word[0] for word in page.words] == ["a𝐀b", "😀x", "cd"]
    # Each word's box starts where the one before ends (a wrong character index would
    # give a box of another character).
    lefts = [word[1] for word in page.words]
    rights = [word[3] for word in page.words]
    assert lefts[0] == pytest.approx(10, abs=0.5) and rights[0] < lefts[1] and rights[1] < lefts[2]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_word_boxes_are_on_the_page_as_shown(tmp_path: Path, rotation: int) -> None:
    """A turned page (/Rotate) and a crop box off the origin: the boxes are where
    poppler puts the words on the page as shown, in the size the hit gives."""
    import re

    import pikepdf
    from reportlab.pdfgen import canvas

    from pdfocr.index import read_pdf

    pdf = tmp_path / "turned.pdf"
    drawn = canvas.Canvas(str(pdf), pagesize=(400, 600))
    drawn.setFont("Helvetica", 14)
    drawn.drawString(60, 450, "Turned pages keep their words")
    drawn.save()
    with pikepdf.open(pdf, allow_overwriting_input=True) as document:
        document.pages[0].Rotate = rotation
        document.pages[0].CropBox = [20, 30, 380, 580]
        document.save(pdf)
    page = read_pdf(pdf).pages[0]
    shown = subprocess.run(
        ["pdftotext", "-cropbox", "-bbox", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    expected = {
        word: [float(value) for value in box]
        for *box, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(\w+)<', shown
        )
    }
    assert (page.width, page.height) == ((550, 360) if rotation in (90, 270) else (360, 550))
    assert [word[0] for word in page.words] == list(expected)
    for word, left, bottom, right, top in page.words:
        x_min, y_min, x_max, y_max = expected[word]  # from the top left
        assert left == pytest.approx(x_min, abs=3) and right == pytest.approx(x_max, abs=3)
        assert page.height - top == pytest.approx(y_min, abs=4) and page.height - bottom == pytest.approx(
            y_max, abs=4
        )


def test_postgres_makes_a_dropped_connection_again(postgres_server: PostgresServer) -> None:
    with open_index(postgres_server.new_schema()) as index:
        index.add(_document("/docs/a.pdf", PAGES["/docs/a.pdf"]))
        # The server drops every other connection (a restart, an idle timeout would too).
        postgres_server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        )
        assert _found(index, "résumé") == {("/docs/a.pdf", 1)}
        index.add(_document("/docs/b.pdf", PAGES["/docs/b.pdf"]))
        assert {entry.output for entry in index.documents()} == {"/docs/a.pdf", "/docs/b.pdf"}


def test_postgres_takes_what_jsonb_does_not(postgres_server: PostgresServer) -> None:
    """A NUL in a file name, a word or the text (jsonb and text refuse it)."""
    document = IndexedDocument(
        "/docs/nul.pdf",
        ("scan\x00.png",),
        (IndexedPage(1, "before\x00after", 612, 792, [("before\x00after", 1, 2, 3, 4)]),),
    )
    with open_index(postgres_server.new_schema()) as index:
        index.add(document)
        (hit,) = index.search("before")
        assert hit.sources == ("scan.png",) and hit.boxes == ((1, 2, 3, 4),)


def test_postgres_errors_name_the_index_without_its_password() -> None:
    from pdfocr.errors import OutputError

    for url in (
        "postgresql://me:secret@127.0.0.1:1/pages",
        "postgresql://me@127.0.0.1:1/pages?password=secret&sslpassword=secret",
    ):
        with pytest.raises(OutputError) as refused:
            open_index(url)
        message = str(refused.value)
        assert "secret" not in message and message.startswith(
            "postgresql://me@127.0.0.1:1/pages: cannot open"
        )


def test_a_query_of_too_many_terms_is_refused(index: IndexStore) -> None:
    from pdfocr.errors import UsageError

    assert index.search(" ".join(f"w{number}" for number in range(32))) == []
    with pytest.raises(UsageError, match="33 terms"):
        index.search(" OR ".join(f"w{number}" for number in range(33)))


def test_a_nul_in_a_query_is_a_space_on_both_back_ends(both_indexes: tuple[IndexStore, IndexStore]) -> None:
    # Found by the property above: PostgreSQL dropped the NUL (":E"), SQLite read a space.
    assert _same_hits(both_indexes, ":\x00E") == _same_hits(both_indexes, ": E")

"""The full-text index in one SQLite file (FTS5).

Two FTS5 indexes over the same page texts: words (``unicode61``, diacritics removed; ranked
by BM25) and character trigrams (substrings, for scripts written without spaces). A query
shorter than a trigram is answered by scanning the texts. Every user query goes through
:mod:`pdfocr.index.query`: each term reaches FTS5 quoted, so no input breaks its parser.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from ..errors import DependencyError
from .model import Hit, IndexedDocument, snippet_and_boxes
from .query import Term, parse, unsegmented_char

MINIMUM_SQLITE = (3, 38, 0)  # the trigram tokenizer (3.34) and its LIKE support (3.38)

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    output TEXT NOT NULL UNIQUE,
    sources TEXT NOT NULL,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    document INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    width REAL NOT NULL,
    height REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_document ON pages (document);
-- Word boxes apart from the text: a scan of the texts (a short query) reads no boxes.
CREATE TABLE IF NOT EXISTS page_words (
    page INTEGER PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    words TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS pages_words USING fts5(
    text, content='pages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS pages_chars USING fts5(
    text, content='pages', content_rowid='id', tokenize='trigram'
);
-- Characters of scripts written without spaces, one token each (spaced(), in Python):
-- a query shorter than a trigram is a phrase of them.
CREATE VIRTUAL TABLE IF NOT EXISTS pages_spaced USING fts5(text, content='', tokenize='unicode61');
CREATE TRIGGER IF NOT EXISTS pages_added AFTER INSERT ON pages BEGIN
    INSERT INTO pages_words (rowid, text) VALUES (new.id, new.text);
    INSERT INTO pages_chars (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS pages_removed AFTER DELETE ON pages BEGIN
    INSERT INTO pages_words (pages_words, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO pages_chars (pages_chars, rowid, text) VALUES ('delete', old.id, old.text);
    DELETE FROM page_words WHERE page = old.id;
END;
"""


def check_sqlite() -> None:
    """Refuse an SQLite too old for the index, saying what is missing."""
    version = tuple(int(part) for part in sqlite3.sqlite_version.split("."))
    if version < MINIMUM_SQLITE:
        raise DependencyError(
            f"SQLite {sqlite3.sqlite_version} is too old for the index: it needs "
            f"{'.'.join(map(str, MINIMUM_SQLITE))} (FTS5 with the trigram tokenizer)"
        )
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(text, tokenize='trigram')")
    except sqlite3.OperationalError as error:
        raise DependencyError(f"this SQLite has no FTS5 trigram tokenizer ({error})") from None
    finally:
        probe.close()


class SqliteIndex:
    """An index in the SQLite file at ``path`` (made on first use)."""

    def __init__(self, path: str | Path) -> None:
        check_sqlite()
        self.path = Path(path)
        self._lock = threading.Lock()
        # Writers wait for each other (busy_timeout) rather than fail; WAL lets searches
        # go on while a document is added.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, document: IndexedDocument) -> None:
        """Index a document's pages, replacing what was indexed for the same output
        (one transaction: a crash leaves the old pages or the new ones)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "DELETE FROM pages WHERE document IN (SELECT id FROM documents WHERE output = ?)",
                    (document.output,),
                )
                db.execute("DELETE FROM documents WHERE output = ?", (document.output,))
                number = db.execute(
                    "INSERT INTO documents (output, sources, added) VALUES (?, ?, ?)",
                    (document.output, json.dumps(list(document.sources)), time.time()),
                ).lastrowid
                for page in document.pages:
                    row = db.execute(
                        "INSERT INTO pages (document, number, width, height, text) VALUES (?, ?, ?, ?, ?)",
                        (number, page.number, page.width, page.height, page.text),
                    ).lastrowid
                    db.execute(
                        "INSERT INTO page_words (page, words) VALUES (?, ?)", (row, json.dumps(page.words))
                    )
                    db.execute(
                        "INSERT INTO pages_spaced (rowid, text) VALUES (?, ?)", (row, spaced(page.text))
                    )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def remove(self, output: str) -> bool:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM pages WHERE document IN (SELECT id FROM documents WHERE output = ?)", (output,)
            )
            removed = db.execute("DELETE FROM documents WHERE output = ?", (output,)).rowcount
            db.execute("COMMIT")
        return removed > 0

    def documents(self) -> list[tuple[str, int]]:
        """Each indexed output, with its number of pages."""
        with self._lock:
            rows = self._db.execute(
                "SELECT output, (SELECT COUNT(*) FROM pages WHERE document = documents.id) FROM documents"
                " ORDER BY output"
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def search(self, text: str, limit: int = 10) -> list[Hit]:
        """The best pages for ``text`` (see :mod:`pdfocr.index.query`)."""
        query = parse(text)
        if query.empty:
            return []
        with self._lock:
            scores: dict[int, float] = {}
            for group in query.groups:
                for page, score in self._group(group).items():
                    scores[page] = min(score, scores.get(page, score))
            best = sorted(scores, key=lambda page: (scores[page], page))[:limit]
            rows = {
                row[0]: row
                for row in self._db.execute(
                    "SELECT pages.id, documents.output, documents.sources, pages.number, pages.text,"
                    " page_words.words, pages.width, pages.height FROM pages JOIN documents"
                    " ON documents.id = pages.document JOIN page_words ON page_words.page = pages.id"
                    f" WHERE pages.id IN ({','.join('?' * len(best))})",
                    best,
                )
            }
        hits = []
        for page in best:
            _, output, sources, number, page_text, words, width, height = rows[page]
            snippet, boxes = snippet_and_boxes(page_text, json.loads(words), query)
            hits.append(
                Hit(
                    output=output,
                    sources=tuple(json.loads(sources)),
                    page=number,
                    score=-scores[page],
                    snippet=snippet,
                    boxes=boxes,
                    size=(width, height),
                )
            )
        return hits

    def _group(self, group: tuple[Term, ...]) -> dict[int, float]:
        """Pages with every positive term of the group and none of its negated ones,
        with their BM25 score (lower is better; 0 without words to rank by)."""
        words = [term for term in group if not term.unsegmented]
        positive_words = [term for term in words if not term.negated]
        if positive_words:
            expression = " AND ".join(_fts(term) for term in positive_words)
            negated = [term for term in words if term.negated]
            if negated:
                expression = f"({expression}) NOT ({' OR '.join(_fts(term) for term in negated)})"
            found = dict(
                self._db.execute(
                    "SELECT rowid, bm25(pages_words) FROM pages_words WHERE pages_words MATCH ?",
                    (expression,),
                ).fetchall()
            )
        else:
            found = {row[0]: 0.0 for row in self._db.execute("SELECT id FROM pages")}
            for term in words:  # negated words only
                found = {page: score for page, score in found.items() if page not in self._word_pages(term)}
        for term in group:
            if not term.unsegmented:
                continue
            pages = self._substring_pages(term.text)
            found = {page: score for page, score in found.items() if (page in pages) != term.negated}
        return found

    def _word_pages(self, term: Term) -> set[int]:
        rows = self._db.execute("SELECT rowid FROM pages_words WHERE pages_words MATCH ?", (_fts(term),))
        return {row[0] for row in rows}

    def _substring_pages(self, text: str) -> set[int]:
        if len(text) >= 3:
            rows = self._db.execute(
                "SELECT rowid FROM pages_chars WHERE pages_chars MATCH ?", (_quoted(text),)
            )
        elif all(unsegmented_char(char) for char in text):  # shorter than a trigram: its characters in a row
            phrase = _quoted(" ".join(text))
            rows = self._db.execute("SELECT rowid FROM pages_spaced WHERE pages_spaced MATCH ?", (phrase,))
        else:  # mixed and short: the texts themselves
            rows = self._db.execute("SELECT id FROM pages WHERE instr(text, ?) > 0", (text,))
        return {row[0] for row in rows}


def spaced(text: str) -> str:
    """``text`` with each character of a script written without spaces made a word."""
    return "".join(f" {char} " if unsegmented_char(char) else char for char in text)


def _forget_spaced(db: sqlite3.Connection, output: str) -> None:
    """Take a document's pages out of the contentless ``pages_spaced`` (which needs the
    text each was indexed with)."""
    rows = db.execute(
        "SELECT id, text FROM pages WHERE document IN (SELECT id FROM documents WHERE output = ?)", (output,)
    ).fetchall()
    db.executemany(
        "INSERT INTO pages_spaced (pages_spaced, rowid, text) VALUES ('delete', ?, ?)",
        [(row[0], spaced(row[1])) for row in rows],
    )


def _quoted(text: str) -> str:
    """An FTS5 string: whatever it holds is text, never syntax."""
    return '"' + text.replace('"', '""') + '"'


def _fts(term: Term) -> str:
    return _quoted(term.text) + ("*" if term.prefix else "")

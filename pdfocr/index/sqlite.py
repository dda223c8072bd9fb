"""The full-text index in one SQLite file (FTS5).

Two FTS5 indexes over the same page texts: words (as :func:`~pdfocr.index.query.words_of`
splits them, which the PostgreSQL back end does too; ranked by BM25) and character
trigrams (substrings of three characters and more, for scripts without spaces). Every user
query goes through :mod:`pdfocr.index.query`: each term reaches FTS5 quoted, so no input
breaks its parser.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import DependencyError, OutputError
from .model import IndexedDocument
from .query import words_of
from .store import IndexStore, Listing, StoredPage, Words, stored_page

MINIMUM_SQLITE = (3, 38, 0)  # the trigram tokenizer (3.34) and its LIKE support (3.38)
SCHEMA_VERSION = 3  # 1: single characters apart (pages_spaced); 2: words split by unicode61

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    output TEXT NOT NULL UNIQUE,
    sources TEXT NOT NULL,
    owner TEXT,
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
-- Word boxes apart from the text: a scan of the texts reads no boxes.
CREATE TABLE IF NOT EXISTS page_words (
    page INTEGER PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    words TEXT NOT NULL
);
-- The words of each text, split by words(text) (a function of this connection's):
-- contentless, since what it indexes is not a column.
CREATE VIRTUAL TABLE IF NOT EXISTS pages_words USING fts5(
    text, content='', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS pages_chars USING fts5(
    text, content='pages', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS pages_added AFTER INSERT ON pages BEGIN
    INSERT INTO pages_words (rowid, text) VALUES (new.id, words(new.text));
    INSERT INTO pages_chars (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS pages_removed AFTER DELETE ON pages BEGIN
    INSERT INTO pages_words (pages_words, rowid, text) VALUES ('delete', old.id, words(old.text));
    INSERT INTO pages_chars (pages_chars, rowid, text) VALUES ('delete', old.id, old.text);
    DELETE FROM page_words WHERE page = old.id;
END;
"""

# An older index gets its word index made again from the texts it holds.
UPGRADE = """
DROP TRIGGER IF EXISTS pages_added;
DROP TRIGGER IF EXISTS pages_removed;
DROP TABLE IF EXISTS pages_words;
DROP TABLE IF EXISTS pages_spaced;
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


class SqliteIndex(IndexStore):
    """An index in the SQLite file at ``path`` (made on first use)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        check_sqlite()
        self.path = Path(path)
        with self._errors("cannot open the index"):
            # Writers wait for each other (busy_timeout) rather than fail; WAL lets searches
            # go on while a document is added.
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.create_function("words", 1, _indexed_words, deterministic=True)
            self._db.create_function("lowered", 1, _lowered, deterministic=True)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._made_current()

    def _made_current(self) -> None:
        """The tables made, or brought up to this version (one transaction)."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise DependencyError(
                    f"{self.path}: this index was made by a newer pdfocr (version {version})"
                )
            older = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'documents'").fetchone()
            for statement in _statements((UPGRADE if older else "") + SCHEMA):
                db.execute(statement)
            if older:
                columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
                if "owner" not in columns:
                    db.execute("ALTER TABLE documents ADD COLUMN owner TEXT")
                db.execute("INSERT INTO pages_words (rowid, text) SELECT id, words(text) FROM pages")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it, or none (IMMEDIATE: writers queue at its
        start, not at its first write, so none fails half-way on a busy index)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            raise OutputError(f"{what}: {error}", file=self.path) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, document: IndexedDocument) -> None:
        with self._lock, self._errors(f"cannot index {document.output}"), self._transaction() as db:
            _delete(db, document.output)
            number = db.execute(
                "INSERT INTO documents (output, sources, owner, added) VALUES (?, ?, ?, ?)",
                (document.output, json.dumps(list(document.sources)), document.owner, time.time()),
            ).lastrowid
            for page in document.pages:
                row = db.execute(
                    "INSERT INTO pages (document, number, width, height, text) VALUES (?, ?, ?, ?, ?)",
                    (number, page.number, page.width, page.height, page.text),
                ).lastrowid
                db.execute(
                    "INSERT INTO page_words (page, words) VALUES (?, ?)", (row, json.dumps(page.words))
                )

    def remove(self, output: str) -> bool:
        with self._lock, self._errors(f"cannot take {output} out of the index"), self._transaction() as db:
            return _delete(db, output)

    def documents(self) -> list[Listing]:
        with self._lock, self._errors("cannot read the index"):
            rows = self._db.execute(
                "SELECT output, sources, (SELECT COUNT(*) FROM pages WHERE document = documents.id), owner"
                " FROM documents ORDER BY output"
            ).fetchall()
        return [Listing(row[0], tuple(json.loads(row[1])), row[2], row[3]) for row in rows]

    def _ranked(
        self, positive: Sequence[Words], negated: Sequence[Words], owner: str | None, limit: int | None
    ) -> dict[int, float]:
        expression = " AND ".join(_fts(term) for term in positive)
        if negated:
            expression = f"({expression}) NOT ({' OR '.join(_fts(term) for term in negated)})"
        sql = "SELECT rowid, -rank FROM pages_words WHERE pages_words MATCH ?"  # rank: BM25
        parameters: list[str | int] = [expression]
        if owner is not None:
            sql += f" AND rowid IN ({OWNED_PAGES})"
            parameters.append(owner)
        if limit is not None:
            sql += " ORDER BY rank, rowid LIMIT ?"
            parameters.append(limit)
        return dict(self._db.execute(sql, parameters).fetchall())

    def _all_pages(self, owner: str | None) -> set[int]:
        if owner is None:
            return {row[0] for row in self._db.execute("SELECT id FROM pages")}
        return {row[0] for row in self._db.execute(OWNED_PAGES, (owner,))}

    def _word_pages(self, term: Words) -> set[int]:
        rows = self._db.execute("SELECT rowid FROM pages_words WHERE pages_words MATCH ?", (_fts(term),))
        return {row[0] for row in rows}

    def _trigram_pages(self, text: str) -> set[int]:
        rows = self._db.execute("SELECT rowid FROM pages_chars WHERE pages_chars MATCH ?", (_quoted(text),))
        return {row[0] for row in rows}

    def _scan_pages(self, text: str) -> set[int]:
        rows = self._db.execute("SELECT id FROM pages WHERE instr(lowered(text), ?) > 0", (_lowered(text),))
        return {row[0] for row in rows}

    def _pages(self, ids: Sequence[int]) -> dict[int, StoredPage]:
        rows = self._db.execute(
            "SELECT pages.id, documents.output, documents.sources, pages.number, pages.text,"
            " page_words.words, pages.width, pages.height FROM pages JOIN documents"
            " ON documents.id = pages.document JOIN page_words ON page_words.page = pages.id"
            f" WHERE pages.id IN ({','.join('?' * len(ids))})",
            list(ids),
        )
        return {row[0]: stored_page(*row[1:]) for row in rows}


OWNED_PAGES = (
    "SELECT pages.id FROM pages JOIN documents ON documents.id = pages.document WHERE documents.owner = ?"
)


def _delete(db: sqlite3.Connection, output: str) -> bool:
    """Take a document and its pages out (the triggers take them out of the FTS indexes)."""
    db.execute("DELETE FROM pages WHERE document IN (SELECT id FROM documents WHERE output = ?)", (output,))
    return db.execute("DELETE FROM documents WHERE output = ?", (output,)).rowcount > 0


def _indexed_words(text: str) -> str:
    """What the word index tokenizes: the words of ``text``, split and folded already."""
    return " ".join(words_of(text))


def _lowered(text: str) -> str:
    return text.lower()


def _statements(script: str) -> Iterator[str]:
    """A script's statements one by one (``executescript`` would end the transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""


def _quoted(text: str) -> str:
    """An FTS5 string: whatever it holds is text, never syntax."""
    return '"' + text.replace('"', '""') + '"'


def _fts(term: Words) -> str:
    """A term's words in a row (FTS5 splits the string as they were split for the index)."""
    return _quoted(" ".join(term.words)) + ("*" if term.prefix else "")

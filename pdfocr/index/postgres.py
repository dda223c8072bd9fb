"""The full-text index in PostgreSQL, for many users and machines (``postgresql://`` URLs).

Words in a ``tsvector`` (GIN), substrings in a ``pg_trgm`` trigram index (GIN) over the
texts. The words are split and folded in Python exactly as the SQLite index's tokenizer
does (:func:`pdfocr.index.query.words_of`), and written as ``tsvector`` and ``tsquery``
values, not through a text-search configuration: so both back ends find the same pages,
and no user input reaches a query parser (a lexeme is data, quoted). Characters of scripts
without spaces are words of one character, so a query of one or two of them is a phrase;
longer ones go through the trigrams.

What a ``tsvector`` cannot hold is not found: a word longer than 2046 bytes, and a phrase
whose words are past the page's 16,383rd word or a word's 255th time on the page.

A connection the server dropped (a restart, an idle timeout) is made again at the next
call; one connection per index, its calls one at a time.

Needs the ``psycopg`` driver (``pip install 'pdfocr[postgres]'``), a UTF-8 database, and the
``pg_trgm`` extension (created if missing: trusted, so a database owner may).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import DependencyError, OutputError
from .model import Hit, IndexedDocument
from .query import words_of
from .store import IndexStore, Listing, StoredPage, Words, stored_page

if TYPE_CHECKING:
    import psycopg

URL_SCHEMES = ("postgresql://", "postgres://")
T = TypeVar("T")

MAX_LEXEME_BYTES = 2046  # longer words cannot be in a tsvector: not indexed, never found
MAX_POSITION = 16383  # a tsvector's positions stop there
MAX_POSITIONS = 255  # per lexeme

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS pdfocr_documents (
    id bigserial PRIMARY KEY,
    output text NOT NULL UNIQUE,
    sources jsonb NOT NULL,
    owner text,
    added timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pdfocr_documents_owner ON pdfocr_documents (owner);
CREATE TABLE IF NOT EXISTS pdfocr_pages (
    id bigserial PRIMARY KEY,
    document bigint NOT NULL REFERENCES pdfocr_documents (id) ON DELETE CASCADE,
    number integer NOT NULL,
    width double precision NOT NULL,
    height double precision NOT NULL,
    text text NOT NULL,
    boxes jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS pdfocr_pages_document ON pdfocr_pages (document);
CREATE INDEX IF NOT EXISTS pdfocr_pages_text ON pdfocr_pages USING gin (text gin_trgm_ops);
-- The words apart, in rows of their own: ranking reads every matching page's words, and
-- beside the text and the boxes they would be stored out of line (TOAST), 4x slower.
CREATE TABLE IF NOT EXISTS pdfocr_page_words (
    page bigint PRIMARY KEY REFERENCES pdfocr_pages (id) ON DELETE CASCADE,
    words tsvector NOT NULL
);
CREATE INDEX IF NOT EXISTS pdfocr_page_words_words ON pdfocr_page_words USING gin (words);
"""
LAST_MADE = "pdfocr_page_words_words"  # made last: if it is there, so is the rest

OWNED_PAGES = (
    "SELECT pdfocr_pages.id FROM pdfocr_pages JOIN pdfocr_documents"
    " ON pdfocr_documents.id = pdfocr_pages.document WHERE pdfocr_documents.owner = %s"
)


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


class PostgresIndex(IndexStore):
    """An index in the PostgreSQL database at ``url`` (its tables made on first use)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        try:
            import psycopg  # noqa: F401  (missing: said before anything else)
        except ImportError:
            raise DependencyError(
                "a PostgreSQL index needs the psycopg driver: pip install 'pdfocr[postgres]'"
            ) from None
        self.url = url
        self._where = _redacted(url)
        self._closed = False
        self._db: psycopg.Connection[Any] = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        """A connection to a database checked (UTF8) and made an index (the tables)."""
        import psycopg

        with self._errors("cannot open the index"):
            db = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        try:
            with self._errors("cannot open the index"):
                encoding = db.execute("SHOW server_encoding").fetchone()
                if encoding is None or encoding[0] != "UTF8":
                    raise DependencyError(
                        f"{self._where}: the index's database must be UTF8, not {encoding and encoding[0]}"
                    )
                made = db.execute("SELECT to_regclass(%s)", (LAST_MADE,)).fetchone()
                if made is None or made[0] is None:
                    with db.transaction():
                        # Processes opening a new index at once: one makes the tables.
                        db.execute("SELECT pg_advisory_xact_lock(hashtext('pdfocr index schema'))")
                        for statement in _statements(SCHEMA):
                            db.execute(statement)
        except BaseException:
            db.close()
            raise
        return db

    @property
    def _connection(self) -> psycopg.Connection[Any]:
        """The connection, made again if the server dropped it (under the lock)."""
        if (self._db.closed or self._db.broken) and not self._closed:
            self._db = self._connect()
        return self._db

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as error:
            message = " ".join(str(error).split()) or type(error).__name__
            raise OutputError(f"{what}: {message}", file=self._where) from None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()

    def _once_more(self, work: Callable[[], T]) -> T:
        """``work``, and once more on a new connection if the server dropped this one:
        safe, since every call here may run twice (an add replaces, a remove removes)."""
        try:
            return work()
        except OutputError:
            if self._closed or not self._db.broken:
                raise
        return work()

    def add(self, document: IndexedDocument) -> None:
        self._once_more(lambda: self._add(document))

    def remove(self, output: str) -> bool:
        return self._once_more(lambda: self._remove(output))

    def documents(self) -> list[Listing]:
        return self._once_more(self._documents)

    def search(self, text: str, limit: int = 10, owner: str | None = None) -> list[Hit]:
        return self._once_more(
            lambda: super(PostgresIndex, self).search(text.replace("\x00", " "), limit, owner)
        )

    def _add(self, document: IndexedDocument) -> None:
        with self._lock, self._errors(f"cannot index {document.output}"):
            db = self._connection
            with db.transaction():
                # Two writers of the same document take turns; other documents never wait.
                db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (document.output,))
                db.execute("DELETE FROM pdfocr_documents WHERE output = %s", (document.output,))
                row = db.execute(
                    "INSERT INTO pdfocr_documents (output, sources, owner) VALUES (%s, %s, %s) RETURNING id",
                    (document.output, _json(list(document.sources)), document.owner),
                ).fetchone()
                assert row is not None
                ids = [
                    found[0]
                    for found in db.execute(
                        "SELECT nextval(pg_get_serial_sequence('pdfocr_pages', 'id'))"
                        " FROM generate_series(1, %s)",
                        (len(document.pages),),
                    )
                ]
                pages = list(zip(ids, document.pages, strict=True))
                with db.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO pdfocr_pages (id, document, number, width, height, text, boxes)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [
                            (
                                page_id,
                                row[0],
                                page.number,
                                page.width,
                                page.height,
                                page.text.replace("\x00", ""),  # PostgreSQL's text holds no NUL
                                _json(page.words),
                            )
                            for page_id, page in pages
                        ],
                    )
                    cursor.executemany(
                        "INSERT INTO pdfocr_page_words (page, words) VALUES (%s, %s::tsvector)",
                        [(page_id, tsvector(page.text)) for page_id, page in pages],
                    )

    def _remove(self, output: str) -> bool:
        with self._lock, self._errors(f"cannot take {output} out of the index"):
            removed = self._connection.execute("DELETE FROM pdfocr_documents WHERE output = %s", (output,))
        return removed.rowcount > 0

    def _documents(self) -> list[Listing]:
        with self._lock, self._errors("cannot read the index"):
            rows = self._connection.execute(
                "SELECT output, sources, (SELECT COUNT(*) FROM pdfocr_pages WHERE document ="
                ' pdfocr_documents.id), owner FROM pdfocr_documents ORDER BY output COLLATE "C"'
            ).fetchall()
        return [Listing(row[0], tuple(row[1]), row[2], row[3]) for row in rows]

    def _ranked(
        self, positive: Sequence[Words], negated: Sequence[Words], owner: str | None, limit: int | None
    ) -> dict[int, float]:
        expression = " & ".join(f"({tsquery(term)})" for term in positive)
        if negated:
            expression = f"({expression}) & !({' | '.join(f'({tsquery(term)})' for term in negated)})"
        sql = (
            "SELECT page, ts_rank(words, q) AS score FROM pdfocr_page_words, CAST(%s AS tsquery) AS q"
            " WHERE words @@ q"
        )
        parameters: list[str | int] = [expression]
        if owner is not None:
            sql += f" AND page IN ({OWNED_PAGES})"
            parameters.append(owner)
        if limit is not None:
            sql += " ORDER BY score DESC, page LIMIT %s"
            parameters.append(limit)
        return {row[0]: float(row[1]) for row in self._connection.execute(sql, parameters)}

    def _all_pages(self, owner: str | None) -> set[int]:
        if owner is None:
            return {row[0] for row in self._connection.execute("SELECT id FROM pdfocr_pages")}
        return {row[0] for row in self._connection.execute(OWNED_PAGES, (owner,))}

    def _word_pages(self, term: Words) -> set[int]:
        rows = self._connection.execute(
            "SELECT page FROM pdfocr_page_words WHERE words @@ CAST(%s AS tsquery)", (tsquery(term),)
        )
        return {row[0] for row in rows}

    def _trigram_pages(self, text: str) -> set[int]:
        rows = self._connection.execute("SELECT id FROM pdfocr_pages WHERE text ILIKE %s", (_like(text),))
        return {row[0] for row in rows}

    def _scan_pages(self, text: str) -> set[int]:
        rows = self._connection.execute(
            "SELECT id FROM pdfocr_pages WHERE strpos(lower(text), %s) > 0", (text.lower(),)
        )
        return {row[0] for row in rows}

    def _pages(self, ids: Sequence[int]) -> dict[int, StoredPage]:
        rows = self._connection.execute(
            "SELECT pdfocr_pages.id, output, sources, number, text, boxes, width, height FROM pdfocr_pages"
            " JOIN pdfocr_documents ON pdfocr_documents.id = pdfocr_pages.document"
            " WHERE pdfocr_pages.id = ANY(%s)",
            (list(ids),),
        )
        return {row[0]: stored_page(*row[1:]) for row in rows}


def tsvector(text: str) -> str:
    """``text``'s words as a ``tsvector`` literal, with their positions (for phrases)."""
    positions: dict[str, list[int]] = {}
    for position, word in enumerate(words_of(text), start=1):
        if len(word.encode()) <= MAX_LEXEME_BYTES:
            kept = positions.setdefault(word, [])
            if len(kept) < MAX_POSITIONS:
                kept.append(min(position, MAX_POSITION))
    return " ".join(
        f"{_lexeme(word)}:{','.join(map(str, sorted(set(at))))}" for word, at in positions.items()
    )


def tsquery(term: Words) -> str:
    """A term as a ``tsquery`` literal: its words in a row (a prefix: the last one
    starting so)."""
    lexemes = [_lexeme(word) for word in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    return " <-> ".join(lexemes)


def _like(text: str) -> str:
    """A pattern for ILIKE that finds ``text`` anywhere, its characters taken as such."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _json(value: object) -> str:
    """JSON that ``jsonb`` takes: it refuses the NUL character, which a file name or a
    page's word may hold."""
    return json.dumps(value).replace("\\u0000", "")


def _statements(script: str) -> list[str]:
    """A script's statements (none holds a semicolon of its own), without comments."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [statement for statement in "\n".join(lines).split(";") if statement.strip()]


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _redacted(url: str) -> str:
    """The index's name in messages: user, host, port and database, never a password
    (in the URL's user part or its parameters)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # no driver, or not a URL it reads: say only what kind it is
        return "postgresql://..."
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"

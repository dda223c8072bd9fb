"""The full-text index: every page pdfocr converts, found again by one query.

``open_index(TARGET)`` opens (or makes) an index: in an SQLite file (a path), or in a
PostgreSQL database (a ``postgresql://`` URL). ``index.add(read_pdf(pdf))`` indexes a
searchable PDF, replacing what was indexed for it; ``index.search("words")`` gives the best
pages. The query syntax is in :mod:`pdfocr.index.query`; both back ends answer it alike.
"""

from __future__ import annotations

from pathlib import Path

from .model import Hit, IndexedDocument, IndexedPage, document_of, read_pdf
from .postgres import PostgresIndex, is_postgres_url
from .sqlite import SqliteIndex
from .store import IndexStore, Listing

__all__ = [
    "Hit",
    "IndexStore",
    "IndexedDocument",
    "IndexedPage",
    "Listing",
    "PostgresIndex",
    "SqliteIndex",
    "document_of",
    "is_postgres_url",
    "open_index",
    "read_pdf",
]


def open_index(target: str | Path) -> IndexStore:
    """The index at ``target``: a ``postgresql://`` URL, or a path to an SQLite file (made
    if missing)."""
    if is_postgres_url(target):
        return PostgresIndex(str(target))
    return SqliteIndex(target)

"""The full-text index: every page pdfocr converts, found again by one query.

``open_index(PATH)`` opens (or makes) an index in an SQLite file; ``index.add(read_pdf(pdf))``
indexes a searchable PDF, replacing what was indexed for it; ``index.search("words")`` gives
the best pages. The query syntax is in :mod:`pdfocr.index.query`.
"""

from __future__ import annotations

from pathlib import Path

from .model import Hit, IndexedDocument, IndexedPage, read_pdf
from .sqlite import SqliteIndex

__all__ = ["Hit", "IndexedDocument", "IndexedPage", "SqliteIndex", "open_index", "read_pdf"]


def open_index(target: str | Path) -> SqliteIndex:
    """The index at ``target``: a path to an SQLite file (made if missing)."""
    return SqliteIndex(target)

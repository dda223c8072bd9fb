"""What every index back end does the same way: a query's groups combined into pages,
the best pages made hits. A back end (SQLite, PostgreSQL) answers only the primitive
questions: which pages hold these words (ranked), these characters, and what is on a page.
So both give the same hits for the same query, whatever their SQL.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from .model import Hit, IndexedDocument, snippet_and_boxes
from .query import Term, parse, unsegmented_char, words_of


@dataclass(frozen=True)
class Listing:
    """An indexed document, as ``pdfocr index list`` shows it."""

    output: str
    sources: tuple[str, ...]
    pages: int
    owner: str | None


@dataclass(frozen=True)
class StoredPage:
    output: str
    sources: tuple[str, ...]
    number: int
    text: str
    words: list[list[object]]
    width: float
    height: float


class IndexStore(ABC):
    """An index: documents added and removed whole, pages found by query.

    Safe to share between threads (one at a time on the connection); several processes
    may write one index at once (the back end's transactions keep them apart).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    # -- what a back end implements -------------------------------------------------

    @abstractmethod
    def add(self, document: IndexedDocument) -> None:
        """Index a document's pages, replacing what was indexed for the same output, in
        one transaction (a crash leaves the old pages or the new ones, never a mix)."""

    @abstractmethod
    def remove(self, output: str) -> bool:
        """Take a document out; False if it was not in."""

    @abstractmethod
    def documents(self) -> list[Listing]:
        """Every indexed document, by output."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _errors(self, what: str) -> AbstractContextManager[None]:
        """The driver's errors, raised in the block, as pdfocr's: one line naming the
        index and ``what`` failed."""

    @abstractmethod
    def _ranked(
        self, positive: Sequence[Words], negated: Sequence[Words], owner: str | None, limit: int | None
    ) -> dict[int, float]:
        """Pages with every positive term and none of the negated ones, with a relevance
        score (higher is better); the best ``limit`` of them (ties: the lower page id
        first) when a limit is given."""

    @abstractmethod
    def _all_pages(self, owner: str | None) -> set[int]: ...

    @abstractmethod
    def _word_pages(self, term: Words) -> set[int]:
        """Pages holding a term's words."""

    @abstractmethod
    def _trigram_pages(self, text: str) -> set[int]:
        """Pages whose text holds ``text`` (three characters or more; case folded)."""

    @abstractmethod
    def _scan_pages(self, text: str) -> set[int]:
        """Pages whose text holds ``text`` (lowercased), read page by page."""

    @abstractmethod
    def _pages(self, ids: Sequence[int]) -> dict[int, StoredPage]: ...

    # -- the same for every back end -------------------------------------------------

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def search(self, text: str, limit: int = 10, owner: str | None = None) -> list[Hit]:
        """The best pages for ``text`` (the syntax: :mod:`pdfocr.index.query`), among the
        documents of ``owner`` when given."""
        query = parse(text)
        if query.empty or limit <= 0:
            return []
        with self._lock, self._errors("cannot search the index"):
            scores: dict[int, float] = {}
            for group in query.groups:
                # A page among the best of the OR of groups is among the best of the
                # group that scores it highest: each group may stop at the limit.
                for found, score in self._group(group, owner, limit).items():
                    scores[found] = max(score, scores.get(found, score))
            best = sorted(scores, key=lambda found: (-scores[found], found))[:limit]
            pages = self._pages(best) if best else {}
        hits = []
        for page_id in best:
            page = pages.get(page_id)
            if page is None:  # taken out by another writer since it was found
                continue
            snippet, boxes = snippet_and_boxes(page.text, page.words, query)
            hits.append(
                Hit(
                    output=page.output,
                    sources=page.sources,
                    page=page.number,
                    score=scores[page_id],
                    snippet=snippet,
                    boxes=boxes,
                    size=(page.width, page.height),
                )
            )
        return hits

    def _group(self, group: tuple[Term, ...], owner: str | None, limit: int) -> dict[int, float]:
        """Pages with every positive term of the group and none of its negated ones (at
        least the best ``limit`` of them)."""
        words = [Words.of(term) for term in group if not term.unsegmented]
        if any(not term.words for term in words if not term.negated):
            return {}  # a word without letters or digits is on no page
        positive = [term for term in words if not term.negated]
        negated = [term for term in words if term.negated and term.words]
        characters = [term for term in group if term.unsegmented]
        if positive:
            # Pages the characters will filter out must not take places: no limit then.
            found = self._ranked(positive, negated, owner, None if characters else limit)
        else:
            first = next((term for term in characters if not term.negated), None)
            if first is not None:  # the pages with these characters, not every page
                found = dict.fromkeys(self._substring_pages(first.text, owner), 0.0)
                characters.remove(first)
            else:  # negated terms alone (one side of an OR)
                found = dict.fromkeys(self._all_pages(owner), 0.0)
            for unwanted in negated:
                excluded = self._word_pages(unwanted)
                found = {page: score for page, score in found.items() if page not in excluded}
        for term in characters:
            if found:
                pages = self._substring_pages(term.text)
                found = {page: score for page, score in found.items() if (page in pages) != term.negated}
        return found

    def _substring_pages(self, text: str, owner: str | None = None) -> set[int]:
        """Pages whose text holds ``text``, for scripts without spaces: through trigrams
        from three characters; shorter, as a phrase of single characters (each is a word
        of its own) or, mixed with other scripts, by reading the texts."""
        if len(text) >= 3:
            pages = self._trigram_pages(text)
        elif all(unsegmented_char(char) for char in text):
            characters = Words(tuple(words_of(text)))
            pages = self._word_pages(characters) if characters.words else set()
        else:
            pages = self._scan_pages(text)
        return pages if owner is None else pages & self._all_pages(owner)


@dataclass(frozen=True)
class Words:
    """A term as the back ends look it up: its words (see ``words_of``), in a row."""

    words: tuple[str, ...]
    prefix: bool = False
    """The last word is a prefix."""
    negated: bool = False

    @classmethod
    def of(cls, term: Term) -> Words:
        return cls(tuple(words_of(term.text)), term.prefix, term.negated)


def stored_page(
    output: str,
    sources: str | list[str],
    number: int,
    text: str,
    words: str | list[list[object]],
    width: float,
    height: float,
) -> StoredPage:
    """A page row as a back end reads it (JSON columns as text or already decoded)."""
    return StoredPage(
        output=output,
        sources=tuple(json.loads(sources) if isinstance(sources, str) else sources),
        number=number,
        text=text,
        words=json.loads(words) if isinstance(words, str) else words,
        width=float(width),
        height=float(height),
    )

"""The search query syntax, parsed once and written out for each back end.

    invoice 2024          both words (AND is implied)
    invoice OR receipt    either
    invoice NOT draft     the first without the second (also: invoice -draft)
    "signed contract"     the words in a row
    inv*                  words starting with "inv"
    扫描文件              characters anywhere in the text (scripts written without spaces)

Words match whole words, case and accents folded (``resume`` finds ``résumé``). Anything
else a user types is a word: quotes, stars and operators that do not fit the syntax are
taken as text, so no input breaks a query. A query holds 32 terms at most.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import UsageError

MAX_TERMS = 32
"""Terms in a query, at most: each costs a lookup, and no one types more."""


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False

    @property
    def unsegmented(self) -> bool:
        """Written without spaces between words (CJK, Thai...): matched as a substring."""
        return any(unsegmented_char(char) for char in self.text)


@dataclass(frozen=True)
class Query:
    """Groups joined by OR; the terms of a group all present (or, negated, absent)."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def empty(self) -> bool:
        return not any(any(not term.negated for term in group) for group in self.groups)


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def parse(text: str) -> Query:
    # Control characters (NUL among them) are no text anyone searches for: spaces.
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Cs") else char for char in text)
    groups: list[list[Term]] = [[]]
    negate_next = False
    for match in _TOKEN.finditer(text):
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            words = " ".join(quoted.split())
            if words:
                groups[-1].append(Term(words, phrase=" " in words, negated=negate_next))
            negate_next = False
            continue
        if bare == "OR":
            if groups[-1]:
                groups.append([])
            continue
        if bare == "AND":
            continue
        if bare == "NOT":
            negate_next = True
            continue
        negated = negate_next or (bare.startswith("-") and len(bare) > 1)
        word = bare[1:] if bare.startswith("-") and len(bare) > 1 else bare
        prefix = word.endswith("*") and len(word.rstrip("*")) > 0
        word = word.rstrip("*") if prefix else word
        word = word.strip('"')
        if word:
            groups[-1].append(Term(word, prefix=prefix, negated=negated))
        negate_next = False
    terms = sum(len(group) for group in groups)
    if terms > MAX_TERMS:
        raise UsageError(f"the query has {terms} terms; at most {MAX_TERMS}")
    return Query(tuple(tuple(group) for group in groups if group))


def fold(text: str) -> str:
    """Case and accents folded, as the word index sees text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_UNSEGMENTED = (
    "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
    "\U00020000-\U0002ffff\uf900-\ufaff"
)
_UNSEGMENTED_CHAR = re.compile(f"[{_UNSEGMENTED}]")
# Letters, digits and private-use characters: what SQLite's unicode61 takes for word
# characters (its categories L* N* Co).
_WORD = re.compile(f"[{_UNSEGMENTED}]|(?:(?![{_UNSEGMENTED}])[^\\W_]|[\ue000-\uf8ff])+")


def words_of(text: str) -> list[str]:
    """The words of ``text`` as every back end indexes and looks them up: runs of
    letters and digits, lowercased, marks (accents, vowel signs) removed, each character
    of a script without spaces a word of its own. One splitter for all, so that they
    find the same pages."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    bare = "".join(char for char in decomposed if unicodedata.category(char)[0] != "M")
    return _WORD.findall(unicodedata.normalize("NFC", bare))


def unsegmented_char(char: str) -> bool:
    """A character of a script written without spaces (CJK, kana, Hangul, Thai, Lao,
    Myanmar, Khmer)."""
    return _UNSEGMENTED_CHAR.fullmatch(char) is not None

"""Languages nobody named (``languages=("auto",)``, the default): each page is read first
in English; a reading that leaves doubt is checked, and the page read again in the
language it turns out to be in, among the installed ones.

- A sure reading (mean confidence ``SURE_CONFIDENCE`` or more) stays: English pages, the
  most, pay nothing. A German page read as English scores about 88 against 95.
- A doubtful one of Latin script: the language of the text read is identified (py3langid,
  BSD; its model ships in its wheel) among the installed Latin-script languages.
- A poor one (little text, or confidence under 60: another script): Tesseract's script
  detection names the script, and the page is read in the installed languages of it.

The reading in the chosen language is kept only if it reads better than the first.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

from .quality import TURNED_CONFIDENCE, Reading

AUTO = "auto"
FIRST_READ = ("eng",)
SURE_CONFIDENCE = 91.0
"""Readings at least this sure are in the right language: clean English scans read as
English score 92-96, a German page read as English 88."""
MIN_IDENTIFIED = 0.9
"""py3langid's probability (normalised over the candidates) needed to change language."""

# Tesseract's language codes for what each script its orientation detection names is
# written in, most used first; and the ISO 639-1 codes py3langid knows them by.
SCRIPTS: dict[str, tuple[str, ...]] = {
    "Latin": (
        "eng", "deu", "fra", "spa", "ita", "por", "nld", "pol", "ces", "swe", "dan", "nor",
        "fin", "hun", "ron", "tur", "slk", "slv", "hrv", "cat", "est", "lav", "lit", "ind",
        "vie", "afr", "isl", "gle", "cym", "eus", "glg", "msa", "mlt", "sqi", "swa", "tgl",
        "ltz", "oci", "lat",
    ),
    "Cyrillic": ("rus", "ukr", "bul", "srp", "mkd", "bel", "kaz"),
    "Han": ("chi_sim", "chi_tra"),
    "Japanese": ("jpn",),
    "Hangul": ("kor",),
    "Arabic": ("ara", "fas", "urd"),
    "Hebrew": ("heb",),
    "Greek": ("ell",),
    "Devanagari": ("hin", "mar", "nep"),
    "Thai": ("tha",),
}  # fmt: skip
ISO_639_1 = {
    "eng": "en", "deu": "de", "fra": "fr", "spa": "es", "ita": "it", "por": "pt", "nld": "nl",
    "pol": "pl", "ces": "cs", "swe": "sv", "dan": "da", "nor": "no", "fin": "fi", "hun": "hu",
    "ron": "ro", "tur": "tr", "slk": "sk", "slv": "sl", "hrv": "hr", "cat": "ca", "est": "et",
    "lav": "lv", "lit": "lt", "ind": "id", "vie": "vi", "afr": "af", "isl": "is", "gle": "ga",
    "cym": "cy", "eus": "eu", "glg": "gl", "msa": "ms", "mlt": "mt", "sqi": "sq", "swa": "sw",
    "tgl": "tl", "ltz": "lb", "oci": "oc", "lat": "la", "rus": "ru", "ukr": "uk", "bul": "bg",
    "srp": "sr", "mkd": "mk", "bel": "be", "kaz": "kk",
}  # fmt: skip


def is_auto(languages: Sequence[str]) -> bool:
    """Whether ``languages`` leave the choice to pdfocr."""
    return tuple(languages) == (AUTO,)


def first_read(languages: Sequence[str]) -> tuple[str, ...]:
    """The languages a page is read in first."""
    return FIRST_READ if is_auto(languages) else tuple(languages)


def doubtful(reading: Reading) -> bool:
    """Whether a reading in the first languages may be in the wrong language."""
    return reading.confidence is not None and reading.confidence < SURE_CONFIDENCE


def poor(reading: Reading) -> bool:
    """Whether a reading is poor enough to be in another script."""
    return reading.confidence is None or reading.confidence < TURNED_CONFIDENCE


IDENTIFIED_SCRIPTS = ("Latin", "Cyrillic")
"""Scripts of many languages whose text py3langid tells apart."""


def of_script(script: str, installed: Sequence[str]) -> tuple[str, ...]:
    """The installed languages written in ``script`` (Tesseract's name for it): the most
    used one; for Han, simplified and traditional Chinese together."""
    found = tuple(code for code in SCRIPTS.get(script, ()) if code in installed)
    return found if script == "Han" else found[:1]


def identified(text: str, installed: Sequence[str], script: str = "Latin") -> str | None:
    """The installed language of ``script`` (Latin or Cyrillic) that ``text`` is in, if
    py3langid is sure of it; None otherwise."""
    of_it = SCRIPTS.get(script, ())
    candidates = {ISO_639_1[code]: code for code in installed if code in ISO_639_1 and code in of_it}
    identifier = _identifier()
    known = set(identifier.nb_classes)
    usable = sorted(iso for iso in candidates if iso in known)
    if len(usable) < 2 or not text.strip():
        return None
    with _IDENTIFYING:  # the candidates are set on the one identifier
        identifier.set_languages(usable)
        iso, probability = identifier.classify(text)
    return candidates[iso] if probability >= MIN_IDENTIFIED else None


_IDENTIFYING = threading.Lock()


@functools.cache
def _identifier() -> Any:
    """py3langid's identifier, loaded once per process (1.7 s: only pages in doubt need it)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

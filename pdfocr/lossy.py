"""``optimize="lossy[=QUALITY]"``: an image page shown as a JPEG at ``QUALITY`` (60 by
default) instead of its own bytes, where that is smaller, guarded by the engine: the
JPEG is read again, and kept only when every token with a digit the page's reading has
is still read, unchanged, and its words agree with the reading's within ``AGREEMENT``;
otherwise it is tried at the next milder quality (``MILDER``), and at last the page keeps
its image (a warning says why). Bilevel pages stay as they are
(``lossless`` makes them Group 4). The text layer is the first reading's either way.
Pages of input PDFs keep their images."""

from __future__ import annotations

import io
import re
from collections import Counter

from PIL import Image

from .engines import OcrEngine
from .inputs import LoadedPage, ocr_ready
from .options import ConvertOptions
from .preprocess import is_bilevel
from .reading import RecognizedPage, read_as_is

DEFAULT_QUALITY = 60
AGREEMENT = 0.99
"""The share of the page's words the JPEG's reading must give back."""


def lossy_quality(level: str) -> int | None:
    """The JPEG quality an ``optimize`` level asks for (None: not a lossy level)."""
    if level == "lossy":
        return DEFAULT_QUALITY
    found = re.fullmatch(r"lossy=(\d{1,3})", level)
    return int(found.group(1)) if found and 1 <= int(found.group(1)) <= 95 else None


MILDER = (80, 92)
"""The qualities a page whose JPEG fails the guard is tried at next, each milder."""


def lossy_page(
    found: RecognizedPage, engine: OcrEngine, options: ConvertOptions, quality: int
) -> tuple[LoadedPage, str | None]:
    """The page to show: a JPEG of ``found``'s page that its engine reads the same, at
    ``quality`` or, failing that, the next milder quality that passes; or the page itself
    and why not (None when there was nothing to gain)."""
    page = found.page
    if is_bilevel(page.image):
        return page, None
    image = ocr_ready(page.image)
    why = None
    for tried in (quality, *(milder for milder in MILDER if milder > quality)):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=tried, optimize=True)
        jpeg = buffer.getvalue()
        if page.original is not None and len(jpeg) >= len(page.original):
            return page, why  # milder ones are larger still
        with Image.open(io.BytesIO(jpeg)) as decoded:
            shown = LoadedPage(image=decoded.copy(), dpi=page.dpi, original=jpeg, source_format="JPEG")
        languages = found.languages or options.engine_languages
        again = read_as_is(shown, engine, options, languages, straighten=False)
        lost = _lost(found.text.text, again.text.text)
        if lost is None:
            return shown, None
        why = f"kept its image: as a JPEG at quality {tried} {lost}"
    return page, why


def _lost(first: str, second: str) -> str | None:
    """What the second reading lost of the first: a token with a digit, or too many words."""
    before, after = Counter(first.split()), Counter(second.split())
    for token, count in before.items():
        if any(character.isdigit() for character in token) and after[token] < count:
            return f"{token!r} was no longer read"
    total = sum(before.values())
    agreed = sum(min(count, after[word]) for word, count in before.items())
    if total and agreed / total < AGREEMENT:
        return f"only {agreed / total:.1%} of its words were read the same"
    return None

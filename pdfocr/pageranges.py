"""Page ranges (``pages="1-3,7,10-end"``): which of the bundle's pages, as they come out,
are read; 1-based, ``end`` the last page. The syntax is checked with the options; the
ranges are resolved once the bundle's pages are counted."""

from __future__ import annotations

import re

from .errors import UsageError

_RANGE = re.compile(r"^(\d+|end)(?:-(\d+|end))?$")


def parse_ranges(text: str) -> tuple[tuple[int | None, int | None], ...]:
    """The ranges ``text`` names, each (first, last), 1-based, None for ``end``."""
    ranges = []
    for part in text.replace(" ", "").split(","):
        found = _RANGE.match(part)
        if found is None:
            raise UsageError(f"bad page range {part!r} in {text!r} (say e.g. 1-3,7,10-end)")
        first, last = (
            None if v == "end" else int(v) for v in (found.group(1), found.group(2) or found.group(1))
        )
        if first == 0 or last == 0:
            raise UsageError(f"bad page range {part!r} in {text!r}: pages count from 1")
        if first is None and last is not None:
            raise UsageError(f"bad page range {part!r} in {text!r}: end comes last")
        if first is not None and last is not None and last < first:
            raise UsageError(f"bad page range {part!r} in {text!r}: {last} comes before {first}")
        ranges.append((first, last))
    return tuple(ranges)


def selected(text: str | None, count: int) -> frozenset[int]:
    """The 0-based indexes of the bundle's ``count`` pages ``text`` selects (all without
    ranges); a range starting past the last page is an error."""
    if text is None:
        return frozenset(range(count))
    chosen: set[int] = set()
    for first, last in parse_ranges(text):
        start = count if first is None else first
        stop = count if last is None else last
        if start > count:
            raise UsageError(f"page range {text!r}: page {start} is past the bundle's last page ({count})")
        chosen.update(range(start - 1, min(stop, count)))
    return frozenset(chosen)

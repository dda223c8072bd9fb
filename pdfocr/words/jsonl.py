"""Words as JSON lines: for scripts and pipelines. One object per line: a ``page`` record
before each page's words (its number in the PDF, source file and page, size in pixels and
points, resolution, languages, engine, and ``origin``: ``ocr``, or ``pdf`` for a kept
page's own text), then a ``word`` record per word in reading order, with its block, line
and word numbers (1-based, within the page), its confidence (0 to 100, or null) and its
box twice: ``px`` (left, top, right, bottom: pixels of the page as the PDF shows it,
from its top-left corner) and ``pt`` (left, bottom, right, top: PDF points from the
bottom-left corner of the page as shown)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from . import WordPage


def json_lines(pages: Sequence[WordPage]) -> Iterator[str]:
    """The pages' records, one JSON text per line (without the line break)."""
    for page in pages:
        width, height = page.size
        points = page.words.size_points
        yield _dumped(
            {
                "type": "page",
                "page": page.number,
                "source": page.source,
                "source_page": page.source_page,
                "width_px": width,
                "height_px": height,
                "width_pt": _rounded(points[0]),
                "height_pt": _rounded(points[1]),
                "dpi": [_rounded(value) for value in page.words.dpi],
                "languages": list(page.languages),
                "engine": page.engine,
                "origin": page.words.origin,
            }
        )
        line_number = word_number = 0
        for block_number, block in enumerate(page.text.blocks, start=1):
            for line in block.lines:
                line_number += 1
                for word in line.words:
                    word_number += 1
                    box = word.box
                    yield _dumped(
                        {
                            "type": "word",
                            "page": page.number,
                            "block": block_number,
                            "line": line_number,
                            "word": word_number,
                            "text": word.text,
                            "confidence": None if word.confidence is None else _rounded(word.confidence),
                            "px": [_rounded(v) for v in (box.left, box.top, box.right, box.bottom)],
                            "pt": [_rounded(v) for v in page.words.to_points(box)],
                        }
                    )


def to_json_lines(pages: Sequence[WordPage]) -> str:
    return "".join(line + "\n" for line in json_lines(pages))


def _dumped(record: dict[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _rounded(value: float) -> float:
    return round(float(value), 2)

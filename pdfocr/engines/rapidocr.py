"""The RapidOCR engine: optional (``pip install "pdfocr[rapidocr]"``), Apache-2.0.

RapidOCR runs PaddleOCR's PP-OCRv6 models under ONNX Runtime: a text detector that finds
lines on photos, receipts and coloured backgrounds where Tesseract's page layout finds
nothing, and a recogniser for Chinese, English, Japanese and 46 Latin-script languages in
one model. How it is run here:

- The models are the files its wheel carries, named explicitly: RapidOCR would otherwise
  download what it misses at run time. A package without them is refused by ``check``.
- One thread per worker (ONNX Runtime's intra- and inter-op pools set to 1): pdfocr runs
  pages in parallel itself.
- It reads a copy of the page at most ``MAX_SIDE`` pixels long, which keeps small print
  legible, and maps its boxes back onto the page; its detector sees a smaller copy still
  (``DETECTION_SIDE``), where finding lines costs less and loses none.
- Lines come with word boxes (RapidOCR's own, from the recogniser's character positions);
  pieces of text it found side by side on one row become one line.
"""

from __future__ import annotations

import importlib.util
import itertools
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from ..errors import DependencyError, UsageError
from ..model import Block, Box, Line, PageText, Word
from .wordboxes import line_with_words

INSTALL_HINT = 'pip install "pdfocr[rapidocr]"'
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
"""The models RapidOCR 3.10's wheel carries, by the stage that runs each."""

# Tesseract's language codes and the PP-OCRv6 recogniser's own, for what it reads.
LANGUAGES = {
    "eng": "en", "chi_sim": "ch", "chi_tra": "chinese_cht", "jpn": "japan",
    "afr": "af", "aze": "az", "bos": "bs", "cat": "ca", "ces": "cs", "cym": "cy",
    "dan": "da", "deu": "de", "spa": "es", "est": "et", "eus": "eu", "fin": "fi",
    "fra": "fr", "gle": "ga", "glg": "gl", "hrv": "hr", "hun": "hu", "ind": "id",
    "isl": "is", "ita": "it", "kmr": "ku", "lat": "la", "ltz": "lb", "lit": "lt",
    "lav": "lv", "mri": "mi", "msa": "ms", "mlt": "mt", "nld": "nl", "nor": "no",
    "oci": "oc", "pol": "pl", "por": "pt", "que": "qu", "roh": "rm", "ron": "ro",
    "srp_latn": "rs_latin", "slk": "sk", "slv": "sl", "sqi": "sq", "swe": "sv",
    "swa": "sw", "tgl": "tl", "tur": "tr", "uzb": "uz", "vie": "vi",
}  # fmt: skip

MAX_SIDE = 3000
"""RapidOCR reads pages at most this long (pixels), on a copy it makes and maps back: an
A4 page at 260 dpi, a receipt 10 inches long at 300 (its own default, 2000, shrinks 8-pt
print below the 20 pixels a letter needs)."""
DETECTION_SIDE = 1600
"""The detector, which finds the lines, sees the page at most this long: it costs with
every pixel (1.3 s for 1280 pixels, 5.3 s for 2480, one thread) and finds 10-pt lines at
1280 as at full size; the recogniser reads each line from the page at full resolution."""
SAME_ROW = 0.5
"""Two pieces of text are on one row when they overlap vertically by this share of the
lower one's height."""

_warm = threading.local()


def _package_folder() -> Path | None:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class RapidOcrEngine:
    """OCR with RapidOCR (PP-OCRv6 under ONNX Runtime), one thread per page."""

    name: str = "rapidocr"
    needs_worker_process: ClassVar[bool] = True
    """ONNX Runtime and its models load only in the workers, never in the caller."""

    def _models(self) -> dict[str, Path]:
        folder = _package_folder()
        if folder is None or importlib.util.find_spec("onnxruntime") is None:
            raise DependencyError(f"the rapidocr engine needs RapidOCR and ONNX Runtime: {INSTALL_HINT}")
        models = {stage: folder / "models" / file for stage, file in MODEL_FILES.items()}
        missing = [str(path) for path in models.values() if not path.is_file()]
        if missing:
            raise DependencyError(
                f"RapidOCR's models are not where its package keeps them ({missing[0]}); pdfocr "
                f"never downloads models: {INSTALL_HINT} (rapidocr 3.10, whose wheel carries them)"
            )
        return models

    def describe(self) -> str:
        """One line for ``pdfocr --list-engines``."""
        self._models()
        return f"RapidOCR, PP-OCRv6 (from its package); languages: {', '.join(sorted(LANGUAGES))}"

    def check(self, languages: Sequence[str]) -> None:
        self._models()
        unread = [code for code in languages if code not in LANGUAGES]
        if unread:
            raise UsageError(
                f"the rapidocr engine does not read {'+'.join(unread)} "
                f"(it reads Chinese, English, Japanese and Latin-script languages: "
                f"{', '.join(sorted(LANGUAGES))})"
            )

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        self.check(languages)
        import numpy

        rgb = image.convert("RGB")
        found = self._engine()(numpy.asarray(rgb), return_word_box=True)
        return PageText(width=image.width, height=image.height, blocks=_blocks(_rows(_lines(found, rgb))))

    def _engine(self) -> Any:
        """This thread's warm RapidOCR (its models loaded once per worker)."""
        engine = getattr(_warm, "engine", None)
        if engine is None:
            from rapidocr import RapidOCR

            params: dict[str, Any] = {
                "Global.log_level": "error",
                "Global.max_side_len": MAX_SIDE,
                "Det.limit_type": "max",
                "Det.limit_side_len": DETECTION_SIDE,
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            params.update({f"{stage}.model_path": str(path) for stage, path in self._models().items()})
            engine = _warm.engine = RapidOCR(params=params)
        return engine


def _quad_box(points: Any) -> Box:
    xs = [float(point[0]) for point in points]
    ys = [float(point[1]) for point in points]
    return Box(min(xs), min(ys), max(xs), max(ys))


def _lines(found: Any, image: Image.Image) -> list[Line]:
    """RapidOCR's pieces of text as lines with word boxes, in the page's pixels."""
    if found.boxes is None or found.txts is None:
        return []
    words_of = found.word_results or [()] * len(found.txts)
    lines = []
    for points, text, score, words in zip(found.boxes, found.txts, found.scores, words_of, strict=False):
        text = " ".join(str(text).split())
        if not text:
            continue
        box = _quad_box(points)
        confidence = float(score) * 100.0
        placed = [
            Word(" ".join(str(word).split()), _quad_box(corners), float(word_score) * 100.0)
            for word, word_score, corners in words
            if str(word).strip()
        ]
        if placed and "".join(word.text for word in placed).replace(" ", "") == text.replace(" ", ""):
            lines.append(Line(tuple(sorted(placed, key=lambda word: word.box.left)), box))
        else:  # no word boxes, or not the line's text: measured in the image instead
            lines.append(line_with_words(image, text, box, confidence))
    return [line for line in lines if line.words]


def _rows(lines: list[Line]) -> list[Line]:
    """Pieces of text side by side on one row (a table's cells, a line the detector cut at
    a gap) as one line, left to right; rows top to bottom."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: (line.box.top + line.box.bottom) / 2):
        row = rows[-1] if rows else None
        if row is not None and _same_row(row, line):
            row.append(line)
        else:
            rows.append([line])
    joined = []
    for row in rows:
        pieces = sorted(row, key=lambda line: line.box.left)
        words = tuple(word for piece in pieces for word in piece.words)
        box = Box(
            min(p.box.left for p in pieces),
            min(p.box.top for p in pieces),
            max(p.box.right for p in pieces),
            max(p.box.bottom for p in pieces),
        )
        joined.append(Line(words, box))
    return joined


def _same_row(row: list[Line], line: Line) -> bool:
    """Whether ``line`` continues ``row``: beside its pieces, not over or under any (the
    boxes of long lines on a tilted photo overlap the next line's), and level with the
    last one."""
    last = row[-1].box
    level = min(last.bottom, line.box.bottom) - max(last.top, line.box.top)
    beside = all(line.box.left >= piece.box.right or line.box.right <= piece.box.left for piece in row)
    return beside and level >= SAME_ROW * min(line.box.height, last.height)


def _blocks(lines: list[Line]) -> tuple[Block, ...]:
    """Consecutive lines as blocks, a new one where the gap between two lines is over
    the usual line height (a paragraph break, a table after the heading)."""
    if not lines:
        return ()
    usual = statistics.median(line.box.height for line in lines)
    blocks: list[list[Line]] = [[lines[0]]]
    for before, line in itertools.pairwise(lines):
        if line.box.top - before.box.bottom > usual:
            blocks.append([])
        blocks[-1].append(line)
    return tuple(Block(tuple(block)) for block in blocks)

"""How well the invisible text lines up with the ink, against Tesseract's own renderer.

    .venv/bin/python bench/alignment.py [--pages 6]

Draws pages with Pillow, recording every word's ink box (the ground truth), converts them
with pdfocr and with ``tesseract IMG OUT pdf``, reads each PDF back with
``pdftotext -bbox`` and reports, over the words both read correctly: the median and 90th
percentile error of the left and right edges (points), the share of words whose box
covers the ink vertically (within 1 pt), and the character error rate (CER) of
``pdftotext``'s text against the drawn text.
"""

from __future__ import annotations

import argparse
import difflib
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from synthetic_pages import SANS, SERIF, DrawnPage, draw_page, prose  # noqa: E402

DPI = 300
STYLES = [(SANS, 11.0, False), (SERIF, 12.0, True), (SANS, 9.0, True), (SERIF, 16.0, False)]


@dataclass(frozen=True)
class Box:
    text: str
    left: float
    top: float
    right: float
    bottom: float


def pdf_words(pdf: Path) -> list[list[Box]]:
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    return [
        [Box(text, float(a), float(b), float(c), float(d)) for a, b, c, d, text in re.findall(pattern, page)]
        for page in re.findall(r"<page .*?</page>", xhtml.stdout, flags=re.S)
    ]


def pdf_text(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def normalise(text: str) -> str:
    """One line per text line, single spaces: what reading the text gives."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


@dataclass
class Score:
    left: list[float]
    right: list[float]
    covered: int = 0
    matched: int = 0
    errors: int = 0
    characters: int = 0

    def add_page(self, truth: DrawnPage, found: list[Box], text: str) -> None:
        scale = 72 / truth.dpi
        drawn = truth.words
        matcher = difflib.SequenceMatcher(
            None, [w.text for w in drawn], [w.text for w in found], autojunk=False
        )
        for block in matcher.get_matching_blocks():
            for offset in range(block.size):
                want, got = drawn[block.a + offset], found[block.b + offset]
                left, top, right, bottom = (v * scale for v in want.box)
                self.left.append(abs(got.left - left))
                self.right.append(abs(got.right - right))
                self.covered += got.top <= top + 1 and got.bottom >= bottom - 1
                self.matched += 1
        self.errors += edit_distance(normalise(truth.text), normalise(text))
        self.characters += len(normalise(truth.text))

    def row(self, name: str) -> str:
        def p90(values: list[float]) -> float:
            return statistics.quantiles(values, n=10)[-1]

        return (
            f"{name:22}{statistics.median(self.left):>8.2f}{p90(self.left):>8.2f}"
            f"{statistics.median(self.right):>8.2f}{p90(self.right):>8.2f}"
            f"{100 * self.covered / self.matched:>9.1f}%{100 * self.errors / self.characters:>8.2f}%"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=6)
    args = parser.parse_args()
    pages = []
    for number in range(args.pages):
        font, points, noise = STYLES[number % len(STYLES)]
        pages.append(
            draw_page(prose(number + 1, 9), dpi=DPI, font=font, points=points, noise=noise, seed=number)
        )
    with tempfile.TemporaryDirectory(prefix="pdfocr-align-") as scratch:
        work = Path(scratch)
        folder = work / "pages"
        folder.mkdir()
        tesseract_pdfs = []
        for number, page in enumerate(pages):
            image = folder / f"page{number:03d}.png"
            page.image.save(image, dpi=(DPI, DPI))
            base = work / f"tesseract{number:03d}"
            subprocess.run(["tesseract", str(image), str(base), "pdf"], check=True, capture_output=True)
            tesseract_pdfs.append(Path(f"{base}.pdf"))
        ours = work / "pdfocr.pdf"
        subprocess.run([sys.executable, "-m", "pdfocr", str(folder), "-o", str(ours), "-q"], check=True)
        pdfocr_score, tesseract_score = Score([], []), Score([], [])
        for number, (words, text) in enumerate(zip(pdf_words(ours), pdf_text(ours), strict=False)):
            pdfocr_score.add_page(pages[number], words, text)
        for number, pdf in enumerate(tesseract_pdfs):
            tesseract_score.add_page(pages[number], pdf_words(pdf)[0], pdf_text(pdf)[0])
    words = sum(len(page.words) for page in pages)
    print(f"{args.pages} pages at {DPI} dpi, {words} drawn words; edge errors in points against the ink")
    print(f"{'':22}{'left':>8}{'p90':>8}{'right':>8}{'p90':>8}{'covered':>10}{'CER':>9}")
    print(pdfocr_score.row("pdfocr"))
    print(tesseract_score.row("tesseract renderer"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does the text layer read right everywhere? Every extractor on every hard case, for
pdfocr, Tesseract's own PDF renderer and OCRmyPDF, in one run.

    .venv/bin/python bench/extractors.py [--cases straight,skew+1,...] [--producers pdfocr,...]

Draws one page per case with Pillow (straight prose; skewed by +1, -3 and +5 degrees,
not straightened; sideways and upside down, not turned; a table with tight word boxes;
right-to-left lines with digits and Latin words; Chinese; two columns), makes a
searchable PDF of it with each producer, and reads the PDF back with each extractor of
``scripts/extractors.py``. Each cell compares the extractor's text with the engine's own
text for that PDF (its sidecar, or Tesseract's text output), whitespace runs collapsed:
``lines%`` is the share of the engine's lines found whole, in order; ``cer%`` the
character error rate (edits over the engine's characters, line breaks counted). A last
table gives, per producer, the median distance (points) between the left and right edges of
``pdftotext -bbox``'s words and the engine's word boxes (pdfocr's engine, in-process),
over the words both share, and between their middles up and down the page.
"""

from __future__ import annotations

import argparse
import difflib
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from extractors import EXTRACTORS  # noqa: E402
from hard_pages import CASES, DPI, compare  # noqa: E402

from pdfocr.model import Word  # noqa: E402

OCRMYPDF = ROOT / "bench" / ".venv-ocrmypdf" / "bin"


def by_pdfocr(image: Path, languages: str, work: Path) -> tuple[Path, str]:
    output, sidecar = work / "pdfocr.pdf", work / "pdfocr.txt"
    command = [sys.executable, "-m", "pdfocr", str(image), "-o", str(output), "--sidecar", str(sidecar)]
    subprocess.run([*command, "-l", languages, "-j", "1", "-q", "--output-type", "pdf"], check=True, cwd=ROOT)
    return output, sidecar.read_text()


def by_tesseract(image: Path, languages: str, work: Path) -> tuple[Path, str]:
    base = work / "tesseract"
    subprocess.run(
        ["tesseract", str(image), str(base), "-l", languages, "pdf", "txt"], check=True, capture_output=True
    )
    return base.with_suffix(".pdf"), base.with_suffix(".txt").read_text()


def by_ocrmypdf(image: Path, languages: str, work: Path) -> tuple[Path, str]:
    output, sidecar = work / "ocrmypdf.pdf", work / "ocrmypdf.txt"
    command = [
        str(OCRMYPDF / "ocrmypdf"),
        "-q",
        "-l",
        languages,
        "--output-type",
        "pdf",
        "--sidecar",
        str(sidecar),
    ]
    subprocess.run([*command, "--image-dpi", str(DPI), str(image), str(output)], check=True)
    return output, sidecar.read_text()


PRODUCERS: dict[str, Callable[[Path, str, Path], tuple[Path, str]]] = {
    "pdfocr": by_pdfocr,
    "tesseract pdf": by_tesseract,
    "ocrmypdf": by_ocrmypdf,
}


def engine_words(image: Path, languages: str) -> list[Word]:
    """The words the engine reads on the page, with their pixel boxes."""
    from pdfocr.engines.tesseract import TesseractEngine

    page = Image.open(image)
    text = TesseractEngine().recognize(page, languages=tuple(languages.split("+")), dpi=DPI)
    return [word for line in text.lines for word in line.words]


def edge_errors(pdf: Path, words: list[Word]) -> tuple[float, float] | None:
    """Median distances (pt) between the words of ``pdftotext -bbox`` and the engine's
    word boxes, over the words both share: of their left and right edges, and of their
    middles up and down the page (a level line on a skewed page has its ends' words
    above or below their ink)."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    boxes = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', xhtml
    )
    scale = 72 / DPI
    across, down = [], []
    found = [(text, *map(float, edges)) for *edges, text in boxes]
    matcher = difflib.SequenceMatcher(None, [w.text for w in words], [f[0] for f in found], autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            word, (_, left, top, right, bottom) = words[block.a + k], found[block.b + k]
            across += [abs(left - word.box.left * scale), abs(right - word.box.right * scale)]
            down.append(abs((top + bottom) / 2 - (word.box.top + word.box.bottom) / 2 * scale))
    return (statistics.median(across), statistics.median(down)) if across else None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--producers", default=",".join(PRODUCERS))
    args = parser.parse_args()
    cases = args.cases.split(",")
    producers = [
        name for name in args.producers.split(",") if name != "ocrmypdf" or (OCRMYPDF / "ocrmypdf").exists()
    ]
    results: dict[str, dict[str, dict[str, tuple[float, float]]]] = {name: {} for name in producers}
    edges: dict[tuple[str, str], tuple[float, float] | None] = {}
    with tempfile.TemporaryDirectory(prefix="pdfocr-extractors-") as scratch:
        for case_name in cases:
            case = CASES[case_name]()
            folder = Path(scratch) / case_name.replace(" ", "-")
            folder.mkdir()
            image = folder / "page.png"
            case.image.save(image, dpi=(DPI, DPI))
            words = engine_words(image, case.languages)
            for producer in producers:
                pdf, engine_text = PRODUCERS[producer](image, case.languages, folder)
                row = results[producer].setdefault(case_name, {})
                for extractor, extract in EXTRACTORS.items():
                    try:
                        row[extractor] = compare(engine_text, extract(pdf))
                    except Exception:  # an extractor that fails counts as reading nothing
                        row[extractor] = (0.0, 1.0)
                edges[producer, case_name] = edge_errors(pdf, words)
    names = list(EXTRACTORS)
    for producer in producers:
        print(f"\n{producer}: lines found % / character error rate %")
        print(f"{'case':15}" + "".join(f"{name:>16}" for name in names))
        for case_name in cases:
            cells = results[producer][case_name]
            print(
                f"{case_name:15}"
                + "".join(f"{100 * cells[name][0]:>9.0f} /{100 * cells[name][1]:>5.1f}" for name in names)
            )
    print("\nmedian word box error against the engine's boxes (pdftotext -bbox), points:")
    print("left/right edges | middle up and down")
    print(f"{'case':15}" + "".join(f"{producer:>16}" for producer in producers))
    for case_name in cases:
        measured = [edges.get((producer, case_name)) for producer in producers]
        cells = ["-".rjust(16) if e is None else f"{e[0]:>9.2f} |{e[1]:>5.2f}" for e in measured]
        print(f"{case_name:15}" + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())

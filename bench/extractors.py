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
table gives, for pdfocr, the median distance (points) between the left and right edges of
``pdftotext -bbox``'s words and the engine's word boxes, over the words both share.
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


def edge_error(pdf: Path, image: Path, languages: str) -> float | None:
    """Median distance (pt) between pdftotext's word edges and the engine's word boxes."""
    from pdfocr.engines.tesseract import TesseractEngine

    page = Image.open(image)
    engine_words = [
        word
        for line in TesseractEngine().recognize(page, languages=tuple(languages.split("+")), dpi=DPI).lines
        for word in line.words
    ]
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    boxes = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>', xhtml
    )
    scale = 72 / DPI
    errors = []
    found = [(text, float(left), float(right)) for left, right, text in boxes]
    matcher = difflib.SequenceMatcher(
        None, [w.text for w in engine_words], [t for t, _, _ in found], autojunk=False
    )
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            word, (_, left, right) = engine_words[block.a + k], found[block.b + k]
            errors += [abs(left - word.box.left * scale), abs(right - word.box.right * scale)]
    return statistics.median(errors) if errors else None


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
    edges: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="pdfocr-extractors-") as scratch:
        for case_name in cases:
            case = CASES[case_name]()
            folder = Path(scratch) / case_name.replace(" ", "-")
            folder.mkdir()
            image = folder / "page.png"
            case.image.save(image, dpi=(DPI, DPI))
            for producer in producers:
                pdf, engine_text = PRODUCERS[producer](image, case.languages, folder)
                row = results[producer].setdefault(case_name, {})
                for extractor, extract in EXTRACTORS.items():
                    try:
                        row[extractor] = compare(engine_text, extract(pdf))
                    except Exception:  # an extractor that fails counts as reading nothing
                        row[extractor] = (0.0, 1.0)
                if producer == "pdfocr":
                    edges[case_name] = edge_error(pdf, image, case.languages)
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
    print("\npdfocr: median word edge error against the engine's boxes (pdftotext -bbox), points")
    for case_name in cases:
        error = edges.get(case_name)
        print(f"{case_name:15}{'-' if error is None else f'{error:.2f}':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

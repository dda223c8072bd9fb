"""What each step that reads real-world pages right costs, on the pages it is for, in
this process with warm engines (as in a worker):

    .venv/bin/python bench/steps.py [--rounds 3]

For an upright clean page (bench/compare.py's dense 300-dpi prose), the checks every page
gets: whether its reading looks turned or poor (pdfocr.quality, pdfocr.engines.auto) and
lines made whole (pdfocr.readingorder), as a share of reading it, which is what being
upright by default costs such a page. Then, each on the realistic page it is for
(scripts/realistic_pages.py): orientation detection (a page upside down), language
identification and the read in the page's language (German), RapidOCR's read (a receipt
photo), finding and flattening a photo's sheet (a photo on a table), the square-pixel
copy (a fax at 204 x 98 dpi). Median seconds over the rounds; each against the page's
own read by Tesseract.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from PIL import Image  # noqa: E402
from realistic_pages import realistic_cases  # noqa: E402
from throughput import build_bundle  # noqa: E402

from pdfocr.engines.auto import is_poor  # noqa: E402
from pdfocr.engines.rapidocr import RapidOcrEngine  # noqa: E402
from pdfocr.engines.tesseract import TesseractEngine  # noqa: E402
from pdfocr.inputs import LoadedPage  # noqa: E402
from pdfocr.languages import identified  # noqa: E402
from pdfocr.photo import find_sheet, flattened  # noqa: E402
from pdfocr.preprocess import ocr_copy  # noqa: E402
from pdfocr.quality import Reading  # noqa: E402
from pdfocr.readingorder import whole_lines  # noqa: E402


def timed(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tesseract = TesseractEngine()
    cases = {case.name: case for case in realistic_cases()}

    def read(image: Image.Image, languages: tuple[str, ...] = ("eng",), dpi: float = 300) -> float:
        tesseract.recognize(image, languages=languages, dpi=dpi)  # warm the model
        return timed(lambda: tesseract.recognize(image, languages=languages, dpi=dpi), args.rounds)

    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        (path,) = build_bundle(Path(folder), 1)
        page = Image.open(path)
        page.load()
    text = tesseract.recognize(page, languages=["eng"], dpi=300)
    checks = timed(
        lambda: (Reading.of(text).looks_turned, is_poor(page, text), whole_lines(text)), args.rounds
    )
    rows.append(("checks on an upright dense page", checks, read(page)))

    turned = cases["turned-180"].image
    detection = timed(lambda: tesseract.detect_rotation(turned, dpi=300), args.rounds)
    rows.append(("orientation detection", detection, read(turned)))

    german = cases["german"].image
    english = tesseract.recognize(german, languages=["eng"], dpi=300).text
    identified(english, ["eng", "deu", "fra"])  # the model, loaded once per worker
    identifying = timed(lambda: identified(english, ["eng", "deu", "fra"]), args.rounds)
    rows.append(("language identified", identifying, read(german)))
    rows.append(("read again in German", read(german, ("deu",)), read(german)))

    receipt = cases["receipt"].image
    rapid = RapidOcrEngine()
    rapid.recognize(receipt, languages=["eng"], dpi=300)  # models loaded once per worker
    rows.append(("RapidOCR on a receipt photo",
                 timed(lambda: rapid.recognize(receipt, languages=["eng"], dpi=300), args.rounds),
                 read(receipt)))  # fmt: skip

    photo = cases["photo-table"].image
    loaded = LoadedPage(image=photo, dpi=(72.0, 72.0), photo=True)

    def flatten() -> object:
        sheet = find_sheet(photo)
        return flattened(loaded, sheet) if sheet else None

    rows.append(("sheet found and flattened", timed(flatten, args.rounds), read(photo)))

    fax = cases["fax-standard"].image
    fax_page = LoadedPage(image=fax, dpi=(204.0, 98.0))
    rows.append(("square-pixel copy of a fax", timed(lambda: ocr_copy(fax_page, 50.0), args.rounds),
                 read(fax, dpi=204)))  # fmt: skip

    print(f"{'step':34} {'seconds':>8} {'the read':>9} {'share':>7}")
    for name, seconds, base in rows:
        print(f"{name:34} {seconds:8.3f} {base:9.3f} {seconds / base:7.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

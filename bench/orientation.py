"""What telling a page's orientation costs, against reading it, with the in-process engine.

    .venv/bin/python bench/orientation.py [--pages 10]

On bench/compare.py's dense 300-dpi pages, in this process with tesserocr (the model
loaded once, as in a worker): the median time to recognise a page, to detect its
orientation (Tesseract's OSD) on the page itself, and on copies reduced to 150 and 100
dpi; each detection as a share of recognition, and whether the reduced copies still find
the orientation of the page turned 90, 180 and 270 degrees (with their confidence). The
cost of detecting every page's orientation; pdfocr detects it only on pages whose
reading looks turned (README, "Pages the wrong way up"; bench/steps.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throughput import build_bundle  # noqa: E402

from pdfocr.engines.tesseract import TesseractEngine  # noqa: E402

DPI = 300


def timed(action) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def reduced(image: Image.Image, dpi: int) -> Image.Image:
    factor = dpi / DPI
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.BOX)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    engine = TesseractEngine()
    with tempfile.TemporaryDirectory(prefix="pdfocr-orientation-") as scratch:
        pages = [Image.open(path).convert("L") for path in build_bundle(Path(scratch), args.pages)]
    engine.recognize(pages[0], languages=("eng",), dpi=DPI)  # load the models once
    engine.detect_rotation(pages[0], dpi=DPI)
    reading, detecting = [], {DPI: [], 150: [], 100: []}
    found: dict[int, list[tuple[int, int, float]]] = {dpi: [] for dpi in detecting}
    for page in pages:
        reading.append(timed(lambda page=page: engine.recognize(page, languages=("eng",), dpi=DPI))[0])
        for dpi in detecting:
            copy = page if dpi == DPI else reduced(page, dpi)
            detecting[dpi].append(timed(lambda copy=copy, dpi=dpi: engine.detect_rotation(copy, dpi=dpi))[0])
            for turned in (90, 180, 270):
                result = engine.detect_rotation(copy.rotate(turned, expand=True), dpi=dpi)
                degrees, confidence = result if result else (-1, 0.0)
                found[dpi].append((turned, degrees, confidence))
    read = statistics.median(reading)
    print(f"{args.pages} dense Letter pages at 300 dpi, in-process Tesseract, medians")
    print(f"recognise a page: {read:.3f} s")
    for dpi, times in detecting.items():
        seconds = statistics.median(times)
        right = sum(turned == degrees for turned, degrees, _ in found[dpi])
        confidence = statistics.median(confidence for _, _, confidence in found[dpi])
        print(
            f"orientation at {dpi:>3} dpi: {seconds:.3f} s = {100 * seconds / read:5.1f}% of recognition; "
            f"turned pages told right {right}/{len(found[dpi])}, median confidence {confidence:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tesseract settings that might buy speed: time per page and character error rate on
dense drawn pages (known text), in-process through tesserocr, one setting at a time.

    .venv/bin/python bench/settings.py [--pages 6]

A setting earns a place in pdfocr only if it is measurably faster at the same CER.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import tesserocr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from alignment import edit_distance, normalise  # noqa: E402
from synthetic_pages import SERIF, draw_page, prose  # noqa: E402

from pdfocr.engines.tesseract_api import tessdata_folder  # noqa: E402

CANDIDATES: list[dict[str, str]] = [
    {},
    {"tessedit_do_invert": "0"},
    {"load_system_dawg": "0", "load_freq_dawg": "0"},
    {},  # defaults again: the spread between the two default rows is the noise
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=6)
    args = parser.parse_args()
    pages = [
        draw_page(
            prose(n, 7) * 5, dpi=300, size_inches=(8.5, 11), font=SERIF, points=10.5, noise=True, seed=n
        )
        for n in range(1, args.pages + 1)
    ]
    print(f"{args.pages} dense Letter pages at 300 dpi, one thread")
    for settings in CANDIDATES:
        api = tesserocr.PyTessBaseAPI(path=tessdata_folder(), lang="eng", variables=settings)
        spent, errors, characters = 0.0, 0, 0
        for page in pages:
            image = page.image
            started = time.perf_counter()
            api.SetImageBytes(image.tobytes(), image.width, image.height, 1, image.width)
            api.SetSourceResolution(300)
            text = api.GetUTF8Text()
            spent += time.perf_counter() - started
            errors += edit_distance(normalise(page.text), normalise(text))
            characters += len(normalise(page.text))
        api.End()
        label = " ".join(f"{key}={value}" for key, value in settings.items()) or "defaults"
        print(f"{label:44}{spent / len(pages):>8.3f} s/page{100 * errors / characters:>8.2f}% CER")
    return 0


if __name__ == "__main__":
    sys.exit(main())

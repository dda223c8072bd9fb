"""Throughput of pdfocr against bare Tesseract on the same pages, in the same run.

    .venv/bin/python bench/throughput.py [--pages 20] [--jobs 1 2]

Builds a bundle of dense Letter-size 300-dpi pages (PNG), then for each -j value times:
  - the anchor: ``tesseract IMG -`` (text only), N pages at a time;
  - ``pdfocr BUNDLE -o OUT.pdf -j N``: the whole product, process start to PDF on disk.
Both run Tesseract with OMP_THREAD_LIMIT=1, so N at a time use N cores. Prints pages per
second and pdfocr's wall time as a ratio of the anchor's (1.00 = no cost beyond OCR).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from synthetic_pages import SERIF, draw_page, prose  # noqa: E402


def build_bundle(folder: Path, pages: int) -> list[Path]:
    paths = []
    for number in range(1, pages + 1):
        lines = prose(number, 7) * 5  # about 40 lines: a dense page
        page = draw_page(
            lines, dpi=300, size_inches=(8.5, 11), font=SERIF, points=10.5, noise=True, seed=number
        )
        path = folder / f"page{number:03d}.png"
        page.image.save(path, dpi=(300, 300))
        paths.append(path)
    return paths


def bare_tesseract(paths: list[Path], jobs: int) -> float:
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run(["tesseract", str(path), "-"], check=True, capture_output=True, env=environment)

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - started


def pdfocr_cli(folder: Path, output: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pdfocr", str(folder), "-o", str(output), "-j", str(jobs), "-q"],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdfocr-bench-") as work:
        folder = Path(work) / "bundle"
        folder.mkdir()
        paths = build_bundle(folder, args.pages)
        print(f"{args.pages} pages, 8.5x11 in at 300 dpi, {os.cpu_count()} CPUs")
        print(f"{'-j':>3} {'tesseract s':>12} {'pages/s':>8} {'pdfocr s':>9} {'pages/s':>8} {'ratio':>6}")
        for jobs in args.jobs:
            anchor = bare_tesseract(paths, jobs)
            ours = pdfocr_cli(folder, Path(work) / "out.pdf", jobs)
            print(
                f"{jobs:>3} {anchor:>12.2f} {args.pages / anchor:>8.2f} "
                f"{ours:>9.2f} {args.pages / ours:>8.2f} {ours / anchor:>6.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

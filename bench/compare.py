"""pdfocr against bare Tesseract, Tesseract's own PDF renderer and OCRmyPDF, on the same
pages with the same number of pages at once, in one run.

    bench/setup-ocrmypdf.sh            # once: OCRmyPDF in bench/.venv-ocrmypdf
    .venv/bin/python bench/compare.py [--pages 20] [--jobs 2]

For each contender: wall time, pages per second, and the peak memory (RSS) of its whole
process tree; then each wall time as a ratio of bare Tesseract's and of OCRmyPDF's.
  - bare tesseract: ``tesseract IMG - -l eng`` per page, N at a time (text only: OCR alone)
  - tesseract pdf:  ``tesseract IMG OUT -l eng pdf`` per page, N at a time, joined by qpdf
  - ocrmypdf:       ``img2pdf`` the pages, then ``ocrmypdf -j N --output-type pdf``
  - pdfocr:         ``pdfocr BUNDLE -o OUT.pdf -j N --output-type pdf``
Every Tesseract runs with OMP_THREAD_LIMIT=1 (OCRmyPDF sets it itself), so N at a time
use N cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from measure import Measured, environment, run
from throughput import build_bundle

ROOT = Path(__file__).resolve().parent.parent
OCRMYPDF = Path(__file__).resolve().parent / ".venv-ocrmypdf" / "bin"


def bare_tesseract(pages: list[Path], jobs: int, work: Path) -> Measured:
    listing = work / "pages.txt"
    listing.write_text("\n".join(map(str, pages)) + "\n")
    command = ["xargs", "-a", str(listing), "-P", str(jobs), "-I{}", "tesseract", "{}", "-", "-l", "eng"]
    return run(command, env=environment(OMP_THREAD_LIMIT="1"))


def tesseract_pdf(pages: list[Path], jobs: int, work: Path) -> Measured:
    listing = work / "pages.txt"
    listing.write_text("\n".join(map(str, pages)) + "\n")
    out = work / "tesseract-pdf"
    out.mkdir(exist_ok=True)
    script = 'tesseract "$1" "$2/$(basename "$1" .png)" -l eng pdf'
    ocr = run(
        ["xargs", "-a", str(listing), "-P", str(jobs), "-I{}", "sh", "-c", script, "_", "{}", str(out)],
        env=environment(OMP_THREAD_LIMIT="1"),
    )
    parts = sorted(str(path) for path in out.glob("*.pdf"))
    join = run(["qpdf", "--empty", "--pages", *parts, "--", str(work / "tesseract.pdf")])
    return Measured(ocr.seconds + join.seconds, max(ocr.peak_mb, join.peak_mb))


def ocrmypdf(pages: list[Path], jobs: int, work: Path) -> Measured | None:
    if not (OCRMYPDF / "ocrmypdf").exists():
        return None
    images = work / "images.pdf"
    join = run([str(OCRMYPDF / "img2pdf"), *map(str, pages), "-o", str(images)])
    options = ["-q", "-j", str(jobs), "-l", "eng", "--output-type", "pdf"]
    ocr = run([str(OCRMYPDF / "ocrmypdf"), *options, str(images), str(work / "ocrmypdf.pdf")])
    return Measured(join.seconds + ocr.seconds, max(join.peak_mb, ocr.peak_mb))


def pdfocr(folder: Path, jobs: int, work: Path) -> Measured:
    command = [
        sys.executable,
        "-m",
        "pdfocr",
        str(folder),
        "-o",
        str(work / "pdfocr.pdf"),
        "-j",
        str(jobs),
        "-q",
        "--output-type",
        "pdf",  # as OCRmyPDF is asked for; bench/archival.py weighs PDF/A
    ]
    return run(command, env=environment(PYTHONPATH=str(ROOT)))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdfocr-compare-") as scratch:
        work = Path(scratch)
        folder = work / "bundle"
        folder.mkdir()
        pages = build_bundle(folder, args.pages)
        results = {
            "bare tesseract (text)": bare_tesseract(pages, args.jobs, work),
            "tesseract pdf + qpdf": tesseract_pdf(pages, args.jobs, work),
            "ocrmypdf": ocrmypdf(pages, args.jobs, work),
            "pdfocr": pdfocr(folder, args.jobs, work),
        }
    bare = results["bare tesseract (text)"]
    reference = results["ocrmypdf"]
    print(f"{args.pages} dense Letter pages at 300 dpi, -j {args.jobs}, on {len(pages)} PNG files")
    print(f"{'':24}{'wall s':>8}{'pages/s':>9}{'peak MB':>9}{'x bare':>8}{'x ocrmypdf':>11}")
    for name, measured in results.items():
        if measured is None:
            print(f"{name:24}  (not installed: run bench/setup-ocrmypdf.sh)")
            continue
        versus = f"{measured.seconds / reference.seconds:>11.2f}" if reference else f"{'-':>11}"
        print(
            f"{name:24}{measured.seconds:>8.2f}{args.pages / measured.seconds:>9.2f}"
            f"{measured.peak_mb:>9.0f}{measured.seconds / bare.seconds:>8.2f}{versus}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

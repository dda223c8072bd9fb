"""Output size per level of ``--optimize``, beside OCRmyPDF's ``-O1`` on the same pages, in
one run (sizes are exact; times are one run's).

    bench/setup-ocrmypdf.sh                      # once: OCRmyPDF in bench/.venv-ocrmypdf
    .venv/bin/python bench/optimize.py [--jobs 2]

Kinds of page (two of each, 300 dpi unless said): bitonal office scans (1-bit PNG), gray
scans (8-bit PNG), black-and-white scans stored as gray, colour scans (a colour form, RGB
PNG), gray JPEG scans (the bundled sample, 200 dpi) and phone photos (JPEG). For each kind:
the output's size per page with pdfocr ``--optimize none``, ``lossless`` and ``lossy``, OCRmyPDF
``-O0``, ``-O1`` and ``-O3`` (its inputs made with img2pdf, ``--output-type pdf``), and what
``lossless`` adds to pdfocr's time per page. No jbig2 encoder is installed here, so
OCRmyPDF's ``-O1`` leaves bitonal images as they are.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OCRMYPDF = Path(__file__).resolve().parent / ".venv-ocrmypdf" / "bin"
sys.path[:0] = [str(ROOT / "scripts")]

from realistic_pages import realistic_cases, write_cases  # noqa: E402


def _kinds(folder: Path) -> dict[str, list[Path]]:
    page1, page3 = Image.open(ROOT / "samples" / "page1.png"), Image.open(ROOT / "samples" / "page3.png")
    kinds: dict[str, list[Path]] = {}

    def saved(kind: str, images: list[Image.Image]) -> None:
        paths = []
        for number, image in enumerate(images):
            path = folder / f"{kind}-{number}.png"
            image.save(path, dpi=(300, 300))
            paths.append(path)
        kinds[kind] = paths

    saved("bitonal", [page1.convert("1"), page3.convert("1")])
    saved("gray", [page1.convert("L"), page3.convert("L")])
    saved("bw-as-gray", [page1.convert("1").convert("L"), page3.convert("1").convert("L")])
    forms = [path for _, path in write_cases(folder, realistic_cases(["colour-form"]))]
    kinds["colour"] = [forms[0], forms[0]]
    kinds["jpeg scan"] = [ROOT / "samples" / "page2.jpg"] * 2
    photos = [path for _, path in write_cases(folder, realistic_cases(["photo-table", "photo-book"]))]
    kinds["phone photo"] = photos
    return kinds


def _pdfocr(pages: list[Path], out: Path, level: str, jobs: int) -> float:
    command = [str(ROOT / ".venv" / "bin" / "pdfocr"), *map(str, pages), "-o", str(out), "-q"]
    started = time.perf_counter()
    subprocess.run([*command, "-j", str(jobs), "--output-type", "pdf", "--optimize", level], check=True)
    return time.perf_counter() - started


def _ocrmypdf(pages: list[Path], out: Path, level: str, jobs: int, folder: Path) -> None:
    images = folder / f"{out.stem}-in.pdf"
    subprocess.run([str(OCRMYPDF / "img2pdf"), *map(str, pages), "-o", str(images)], check=True)
    command = [str(OCRMYPDF / "ocrmypdf"), "-q", "-j", str(jobs), "--output-type", "pdf", f"-O{level}"]
    subprocess.run([*command, str(images), str(out)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    have_ocrmypdf = (OCRMYPDF / "ocrmypdf").exists()
    columns = ("none KB", "lossless", "ratio", "lossy", "ocrmypdf O0", "O1", "O3", "lossless/O1", "+s/page")
    print(f"{'kind':12} " + " ".join(f"{column:>8}" for column in columns))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for kind, pages in _kinds(folder).items():
            sizes, times = {}, {}
            for level in ("none", "lossless", "lossy"):
                out = folder / f"{kind}-{level}.pdf"
                times[level] = _pdfocr(pages, out, level, args.jobs)
                sizes[level] = out.stat().st_size / len(pages) / 1024
            theirs = {}
            if have_ocrmypdf:
                for level in ("0", "1", "3"):
                    out = folder / f"{kind}-ocrmypdf-{level}.pdf".replace(" ", "-")
                    _ocrmypdf(pages, out, level, args.jobs, folder)
                    theirs[level] = out.stat().st_size / len(pages) / 1024
            o0 = f"{theirs['0']:11.1f}" if theirs else f"{'-':>11}"
            o1 = f"{theirs['1']:8.1f} {theirs['3']:8.1f}" if theirs else f"{'-':>8} {'-':>8}"
            against = f"{sizes['lossless'] / theirs['1']:11.2f}" if theirs else f"{'-':>11}"
            added = (times["lossless"] - times["none"]) / len(pages)
            ratio = sizes["lossless"] / sizes["none"]
            ours = f"{sizes['none']:8.1f} {sizes['lossless']:9.1f} {ratio:6.2f} {sizes['lossy']:8.1f}"
            print(f"{kind:12} {ours} {o0} {o1} {against} {added:8.2f}")


if __name__ == "__main__":
    main()

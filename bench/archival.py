"""What PDF/A costs: pdfocr's PDF/A-2b against its plain PDF, and OCRmyPDF's PDF/A beside
them, on bench/compare.py's bundle, in one run.

    bench/setup-ocrmypdf.sh            # once: OCRmyPDF in bench/.venv-ocrmypdf
    .venv/bin/python bench/archival.py [--pages 20] [--jobs 2] [--rounds 3]

1. ``pdfocr -o OUT --output-type pdf`` and ``pdfocr -o OUT`` (PDF/A-2b, the default),
   alternating, ``--rounds`` times each: median wall time and output size, and their
   ratios (targets: under 3% more time, under 1% more bytes).
2. The PDF/A step alone, in this process, on the plain output: writing it again as plain
   PDF and as PDF/A-2b (prepare, write, validate the bytes written), median of 5; the
   difference as a share of the conversion's wall time.
3. OCRmyPDF on the same pages (``img2pdf``, then ``ocrmypdf -j N``, whose default is PDF/A,
   and ``--output-type pdf``): time, size, whether ``pikepdf.pdfa`` passes its PDF/A, and
   how many of the input's images it kept byte for byte (pdfocr's rows too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import img2pdf
import pikepdf
from compare import OCRMYPDF
from measure import Measured, environment, run
from pikepdf import pdfa
from throughput import build_bundle

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pdfocr.archival import DocumentRequest, write_document  # noqa: E402


def pdfocr(folder: Path, output: Path, jobs: int, *options: str) -> Measured:
    command = [sys.executable, "-m", "pdfocr", str(folder), "-o", str(output), "-j", str(jobs), "-q"]
    return run([*command, *options], env=environment(PYTHONPATH=str(ROOT)))


def ocrmypdf(images: Path, output: Path, jobs: int, *options: str) -> Measured | None:
    if not (OCRMYPDF / "ocrmypdf").exists():
        return None
    command = [str(OCRMYPDF / "ocrmypdf"), "-q", "-j", str(jobs), "-l", "eng", *options]
    return run([*command, str(images), str(output)])


def step_alone(plain: Path, work: Path) -> tuple[float, float]:
    """Median seconds to write ``plain`` again as plain PDF, and as PDF/A-2b."""
    times: dict[str, list[float]] = {"pdf": [], "pdfa": []}
    for _ in range(5):
        for kind in times:
            started = time.perf_counter()
            write_document(plain, work / f"again-{kind}.pdf", DocumentRequest(kind))
            times[kind].append(time.perf_counter() - started)
    return statistics.median(times["pdf"]), statistics.median(times["pdfa"])


def image_streams(pdf: Path) -> list[bytes]:
    with pikepdf.open(pdf) as document:
        return [image.read_raw_bytes() for page in document.pages for image in page.get_images().values()]


def verdict(pdf: Path) -> str:
    with pikepdf.open(pdf) as document:
        declared = document.open_metadata().pdfa_status
    if not declared:
        return "not PDF/A"
    report = pdfa.validate_written(pdf, declared.lower())
    return f"{declared} {'valid' if report.passed else 'INVALID'}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdfocr-archival-") as scratch:
        work = Path(scratch)
        folder = work / "bundle"
        folder.mkdir()
        pages = build_bundle(folder, args.pages)
        images = work / "images.pdf"
        images.write_bytes(img2pdf.convert([str(page) for page in pages]))
        originals = image_streams(images)

        outputs = {"plain": work / "plain.pdf", "pdfa": work / "pdfa.pdf"}
        times: dict[str, list[float]] = {"plain": [], "pdfa": []}
        for _ in range(args.rounds):
            times["plain"].append(pdfocr(folder, outputs["plain"], args.jobs, "--output-type", "pdf").seconds)
            times["pdfa"].append(pdfocr(folder, outputs["pdfa"], args.jobs).seconds)
        plain_s, pdfa_s = (statistics.median(times[kind]) for kind in ("plain", "pdfa"))
        plain_b, pdfa_b = (outputs[kind].stat().st_size for kind in ("plain", "pdfa"))
        write_plain, write_pdfa = step_alone(outputs["plain"], work)

        theirs = {
            "ocrmypdf (PDF/A, default)": (work / "ocrmypdf-a.pdf", ()),
            "ocrmypdf --output-type pdf": (work / "ocrmypdf.pdf", ("--output-type", "pdf")),
        }
        rows = [
            ("pdfocr --output-type pdf", plain_s, outputs["plain"]),
            ("pdfocr (PDF/A-2b, default)", pdfa_s, outputs["pdfa"]),
        ]
        for name, (output, options) in theirs.items():
            measured = ocrmypdf(images, output, args.jobs, *options)
            if measured is not None:
                rows.append((name, measured.seconds, output))

        print(f"{args.pages} dense Letter pages at 300 dpi (PNG), -j {args.jobs}, median of {args.rounds}")
        print(f"pdfocr PDF/A-2b vs plain PDF: time x{pdfa_s / plain_s:.3f}, size x{pdfa_b / plain_b:.4f}")
        extra = write_pdfa - write_plain
        print(
            f"the PDF/A step alone: {write_pdfa:.3f} s against {write_plain:.3f} s to write plain PDF; "
            f"+{extra:.3f} s = {100 * extra / plain_s:.2f}% of the conversion"
        )
        print(f"{'':30}{'wall s':>8}{'size KB':>10}{'images kept':>13}  PDF/A")
        for name, seconds, output in rows:
            kept = sum(stream in originals for stream in image_streams(output))
            size = output.stat().st_size / 1024 if output.exists() else float("nan")
            print(f"{name:30}{seconds:>8.2f}{size:>10.0f}{kept:>7}/{len(originals):<5}  {verdict(output)}")
        if len(rows) == 2:
            print("(OCRmyPDF not installed: run bench/setup-ocrmypdf.sh)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

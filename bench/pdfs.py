"""Scanned PDFs in: pdfocr against OCRmyPDF on the same PDFs, in one run.

    bench/setup-ocrmypdf.sh            # once: OCRmyPDF in bench/.venv-ocrmypdf
    .venv/bin/python bench/pdfs.py [--pages 20] [--jobs 2] [--peers ../shared/peer-pdfs]

1. A scanned PDF of dense Letter pages at 300 dpi, Group 4 and JPEG pages alternating (as
   an office scanner writes them): wall time, peak memory of the process tree and output
   size of ``pdfocr -j N --output-type pdf`` and ``ocrmypdf -j N --skip-text --output-type pdf``, and their
   ratio. The output size is also given as the input's plus the text layer's
   (``--sidecar`` bytes are a floor for it).
2. With ``--peers``: every PDF of that folder (OCRmyPDF's own test files) through both,
   with exit status, time and the words pdftotext finds.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import img2pdf
from measure import Measured, environment, run
from PIL import Image
from throughput import build_bundle

ROOT = Path(__file__).resolve().parent.parent
OCRMYPDF = Path(__file__).resolve().parent / ".venv-ocrmypdf" / "bin"


def scanned_pdf(folder: Path, pages: int) -> Path:
    """An office scanner's PDF: odd pages 1-bit Group 4, even pages JPEG."""
    encoded = []
    for number, path in enumerate(build_bundle(folder, pages), start=1):
        image = Image.open(path)
        buffer = io.BytesIO()
        if number % 2:
            image.convert("1").save(buffer, format="TIFF", compression="group4", dpi=(300, 300))
        else:
            image.convert("L").save(buffer, format="JPEG", quality=85, dpi=(300, 300))
        encoded.append(buffer.getvalue())
    pdf = folder / "scanned.pdf"
    pdf.write_bytes(img2pdf.convert(encoded))
    return pdf


def pdfocr(source: Path, output: Path, jobs: int, language: str = "eng") -> Measured:
    command = [sys.executable, "-m", "pdfocr", str(source), "-o", str(output), "-j", str(jobs), "-q"]
    command += ["--output-type", "pdf"]  # as OCRmyPDF is asked for; bench/archival.py weighs PDF/A
    return run([*command, "-l", language], env=environment(PYTHONPATH=str(ROOT)))


def ocrmypdf(source: Path, output: Path, jobs: int, language: str = "eng") -> Measured:
    options = ["-q", "-j", str(jobs), "-l", language, "--skip-text", "--output-type", "pdf"]
    return run([str(OCRMYPDF / "ocrmypdf"), *options, str(source), str(output)])


def words(pdf: Path) -> int:
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
    return len(done.stdout.split()) if done.returncode == 0 else 0


def try_both(source: Path, work: Path, jobs: int) -> str:
    language = "fra" if "francais" in source.name else "eng"
    cells = [source.name]
    for name, tool in (("pdfocr", pdfocr), ("ocrmypdf", ocrmypdf)):
        output = work / f"{source.stem}-{name}.pdf"
        try:
            measured = tool(source, output, jobs, language)
            cells.append(f"ok {measured.seconds:5.1f} s {words(output):5d} words")
        except RuntimeError as error:  # measure.run: "COMMAND failed (N): its stderr"
            failed = str(error).split(": ", 1)
            cells.append(f"{failed[0].rsplit(' ', 2)[-1]}: {failed[-1].strip().splitlines()[-1][:90]}")
    return " | ".join(cells)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--peers", type=Path, help="a folder of PDFs to try with both")
    args = parser.parse_args()
    if not (OCRMYPDF / "ocrmypdf").exists():
        parser.error("OCRmyPDF is not installed for the benchmark: run bench/setup-ocrmypdf.sh")
    with tempfile.TemporaryDirectory(prefix="pdfocr-pdfs-") as scratch:
        work = Path(scratch)
        source = scanned_pdf(work, args.pages)
        ours = pdfocr(source, work / "pdfocr.pdf", args.jobs)
        theirs = ocrmypdf(source, work / "ocrmypdf.pdf", args.jobs)
        size_in = source.stat().st_size
        print(f"{args.pages} dense Letter pages at 300 dpi, G4 and JPEG alternating, -j {args.jobs}")
        print(f"input: {size_in:,} B")
        print(f"{'':10} {'wall s':>7} {'peak MB':>8} {'output B':>11} {'x input':>8}")
        for name, measured in (("pdfocr", ours), ("ocrmypdf", theirs)):
            size = (work / f"{name}.pdf").stat().st_size
            print(
                f"{name:10} {measured.seconds:7.2f} {measured.peak_mb:8.0f} {size:11,} {size / size_in:8.3f}"
            )
        print(f"pdfocr / ocrmypdf wall time: {ours.seconds / theirs.seconds:.2f}")
        if args.peers:
            print()
            print("file | pdfocr | ocrmypdf")
            for pdf in sorted(args.peers.glob("*.pdf")):
                print(try_both(pdf, work, args.jobs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

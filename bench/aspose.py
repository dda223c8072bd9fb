"""Time per page of the Aspose engine against Tesseract, on the same pages in the same run.

    scripts/setup-aspose.sh && .venv/bin/python bench/aspose.py [--pages 6] [--jobs 1 2]

Pages are bench/throughput.py's dense Letter pages (300 dpi). For each -j value:
  - pdfocr with Tesseract (the anchor) and pdfocr with Aspose (unlicensed, so
    --allow-evaluation: Aspose still reads the whole page, it only returns less text);
and once, one page at a time:
  - bare Tesseract (``tesseract IMG -``) and bare Aspose (one process, the engine loaded
    and warmed up once, not counted, then ``recognize`` per page): the engines' own cost,
    Aspose with ONNX Runtime on one thread as pdfocr runs it, and with its defaults.
Prints wall time, seconds per page, peak memory of the process tree, and Aspose's time as a
multiple of Tesseract's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from measure import Measured, environment, run
from throughput import bare_tesseract, build_bundle

ROOT = Path(__file__).resolve().parent.parent

BARE_ASPOSE = textwrap.dedent(
    """
    import ctypes, os, sys, tempfile, time
    from pdfocr.engines.aspose import OPENSSL_LIBRARIES, openssl_folder
    os.environ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1"
    for library in OPENSSL_LIBRARIES:
        ctypes.CDLL(str(openssl_folder() / library), mode=ctypes.RTLD_GLOBAL)
    import aspose.ocr as ocr
    threads = int(sys.argv[1])
    if threads:  # as pdfocr sets it; 0 leaves Aspose's defaults (8 ONNX threads)
        sessions = ocr.OnnxRuntimeSessionOptions
        sessions.set_intra_op_num_threads(threads)
        sessions.set_inter_op_num_threads(1)
        sessions.set_execution_mode(ocr.ExecutionModeOnnx.ORT_SEQUENTIAL)
    ocr.Logging.set_file_system(False)
    with tempfile.TemporaryDirectory() as data:
        ocr.Resources.set_local_path(data)
        api = ocr.AsposeOcr()

        def recognize(path):
            request = ocr.OcrInput(ocr.InputType.SINGLE_IMAGE)
            request.add(path)
            api.recognize(request, ocr.RecognitionSettings())

        recognize(sys.argv[2])  # the first call loads the models: not counted
        started = time.perf_counter()
        for path in sys.argv[2:]:
            recognize(path)
        print(time.perf_counter() - started)
    """
)


def pdfocr_run(folder: Path, output: Path, jobs: int, *engine: str) -> Measured:
    command = [sys.executable, "-m", "pdfocr", str(folder), "-o", str(output), "-j", str(jobs), "-q", *engine]
    return run(command, env=environment(PYTHONPATH=str(ROOT), PDFOCR_ASPOSE_LICENSE=""))


def bare_aspose(paths: list[Path], threads: int) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", BARE_ASPOSE, str(threads), *map(str, paths)],
        check=True,
        capture_output=True,
        text=True,
        env=environment(PYTHONPATH=str(ROOT)),
    )
    return float(completed.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdfocr-bench-") as work:
        folder = Path(work) / "bundle"
        folder.mkdir()
        paths = build_bundle(folder, args.pages)
        pages = len(paths)
        print(f"{pages} dense pages, 8.5x11 in at 300 dpi, {os.cpu_count()} CPUs")
        print(f"{'run':<34} {'wall s':>7} {'s/page':>7} {'peak MB':>8} {'x tesseract':>12}")
        tesseract = bare_tesseract(paths, 1)
        aspose = bare_aspose(paths, 1)
        defaults = bare_aspose(paths, 0)
        print(
            f"{'bare tesseract IMG - (-j 1)':<34} {tesseract:>7.2f} {tesseract / pages:>7.2f} "
            f"{'':>8} {1:>12.2f}"
        )
        print(
            f"{'bare Aspose recognize (-j 1)':<34} {aspose:>7.2f} {aspose / pages:>7.2f} {'':>8} "
            f"{aspose / tesseract:>12.2f}"
        )
        print(
            f"{'bare Aspose, its default threads':<34} {defaults:>7.2f} {defaults / pages:>7.2f} {'':>8} "
            f"{defaults / tesseract:>12.2f}"
        )
        for jobs in args.jobs:
            anchor = pdfocr_run(folder, Path(work) / "t.pdf", jobs)
            measured = pdfocr_run(
                folder, Path(work) / "a.pdf", jobs, "--engine", "aspose", "--allow-evaluation"
            )
            for name, result in (
                (f"pdfocr tesseract -j {jobs}", anchor),
                (f"pdfocr aspose -j {jobs}", measured),
            ):
                print(
                    f"{name:<34} {result.seconds:>7.2f} {result.seconds / pages:>7.2f} "
                    f"{result.peak_mb:>8.0f} {result.seconds / anchor.seconds:>12.2f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

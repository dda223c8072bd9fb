"""pdfocr at growing bundle sizes: time per page and peak memory of the process tree
must stay flat (issue 4: within 10 % and 1.5x of the smallest run).

    .venv/bin/python bench/scaling.py [--pages 20 100 1000] [--jobs 2]

The bundle repeats 20 distinct dense Letter 300-dpi pages (hard links), so every size
costs the same per page. Also prints the time to the first finished page, read from
``pdfocr -v``'s first progress line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from measure import tree_rss_mb
from throughput import build_bundle

ROOT = Path(__file__).resolve().parent.parent
DISTINCT = 20


def run_pdfocr(folder: Path, output: Path, jobs: int) -> tuple[float, float, float]:
    """Wall seconds, seconds to the first finished page, peak MB of the process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pdfocr", str(folder), "-o", str(output), "-j", str(jobs), "-v"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
    )
    assert process.stderr is not None
    stderr = process.stderr
    first = 0.0

    def watch() -> None:
        nonlocal first
        for line in stderr:
            if not first and line.startswith("[1/"):
                first = time.perf_counter() - started

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        time.sleep(0.05)
    watcher.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"pdfocr failed: {process.returncode}")
    return wall, first, peak


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[20, 100, 1000])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pdfocr-scaling-") as scratch:
        work = Path(scratch)
        distinct = work / "distinct"
        distinct.mkdir()
        originals = build_bundle(distinct, DISTINCT)
        print(f"-j {args.jobs}; bundles repeat {DISTINCT} distinct dense Letter pages at 300 dpi")
        columns = [("pages", 6), ("wall s", 9), ("s/page", 8), ("first s", 9), ("peak MB", 9)]
        columns += [("s/page x", 10), ("peak x", 8), ("MB out", 8)]
        print("".join(f"{name:>{width}}" for name, width in columns))
        base: tuple[float, float] | None = None
        for count in args.pages:
            folder = work / f"bundle{count}"
            folder.mkdir()
            for index in range(count):
                os.link(originals[index % DISTINCT], folder / f"page{index:05d}.png")
            output = work / f"out{count}.pdf"
            wall, first, peak = run_pdfocr(folder, output, args.jobs)
            per_page = wall / count
            base = base or (per_page, peak)
            print(
                f"{count:>6}{wall:>9.1f}{per_page:>8.3f}{first:>9.2f}{peak:>9.0f}"
                f"{per_page / base[0]:>10.2f}{peak / base[1]:>8.2f}{output.stat().st_size / 1e6:>8.1f}"
            )
            output.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())

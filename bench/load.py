"""Load on ``pdfocr serve``: many clients submitting bundles at once, on loopback only.

    .venv/bin/python bench/load.py [--clients 50] [--files-per-job 2] [--jobs 2]

Starts a real service (uvicorn, ``-j JOBS``) on 127.0.0.1 with a fresh data folder and
token, then CLIENTS asyncio clients (httpx) each submit a bundle of sample scans at the same
moment, poll their job until it ends and download the PDF. Prints the time each submission
took to be accepted (p50/p99), pages per second through the service against the ``pdfocr``
command on the same pages in one run (the anchor, measured in the same run), the service's
peak memory (the server and its worker processes, RSS summed), and whether every job
succeeded with all its pages (none lost). Bounded: at most CLIENTS jobs and a 15-minute cap.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pikepdf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from serving import Server, make_token  # noqa: E402

SAMPLES = [ROOT / "samples" / name for name in ("page1.png", "page2.jpg", "page3.png")]
CAP_SECONDS = 15 * 60


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(parent, []).append(int(entry))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
        pending += children.get(current, [])
    return total


class PeakMemory:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def one_client(client: httpx.AsyncClient, files: list[Path], start: asyncio.Event) -> dict[str, object]:
    await start.wait()
    began = time.perf_counter()
    answer = await client.post(
        "/v1/jobs",
        files=[("files", (path.name, path.read_bytes(), "application/octet-stream")) for path in files],
    )
    accepted = time.perf_counter() - began
    if answer.status_code != 202:
        return {"accepted": accepted, "state": f"refused {answer.status_code}", "pages": 0, "expected": 0}
    job = answer.json()
    while True:
        status = (await client.get(job["links"]["self"])).json()
        if status["state"] in ("succeeded", "failed", "cancelled"):
            break
        await asyncio.sleep(0.25)
    pages = 0
    if status["state"] == "succeeded":
        pdf = await client.get(status["links"]["pdf"])
        pages = len(pikepdf.open(io.BytesIO(pdf.content)).pages)
    return {
        "accepted": accepted,
        "state": status["state"],
        "pages": pages,
        "expected": job["pages"]["total"],
        "done": time.perf_counter(),
    }


async def run_clients(
    url: str, token: str, bundles: list[list[Path]]
) -> tuple[list[dict[str, object]], float]:
    start = asyncio.Event()
    limits = httpx.Limits(max_connections=len(bundles) + 5)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as client:
        tasks = [asyncio.create_task(one_client(client, files, start)) for files in bundles]
        await asyncio.sleep(0.2)
        began = time.perf_counter()
        start.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=CAP_SECONDS)
    return list(results), began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--files-per-job", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2, help="pages OCRed at once (service and CLI alike)")
    parser.add_argument(
        "--concurrent-jobs", type=int, help="the service's --concurrent-jobs (default: its own)"
    )
    args = parser.parse_args()
    bundles = [
        [SAMPLES[(client + k) % len(SAMPLES)] for k in range(args.files_per_job)]
        for client in range(args.clients)
    ]
    with tempfile.TemporaryDirectory(prefix="pdfocr-load-") as scratch:
        folder = Path(scratch)
        # The anchor: the same pages through the command, in one run.
        flat = folder / "flat"
        flat.mkdir()
        for number, path in enumerate(path for bundle in bundles for path in bundle):
            shutil.copy(path, flat / f"{number:05d}{path.suffix}")
        began = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "pdfocr"),
                str(flat),
                "-o",
                str(folder / "cli.pdf"),
                "-j",
                str(args.jobs),
                "-q",
            ],
            check=True,
        )
        cli_seconds = time.perf_counter() - began
        cli_pages = len(pikepdf.open(folder / "cli.pdf").pages)

        data = folder / "data"
        token = make_token(data)
        queue = str(max(50, args.clients + 5))
        with (
            Server(data, "-j", str(args.jobs), "--queue-size", queue) as server,
            PeakMemory(server.process.pid) as memory,
        ):
            idle = tree_rss(server.process.pid)
            results, started = asyncio.run(run_clients(server.url, token, bundles))
    accepted = [float(result["accepted"]) for result in results]  # type: ignore[arg-type]
    succeeded = [result for result in results if result["state"] == "succeeded"]
    lost = [
        result
        for result in results
        if result["state"] != "succeeded" or result["pages"] != result["expected"]
    ]
    pages = sum(int(result["pages"]) for result in succeeded)  # type: ignore[call-overload]
    service_seconds = max(float(result["done"]) for result in succeeded) - started  # type: ignore[arg-type]
    service_rate, cli_rate = pages / service_seconds, cli_pages / cli_seconds
    print(f"clients: {args.clients}, {args.files_per_job} files each, -j {args.jobs}, {os.cpu_count()} CPUs")
    print(f"pdfocr (command, one run): {cli_pages} pages in {cli_seconds:.1f} s = {cli_rate:.2f} pages/s")
    print(f"pdfocr serve:              {pages} pages in {service_seconds:.1f} s = {service_rate:.2f} pages/s")
    print(f"service / command:         {service_rate / cli_rate:.3f}")
    print(
        f"time to accept a job:      p50 {1000 * statistics.median(accepted):.0f} ms, "
        f"p99 {1000 * percentile(accepted, 0.99):.0f} ms, max {1000 * max(accepted):.0f} ms"
    )
    megabytes = f"idle {idle / 2**20:.0f} MB, peak {memory.peak / 2**20:.0f} MB"
    print(f"service memory (RSS, server + workers): {megabytes}")
    print(f"jobs: {len(results)} submitted, {len(succeeded)} succeeded, {len(lost)} lost or incomplete")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())

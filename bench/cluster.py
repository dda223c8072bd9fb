"""What running the pages on a Dask cluster costs, against this machine's own pool.

    .venv/bin/python bench/cluster.py [--rounds 3] [--pages 40]

The same bundle is converted through one warm ``pdfocr.Converter`` of each kind, the kinds
taking turns, ``--rounds`` times: the local pool (2 worker processes) and a local cluster
(a ``dask scheduler`` and 2 ``pdfocr worker`` processes of one thread each, on this
machine). Printed: pages per second of each, and their ratio (the target: at least 0.9 of
the local pool; the scheduling should vanish beside the OCR).

Everything that goes to or from the scheduler passes a counting proxy (workers and the
client are given its address), so the bench also prints the bytes that moved through
the scheduler per page, against the input's bytes per page (which go from the client
to a worker, and between workers, never through the scheduler), and what the same
connections carry while idle (heartbeats) over as long.

Two bundles: pages of prose on A4 at 300 dpi, scanned with noise (what an office scanner
gives, about a second of OCR each), and the small clean pages of ``samples/`` (the
cheapest pages to OCR: the hardest case for any overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from serving import free_port  # noqa: E402

from pdfocr import Converter  # noqa: E402

BIN = Path(sys.executable).parent


@dataclass
class Counter:
    """Bytes through the proxy, both ways."""

    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, count: int) -> None:
        with self.lock:
            self.bytes += count


@contextlib.contextmanager
def counting_proxy(target_port: int, counter: Counter) -> Iterator[int]:
    """A TCP proxy on a free loopback port to ``target_port``, counting what it carries."""
    port = free_port()
    loop = asyncio.new_event_loop()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                counter.add(len(data))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = loop.run_until_complete(asyncio.start_server(connected, "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:

        async def shut() -> None:
            server.close()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shut(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


@contextlib.contextmanager
def local_cluster(work: Path, counter: Counter) -> Iterator[str]:
    """A scheduler and 2 one-thread workers on this machine, reached through the proxy."""
    scheduler_port = free_port()
    log = (work / "cluster.log").open("ab")
    processes = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(scheduler_port),
                "--no-dashboard",
            ],
            stdout=log,
            stderr=log,
        )
    ]
    try:
        wait_for_port(scheduler_port)
        with counting_proxy(scheduler_port, counter) as port:
            address = f"tcp://127.0.0.1:{port}"
            for number in range(2):
                worker = [sys.executable, "-m", "pdfocr", "worker", address, "--nworkers", "1"]
                worker += ["--host", "127.0.0.1", "--no-dashboard", "--name", f"bench-{number}"]
                processes.append(subprocess.Popen(worker, stdout=log, stderr=log))
            from distributed import Client

            with Client(address, timeout=30, set_as_default=False) as client:
                client.wait_for_workers(2, timeout=120)
            yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def a4_scans(folder: Path, count: int) -> list[Path]:
    from synthetic_pages import office_scans

    return office_scans(folder, count)


def small_pages(count: int) -> list[Path]:
    samples = sorted(path for path in (ROOT / "samples").iterdir() if path.suffix in (".png", ".jpg"))
    return [samples[index % len(samples)] for index in range(count)]


def timed(converter: Converter, bundle: list[Path], output: Path) -> float:
    began = time.perf_counter()
    result = converter.convert(bundle, output)
    assert result.page_count == len(bundle)
    return time.perf_counter() - began


def measure(name: str, bundle: list[Path], work: Path, rounds: int) -> None:
    counter = Counter()
    pages = len(bundle)
    with (
        local_cluster(work, counter) as address,
        Converter(jobs=2) as local,
        Converter(cluster=address) as remote,
    ):
        # Warm: workers started, Tesseract loaded on each.
        timed(local, bundle[:2], work / "warm-local.pdf")
        timed(remote, bundle[:2], work / "warm-cluster.pdf")
        times: dict[str, list[float]] = {"local pool": [], "cluster": []}
        moved: list[int] = []
        client_cpu: list[float] = []
        for turn in range(rounds):
            for kind in ["local pool", "cluster"] if turn % 2 == 0 else ["cluster", "local pool"]:
                if kind == "local pool":
                    times[kind].append(timed(local, bundle, work / "local.pdf"))
                    continue
                before, cpu = counter.bytes, time.process_time()
                times[kind].append(timed(remote, bundle, work / "cluster.pdf"))
                moved.append(counter.bytes - before)
                # This process's CPU (the proxy's thread aside, which is small): what the
                # machine running the command spends per page: handing over, assembling.
                client_cpu.append(time.process_time() - cpu)
        # What the same connections carry with nothing to do, over as long as a run.
        idle_seconds = statistics.median(times["cluster"])
        before = counter.bytes
        time.sleep(idle_seconds)
        idle = counter.bytes - before
    input_bytes = sum(path.stat().st_size for path in bundle) / pages
    local_seconds, cluster_seconds = (statistics.median(times[kind]) for kind in ("local pool", "cluster"))
    print(f"\n{name}: {pages} pages, {rounds} rounds each, medians")
    print(f"{'':14}{'seconds':>9}{'pages/s':>9}")
    for kind, seconds in (("local pool", local_seconds), ("cluster", cluster_seconds)):
        print(f"{kind:14}{seconds:>9.2f}{pages / seconds:>9.2f}")
    print(f"throughput, cluster / local pool: {local_seconds / cluster_seconds:.3f} (target >= 0.9)")
    per_page = statistics.median(moved) / pages
    result_bytes = (work / "cluster.pdf").stat().st_size / pages
    print(
        f"through the scheduler: {per_page / 1024:.1f} KB per page (idle over as long: "
        f"{idle / pages / 1024:.1f} KB per page's worth); the input: {input_bytes / 1024:.0f} KB per page, "
        f"the output: {result_bytes / 1024:.0f} KB per page"
    )
    client_ms = 1000 * statistics.median(client_cpu) / pages
    print(
        f"the machine running the command: {client_ms:.0f} ms of CPU per page "
        f"(handing pages over, assembling the PDF), OCR on the workers: "
        f"{1000 * 2 * cluster_seconds / pages:.0f} ms per page per worker thread"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pdfocr-bench-") as scratch:
        work = Path(scratch)
        measure("A4 scans at 300 dpi", a4_scans(work, args.pages), work, args.rounds)
        measure("small clean pages (samples/)", small_pages(args.pages), work, args.rounds)
    print(f"\n{time.perf_counter() - began:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())

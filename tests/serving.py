"""A real ``pdfocr serve`` (uvicorn) on 127.0.0.1 for the tests: started as a user would,
stopped with SIGTERM (or killed, to test what a restart finds)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _with_auto_engine(site: Path, factory: str) -> str:
    """The program (for ``python -c``) that runs ``pdfocr`` with ``factory`` registered as
    the ``auto`` engine. It is registered the way a package registers an engine (an entry
    point), in ``site``, which goes at the end of the import path: pdfocr keeps the last
    engine of a name it finds, so this one, found after pdfocr's own, is the one used. The
    engine object goes to the workers pickled, so they only need tests/ on their path."""
    info = site / "pdfocr_test_engines-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pdfocr-test-engines\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pdfocr.engines]\nauto = {factory}\n")
    return f"import sys; sys.path.append({str(site)!r}); from pdfocr.cli import run; run()"


def make_token(data: Path, name: str = "default") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pdfocr", "token", "--data", str(data), "create", "--name", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class Server:
    """``pdfocr serve --data DATA ARGS`` on a free loopback port.

    ``auto``: a factory of tests/fakes.py (``fakes:gated_engine``) that the service takes
    for its ``auto`` engine, the one it converts every job with (it has no engine option),
    so that a test controls how long a job's pages take; ``env`` adds to its environment."""

    def __init__(
        self,
        data: Path,
        *args: str,
        port: int | None = None,
        auto: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data = data
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"{data.name}-server-{self.port}.log"
        start = ["-m", "pdfocr"]
        environment = {**os.environ, **(env or {})}
        if auto is not None:
            start = ["-c", _with_auto_engine(data.parent / f"{data.name}-engines", auto)]
            environment["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(TESTS), environment.get("PYTHONPATH")])
            )
        command = [sys.executable, *start, "serve", "--port", str(self.port), "--data", str(data), *args]
        self._log_file = open(self.log, "ab")  # noqa: SIM115 - open as long as the server runs
        self.process = subprocess.Popen(
            command, stdout=self._log_file, stderr=subprocess.STDOUT, cwd=ROOT, env=environment
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not get ready:\n{self.log.read_text()}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self, how: signal.Signals = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Stop the server (SIGTERM drains; SIGKILL is a crash); returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(client: httpx.Client, job: str, states: set[str], timeout: float = 120.0) -> dict:
    """Poll a job until it is in one of ``states``; its status."""
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/v1/jobs/{job}").json()
        if found.get("state") in states:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job} still {found.get('state')} after {timeout} s: {found}")
        time.sleep(0.1)

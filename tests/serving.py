"""A real ``pdfocr serve`` (uvicorn) on 127.0.0.1 for the tests: started as a user would,
stopped with SIGTERM (or killed, to test what a restart finds)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_token(data: Path, name: str = "default") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pdfocr", "token", "--data", str(data), "create", "--name", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class Server:
    """``pdfocr serve --data DATA ARGS`` on a free loopback port."""

    def __init__(self, data: Path, *args: str, port: int | None = None) -> None:
        self.data = data
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"{data.name}-server-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "pdfocr",
            "serve",
            "--port",
            str(self.port),
            "--data",
            str(data),
            *args,
        ]
        self._log_file = open(self.log, "ab")  # noqa: SIM115 - open as long as the server runs
        self.process = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT, cwd=ROOT)
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

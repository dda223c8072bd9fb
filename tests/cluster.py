"""A real Dask cluster on 127.0.0.1 for the tests: ``dask scheduler`` and workers started
the way the README says (``pdfocr worker``), as processes of their own, stopped when the
tests end. The workers find the tests' fake engines (``tests`` is on their path). With
``tls``, everyone (scheduler, workers, clients) speaks TLS with one self-signed
certificate, set the way Dask's documentation says: command-line options for the
scheduler and workers, Dask's configuration for clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import until
from serving import free_port

TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

TLS_SETTINGS = {  # Dask's configuration key: its environment variable
    "distributed.comm.tls.ca-file": "DASK_DISTRIBUTED__COMM__TLS__CA_FILE",
    "distributed.comm.tls.client.cert": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT",
    "distributed.comm.tls.client.key": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY",
}


class DaskCluster:
    def __init__(
        self, workers: int = 2, *, allowed_failures: int | None = None, log_folder: Path, tls: bool = False
    ) -> None:
        self.port = free_port()
        self.address = f"{'tls' if tls else 'tcp'}://127.0.0.1:{self.port}"
        self.log_folder = log_folder
        self.environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        }
        if allowed_failures is not None:
            self.environment["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
        self.tls_options: list[str] = []
        self.tls_environment: dict[str, str] = {}
        if tls:
            certificate, key = log_folder / "cert.pem", log_folder / "key.pem"
            request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
            request += ["-keyout", str(key), "-out", str(certificate), "-subj", "/CN=pdfocr-test"]
            request += ["-addext", "subjectAltName=IP:127.0.0.1"]
            subprocess.run(request, check=True, capture_output=True)
            self.tls_options = ["--tls-ca-file", str(certificate), "--tls-cert", str(certificate)]
            self.tls_options += ["--tls-key", str(key)]
            values = [str(certificate), str(certificate), str(key)]
            self.tls_environment = dict(zip(TLS_SETTINGS.values(), values, strict=True))
        scheduler = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(self.port)]
        scheduler += ["--no-dashboard", *(["--protocol", "tls"] if tls else []), *self.tls_options]
        self._scheduler_command = scheduler
        self.scheduler = self._start("scheduler", scheduler)
        self.workers = [self.start_worker(number) for number in range(workers)]
        self.wait_for_workers(workers)

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.log_folder / f"{name}.log").open("ab")
        # A session of its own: stopping it takes its worker processes (under the nanny) along.
        return subprocess.Popen(command, stdout=log, stderr=log, env=self.environment, start_new_session=True)

    def start_worker(self, number: int) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "pdfocr", "worker", self.address, "--nworkers", "1"]
        command += ["--host", "127.0.0.1", "--no-dashboard", "--name", f"worker-{number}", *self.tls_options]
        return self._start(f"worker-{number}", command)

    def client(self) -> Any:
        import dask.config
        from distributed import Client

        settings = {key: self.tls_environment.get(variable) for key, variable in TLS_SETTINGS.items()}
        with dask.config.set(settings if self.tls_environment else {}):
            return Client(self.address, timeout=30, set_as_default=False)

    def wait_for_workers(self, count: int) -> None:
        """Until ``count`` workers are there and each answers: a worker being restarted
        (after a test's page was stopped) is still counted while it goes away, and a check
        run on every worker then gets a broken connection for its answer."""
        with self.client() as client:
            client.wait_for_workers(count, timeout=120)
            until(lambda: len(client.run(os.getpid, on_error="ignore")) >= count, 120)

    def worker_pids(self) -> dict[str, int]:
        """Each worker's process (under its nanny), by its address."""
        with self.client() as client:
            return dict(client.run(os.getpid))

    def stop_scheduler(self) -> None:
        _stop(self.scheduler)

    def start_again(self) -> None:
        """After :meth:`stop`: everything started again at the same address."""
        self.scheduler = self._start("scheduler", self._scheduler_command)
        self.workers = [self.start_worker(number) for number in range(len(self.workers))]
        self.wait_for_workers(len(self.workers))

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

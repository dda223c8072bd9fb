"""Schemathesis against the service's own OpenAPI schema, on a real ``pdfocr serve``:
every operation, requests made from the schema (valid and not), stateful sequences that
follow the schema's links from a submitted job to its status, results and deletion. No
answer may be a server error (5xx)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from serving import Server, make_token

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"


def test_no_request_from_the_schema_gets_a_server_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    with Server(data, "-j", "2", "--max-pages", "20") as server:
        done = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "30",
                "--generation-deterministic",
                "--request-timeout",
                "60",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
        log = server.log.read_text()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout[done.stdout.rfind("Test cases:") :]
    generated = int(summary.split()[2])
    assert generated > 100 and "passed" in summary and "failed" not in summary, summary
    (selected, total) = re.search(r"Selected: (\d+)/(\d+)", done.stdout).groups()  # type: ignore[union-attr]
    tested = re.search(r"Tested: (\d+)", done.stdout).group(1)  # type: ignore[union-attr]
    assert selected == total == tested and int(total) >= 10  # every operation in the schema
    assert '"level": "error"' not in log  # and nothing the service logged as its own error

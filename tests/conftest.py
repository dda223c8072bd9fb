"""Shared fixtures: synthetic pages, the samples bundle, and helpers that read PDFs back
the way users do (pdftotext, pypdf) and run the CLI as a separate process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from postgres import PostgresServer  # noqa: E402
from synthetic_pages import DrawnPage, draw_page, prose  # noqa: E402

SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def expected_sample_pages() -> list[str]:
    """The text of each page of samples/, in bundle order."""
    return (SAMPLES / "expected.txt").read_text(encoding="utf-8").split("\f")


def until(condition: Callable[[], object], seconds: float = 10) -> None:
    """Wait until ``condition()`` is true (polling), failing the test after ``seconds``:
    for tests that must wait for a state, never for a guessed length of time."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the awaited condition never came true"
        time.sleep(0.005)


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def pdftotext(pdf: Path, *args: str) -> str:
    """pdftotext's text for ``pdf`` (default mode: reading order)."""
    return subprocess.run(
        ["pdftotext", *args, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


@dataclass(frozen=True)
class BoxedWord:
    text: str
    left: float
    top: float
    right: float
    bottom: float


def pdftotext_words(pdf: Path) -> list[list[BoxedWord]]:
    """Every page's words with their boxes in points (top-left origin), per pdftotext -bbox."""
    xhtml = pdftotext(pdf, "-bbox")
    pages = []
    for page in re.findall(r"<page .*?</page>", xhtml, flags=re.S):
        pages.append(
            [
                BoxedWord(text, float(x0), float(y0), float(x1), float(y1))
                for x0, y0, x1, y1, text in re.findall(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                    page,
                )
            ]
        )
    return pages


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: bytes
    stderr: str


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> CliRun:
    """Run ``python -m pdfocr ARGS`` as a user would, stderr not a terminal; ``env`` adds
    to (or, with empty values, removes from) the environment."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "pdfocr", *args],
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        env={name: value for name, value in environment.items() if value},
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr.decode("utf-8", "replace"))


@pytest.fixture
def cli() -> Callable[..., CliRun]:
    return run_cli


def installed_engine(tmp_path: Path, name: str, factory: str) -> dict[str, str]:
    """Register ``factory`` (``module:Class`` of tests/fakes.py) as the engine ``name``
    the way a package does, by an entry point; the environment that makes the CLI see it."""
    site = tmp_path / "site"
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pdfocr.engines]\n{name} = {factory}\n")
    return {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(site)])}


@pytest.fixture(scope="session")
def page_factory() -> Callable[..., DrawnPage]:
    return draw_page


@pytest.fixture(scope="session")
def prose_lines() -> Callable[..., list[str]]:
    return prose


def save_page(page: DrawnPage, path: Path, **save_options: object) -> Path:
    page.image.save(path, dpi=(page.dpi, page.dpi), **save_options)
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on loopback for the session (started on first use)."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()

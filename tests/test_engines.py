"""Engines as plugins: built-in and third-party engines register through entry points."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, pdftotext
from fakes import png_pages

import pdfocr
from pdfocr.engines import engine_statuses, resolve_engine
from pdfocr.engines.tesseract import TesseractEngine


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A folder holding an installed (dist-info only) third-party package that registers
    two engines from tests/fakes.py: one that works and one whose module is missing."""
    info = tmp_path / "site" / "pdfocr_fake_engines-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pdfocr-fake-engines\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[pdfocr.engines]\nlabel = fakes:LabelEngine\nmissing = no_such_module:Engine\n"
    )
    return tmp_path / "site"


def _cli(plugin_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(plugin_path)])
    return subprocess.run(
        [sys.executable, "-m", "pdfocr", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )


def test_the_builtin_engine_is_registered_like_any_other() -> None:
    assert isinstance(resolve_engine("tesseract"), TesseractEngine)
    (tesseract,) = [status for status in engine_statuses() if status.name == "tesseract"]
    assert tesseract.ready
    assert "eng" in tesseract.detail


def test_list_engines_says_which_can_run_and_why_not(plugin_path: Path) -> None:
    listed = _cli(plugin_path, "--list-engines")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "ready" in lines["tesseract"] and "not ready" not in lines["tesseract"]
    assert "ready" in lines["label"] and "not ready" not in lines["label"]
    assert "not ready" in lines["missing"]
    assert "no_such_module" in lines["missing"]


def test_a_third_party_engine_converts_through_the_cli(plugin_path: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for index, data in enumerate(png_pages(3)):
        (pages / f"p{index}.png").write_bytes(data)
    output = tmp_path / "out.pdf"
    run = _cli(plugin_path, str(pages), "--engine", "label", "-o", str(output), "-q")
    assert run.returncode == 0, run.stderr
    assert [page.strip() for page in pdftotext(output).split("\f") if page.strip()] == [
        "page0",
        "page1",
        "page2",
    ]
    missing = _cli(plugin_path, str(pages), "--engine", "missing", "-o", str(output))
    assert missing.returncode == 4
    assert "the missing engine cannot be loaded" in missing.stderr


def test_unknown_engines_are_named() -> None:
    with pytest.raises(pdfocr.UsageError, match=r"unknown engine 'nope' \(available: .*tesseract"):
        resolve_engine("nope")

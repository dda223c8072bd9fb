"""Runs that read less or write less than a whole conversion: standard input as an input,
``--output-type none`` (text and words, no PDF), page ranges (``--pages``), and
``--strip-ocr`` (an earlier OCR's text taken off, nothing read)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from conftest import ROOT, pdftotext, words_of

import pdfocr

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _pdfocr(*args: str, stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
    with open(stdin or "/dev/null", "rb") as given:
        return subprocess.run(
            [sys.executable, "-m", "pdfocr", *args],
            stdin=given,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )


def _one_error(run: subprocess.CompletedProcess[str]) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    return lines[0]


def test_standard_input_is_an_input(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    run = _pdfocr("-", "-o", str(output), stdin=SAMPLES / "page1.png")
    assert run.returncode == 0, run.stderr
    assert words_of(pdftotext(output))[:4] == ["Page", "1", "memo", "number"]
    empty = _pdfocr("-", "-o", str(tmp_path / "empty.pdf"))
    assert empty.returncode == 3
    assert _one_error(empty) == "pdfocr: error: <stdin>: empty file (0 bytes)"


def test_output_type_none_writes_the_text_and_no_pdf(tmp_path: Path) -> None:
    sidecar, words = tmp_path / "out.txt", tmp_path / "out.jsonl"
    run = _pdfocr(
        str(SAMPLES / "page1.png"), "--output-type", "none", "--sidecar", str(sidecar), "--words", str(words)
    )
    assert run.returncode == 0, run.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.jsonl", "out.txt"]
    assert words_of(sidecar.read_text())[:4] == ["Page", "1", "memo", "number"]
    assert words.read_text().count('"type":"word"') == len(words_of(sidecar.read_text()))
    with_pdf = _pdfocr(str(SAMPLES / "page1.png"), "--output-type", "none", "-o", str(tmp_path / "x.pdf"))
    assert with_pdf.returncode == 2 and "leave out -o" in with_pdf.stderr
    nothing = _pdfocr(str(SAMPLES / "page1.png"), "--output-type", "none")
    assert nothing.returncode == 2 and "needs --sidecar" in nothing.stderr
    result = pdfocr.convert(SAMPLES / "page1.png", None, output_type="none")
    assert result.output_type == "none"
    assert words_of(result.text) == words_of(sidecar.read_text())


def test_only_the_pages_in_range_are_read(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    run = _pdfocr(str(SAMPLES), "-o", str(output), "--pages", "2-3,end")
    assert run.returncode == 0, run.stderr
    assert "2 pages not read (--pages)" in run.stderr
    pages = pdftotext(output).split("\f")[:5]
    assert [bool(words_of(page)) for page in pages] == [False, True, True, False, True]
    assert words_of(pages[1])[:2] == ["Page", "2"]
    # The pages not read still show their images, whole.
    listing = subprocess.run(["pdfimages", "-list", str(output)], capture_output=True, text=True).stdout
    assert len(listing.strip().splitlines()[2:]) == 5


def test_pdf_pages_out_of_range_stay_as_they_were(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert([SAMPLES / "page1.png", SAMPLES / "page2.jpg", SAMPLES / "page3.png"]))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(scan, output, pages="2")
    assert [page.read for page in result.pages] == [False, True, False]
    assert [bool(words_of(page)) for page in pdftotext(output).split("\f")[:3]] == [False, True, False]
    with pikepdf.open(scan) as before, pikepdf.open(output) as after:
        for number in (0, 2):
            assert (
                after.pages[number].Contents.read_raw_bytes()
                == before.pages[number].Contents.read_raw_bytes()
            )
            assert len(after.pages[number].Resources.get("/Font", {})) == 0


@pytest.mark.parametrize(
    ("ranges", "says"),
    [
        ("0", "bad page range '0' in '0': pages count from 1"),
        ("3-1", "bad page range '3-1' in '3-1': 1 comes before 3"),
        ("two", "bad page range 'two' in 'two' (say e.g. 1-3,7,10-end)"),
        ("9", "page range '9': page 9 is past the bundle's last page (5)"),
    ],
)
def test_bad_ranges_are_one_line_errors(tmp_path: Path, ranges: str, says: str) -> None:
    output = tmp_path / "out.pdf"
    run = _pdfocr(str(SAMPLES), "-o", str(output), "--pages", ranges)
    assert run.returncode == 2
    assert _one_error(run) == f"pdfocr: error: {says}"
    assert not output.exists()


def test_strip_ocr_takes_an_earlier_ocr_off_and_keeps_the_rest(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert([SAMPLES / "page1.png"]))
    ocred, stripped = tmp_path / "ocred.pdf", tmp_path / "stripped.pdf"
    pdfocr.convert(scan, ocred, output_type="pdf")
    assert words_of(pdftotext(ocred))
    result = pdfocr.convert(ocred, stripped, strip_ocr=True, output_type="pdf")
    assert words_of(pdftotext(stripped)) == []
    assert [page.read for page in result.pages] == [False]
    with pikepdf.open(scan) as original, pikepdf.open(stripped) as after:
        (image,) = original.pages[0].images.values()
        (kept,) = after.pages[0].images.values()
        assert kept.read_raw_bytes() == image.read_raw_bytes()
        assert after.pages[0].mediabox == original.pages[0].mediabox
    with pytest.raises(pdfocr.UsageError, match="strip_ocr reads no page"):
        pdfocr.convert(ocred, tmp_path / "x.pdf", strip_ocr=True, redo_ocr=True)

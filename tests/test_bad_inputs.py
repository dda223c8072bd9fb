"""The bad-input corpus: each input is generated here, run through the CLI as a user would,
and must give one line naming the file (and page), its documented exit code, no traceback,
no output, and an existing output left byte for byte as it was.

``python tests/test_bad_inputs.py`` prints the table of cases with what each gets.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SAMPLE = ROOT / "samples" / "page1.png"
PREVIOUS = b"%PDF-1.4 the previous output, which must survive"
NOT_AN_IMAGE = "not a PDF or a recognised image (supported: PDF, PNG, JPEG, TIFF, BMP, GIF, WebP, HEIC/HEIF)"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _encoded(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A few bytes of PNG whose header claims a huge image: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _two_page_tiff_cut_in_page_2() -> bytes:
    frames = [Image.new("L", (400, 300), 255), Image.new("L", (400, 300), 0)]
    data = _encoded(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    return data[:-5000]


def _symlink_loop(folder: Path) -> Path:
    _write(folder / "a.png", SAMPLE.read_bytes())
    os.symlink("loop2.png", folder / "loop1.png")
    os.symlink("loop1.png", folder / "loop2.png")
    return folder


def _folder_link_loop(folder: Path) -> Path:
    _write(folder / "a.png", SAMPLE.read_bytes())
    os.symlink("..", folder / "sub")  # scans/sub -> scans: a walk that followed it would never end
    return folder


def _bad_in_the_middle(folder: Path) -> Path:
    _write(folder / "p1.png", SAMPLE.read_bytes())
    _write(folder / "p2.png", b"GIF89a but not really")
    _write(folder / "p3.png", SAMPLE.read_bytes())
    return folder


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Path]
    """Creates the input under the given folder and returns its path."""
    code: int
    message: str
    """The error line after ``pdfocr: error: ``, or its start when it ends with "(";
    ``{input}`` and ``{dir}`` are filled in. For a success (code 0), the start of the
    page's text (empty: a page with no text)."""
    output: str = "out.pdf"
    """The output, relative to the folder; ``{input}`` means the input itself."""


CASES = [
    Case("zero-byte file", lambda d: _write(d / "empty.png", b""), 3, "{input}: empty file (0 bytes)"),
    Case(
        "truncated PNG",
        lambda d: _write(d / "cut.png", SAMPLE.read_bytes()[:20_000]),
        3,
        "{input}: corrupt or truncated image (image file is truncated)",
    ),
    Case(
        "truncated JPEG",
        lambda d: _write(d / "cut.jpg", (ROOT / "samples" / "page2.jpg").read_bytes()[:30_000]),
        3,
        "{input}: corrupt or truncated image (image file is truncated (",
    ),
    Case(
        "2-page TIFF cut in page 2",
        lambda d: _write(d / "cut.tif", _two_page_tiff_cut_in_page_2()),
        3,
        "{input} (page 2): corrupt or truncated image (image file is truncated (",
    ),
    Case(
        "text under .png",
        lambda d: _write(d / "notes.png", b"meeting notes\n" * 50),
        3,
        f"{{input}}: {NOT_AN_IMAGE}",
    ),
    Case(
        "random bytes under .jpg",
        lambda d: _write(d / "noise.jpg", random.Random(1).randbytes(5000)),
        3,
        f"{{input}}: {NOT_AN_IMAGE}",
    ),
    Case(
        "a PDF cut after its header",
        lambda d: _write(d / "doc.pdf", b"%PDF-1.4\n%%EOF\n"),
        3,
        "{input}: corrupt PDF that cannot be repaired (unable to find trailer dictionary while recovering"
        " damaged file)",
    ),
    Case(
        "decompression bomb (100000x100000 header)",
        lambda d: _write(d / "bomb.png", _png_claiming(100_000, 100_000)),
        3,
        "{input}: refused: 100000x100000 pixels (10,000 megapixels) is over the limit of 1,000 megapixels"
        " (a decompression bomb?)",
    ),
    Case("1x1 image", lambda d: _write(d / "dot.png", _encoded(Image.new("L", (1, 1), 0), "PNG")), 0, ""),
    Case(
        "blank page",
        lambda d: _write(d / "blank.png", _encoded(Image.new("L", (1700, 2200), 255), "PNG", dpi=(200, 200))),
        0,
        "",
    ),
    Case(
        "very tall page (1000x40000: past Tesseract's 32767-pixel side)",
        lambda d: _write(d / "tall.png", _encoded(Image.new("L", (1000, 40_000), 255), "PNG")),
        0,
        "",
    ),
    Case(
        "junk with a newline in its name",
        lambda d: _write(d / "scan\nnotes.png", b"meeting notes\n"),
        3,
        f"{{input}}: {NOT_AN_IMAGE}",
    ),
    Case(
        "a device (/dev/zero)",
        lambda d: Path("/dev/zero"),
        3,
        "{input}: not a regular file (a device or a pipe?)",
    ),
    Case(
        "folder with no images",
        lambda d: _write(d / "scans" / "notes.txt", b"x").parent,
        3,
        "{input}: folder contains no images",
    ),
    Case("missing path", lambda d: d / "missing.png", 3, "{input}: no such file or folder"),
    Case(
        "unreadable file",
        lambda d: _write(d / "locked.png", SAMPLE.read_bytes()),
        3,
        "{input}: permission denied",
    ),
    Case(
        "symlink loop inside an input folder",
        lambda d: _symlink_loop(d / "scans"),
        3,
        "{input}/loop1.png: too many levels of symbolic links",
    ),
    Case(
        "folder link looping back to its parent", lambda d: _folder_link_loop(d / "scans"), 0, "Page 1: memo"
    ),
    Case(
        "bad file in the middle of a bundle",
        lambda d: _bad_in_the_middle(d / "scans"),
        3,
        f"{{input}}/p2.png: {NOT_AN_IMAGE}",
    ),
    Case(
        "output in a folder that does not exist",
        lambda d: _write(d / "page.png", SAMPLE.read_bytes()),
        5,
        "{dir}/nowhere/out.pdf: folder '{dir}/nowhere' does not exist",
        output="nowhere/out.pdf",
    ),
    Case(
        "output path equal to an input",
        lambda d: _write(d / "page.png", SAMPLE.read_bytes()),
        2,
        "{input}: the output would overwrite an input",
        output="{input}",
    ),
]


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    output: Path
    input: Path
    before: set[Path]
    """Every path in the folder just before the run."""


def run_case(case: Case, folder: Path) -> Outcome:
    """Make the case's input in ``folder``, put a previous output in place, run the CLI."""
    bad = case.make(folder)
    output = bad if case.output == "{input}" else folder / case.output
    if output.parent.exists() and output != bad:
        output.write_bytes(PREVIOUS)
    command = [sys.executable, "-m", "pdfocr", str(bad), "-o", str(output), "-j", "2"]
    if case.name == "unreadable file":
        bad.chmod(0)
        if os.geteuid() == 0:
            # Root reads anything; without these capabilities, permission bits apply to root too.
            command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    before = set(folder.rglob("*"))
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    return Outcome(completed.returncode, completed.stderr, output, bad, before)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    if case.name == "unreadable file" and os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): permission bits do not apply")
    outcome = run_case(case, tmp_path)
    # Nothing else is written: no temporary file, no partial output.
    assert set(tmp_path.rglob("*")) == outcome.before | ({outcome.output} if case.code == 0 else set())
    assert outcome.code == case.code, outcome.stderr
    assert "Traceback" not in outcome.stderr
    if case.code == 0:
        pages = PdfReader(outcome.output).pages
        assert len(pages) == 1
        assert pages[0].extract_text().strip().startswith(case.message)
        if not case.message:
            assert pages[0].extract_text().strip() == ""
        return
    # Control characters in a name are escaped, so that one error stays one line.
    expected = case.message.format(input=str(outcome.input).replace("\n", "\\x0a"), dir=tmp_path)
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    if expected.endswith("("):
        assert lines[0].startswith(f"pdfocr: error: {expected}")
    else:
        assert lines[0] == f"pdfocr: error: {expected}"
    if outcome.output == outcome.input:
        assert outcome.input.read_bytes() == SAMPLE.read_bytes()
    elif outcome.output.parent.exists():
        assert outcome.output.read_bytes() == PREVIOUS


def main() -> None:
    """Print the table of cases for the README or an issue note."""
    import tempfile

    print("| input | exit | message |\n| --- | --- | --- |")
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            outcome = run_case(case, Path(folder))
            line = outcome.stderr.strip().splitlines()[-1] if outcome.stderr.strip() else ""
            line = line.replace(folder, "DIR")
            print(f"| {case.name} | {outcome.code} | `{line}` |")


if __name__ == "__main__":
    main()

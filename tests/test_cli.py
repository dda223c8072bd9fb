"""The pdfocr command, run as a separate process the way users run it."""

from __future__ import annotations

import os
import pty
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import img2pdf
import pytest
from conftest import ROOT, installed_engine, pdftotext, words_of
from PIL import Image
from pypdf import PdfReader

import pdfocr
from pdfocr.options import usable_cpus


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("pdfocr: error: ")
    return lines[0]


def test_converts_a_folder(cli, tmp_path: Path, samples: Path, expected_sample_pages) -> None:
    output = tmp_path / "out.pdf"
    run = cli(str(samples), "-o", str(output), "-j", "2", "--sidecar", str(tmp_path / "out.txt"))
    assert run.returncode == 0, run.stderr
    # Not a terminal: no progress bar, just the summary line.
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert "5 pages" in run.stderr
    pages = pdftotext(output).split("\f")
    assert words_of(pages[3])[:3] == words_of(expected_sample_pages[3])[:3]
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").count("\f") == 4


def test_writes_to_stdout_and_stays_quiet(cli, samples: Path) -> None:
    run = cli(str(samples / "page1.png"), "-o", "-", "-q")
    assert run.returncode == 0
    assert run.stdout.startswith(b"%PDF-")
    assert run.stderr == ""


def test_version_and_help(cli) -> None:
    assert cli("--version").stdout.decode().strip() == f"pdfocr {pdfocr.__version__}"
    help_text = cli("--help").stdout.decode()
    for option in (
        "--language",
        "--jobs",
        "--dpi",
        "--sidecar",
        "--engine",
        "--quiet",
        "--verbose",
        "examples:",
    ):
        assert option in help_text


def test_dpi_fallback_sets_the_page_size(cli, tmp_path: Path) -> None:
    Image.new("L", (1200, 600), 255).save(tmp_path / "nodpi.png")
    Image.new("L", (1200, 600), 255).save(tmp_path / "dpi.png", dpi=(300, 300))
    output = tmp_path / "out.pdf"
    assert (
        cli(
            str(tmp_path / "nodpi.png"), str(tmp_path / "dpi.png"), "--dpi", "150", "-o", str(output)
        ).returncode
        == 0
    )
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(output).pages]
    # 1200 px at the 150 dpi fallback, then at the image's own 300 dpi (PNG says 299.9994).
    assert sizes == [(576, 288), (288, 144)]


def test_an_existing_output_survives_a_failed_run(cli, tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"%PDF- precious")
    run = cli(str(_truncated(tmp_path / "cut.png")), "-o", str(output))
    assert run.returncode == 3
    assert output.read_bytes() == b"%PDF- precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.png", "out.pdf"]


def test_language_output_and_usage_errors(cli, tmp_path: Path, samples: Path) -> None:
    page = str(samples / "page1.png")
    run = cli(page, "-l", "eng+nosuch", "-o", str(tmp_path / "a.pdf"))
    assert run.returncode == 4
    assert "nosuch is not installed (installed: " in _one_error_line(run.stderr)
    run = cli(page, "-o", str(tmp_path / "no" / "such" / "folder.pdf"))
    assert run.returncode == 5
    assert "does not exist" in _one_error_line(run.stderr)
    run = cli(page, "-j", "0", "-o", str(tmp_path / "b.pdf"))
    assert run.returncode == 2
    assert "jobs" in _one_error_line(run.stderr)
    assert cli(page).returncode == 2  # -o is required (argparse's own usage error)
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_on_a_terminal(tmp_path: Path, samples: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pdfocr", str(samples), "-o", str(tmp_path / "out.pdf"), "-j", "2"],
        stderr=terminal,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=120) == 0
    os.close(controller)
    text = shown.decode("utf-8", "replace")
    assert "0/5" in text.split("1/5")[0]  # the bar is there from the start
    assert "5/5" in text
    # Its rate counts from the start of the run, as the summary's does (not from the
    # first finished page, which overstated it many times over).
    bar_rate = float(re.findall(r"([\d.]+)page/s", text)[-1])
    summary_rate = float(re.search(r"\(([\d.]+) pages/s[;)]", text).group(1))
    assert 0.5 < bar_rate / summary_rate < 2


def _stopped_midway(tmp_path: Path, page_factory, prose_lines, stop: signal.Signals) -> tuple[int, str]:
    """Start converting 12 dense pages, send ``stop`` once the first page is done; the
    exit code and stderr. The run has its session, as a terminal's job has its group."""
    folder = tmp_path / "scans"
    folder.mkdir()
    page = page_factory(prose_lines(1, 20), dpi=300, size_inches=(8.5, 11))
    for index in range(12):
        page.image.save(folder / f"page{index}.png", dpi=(300, 300))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "pdfocr", str(folder), "-o", str(tmp_path / "out.pdf"), "-j", "2", "-v"],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)},
        start_new_session=True,
    )
    assert process.stderr is not None
    seen = []
    while not any(line.startswith("[1/12]") for line in seen):  # under way
        line = process.stderr.readline().decode()
        assert line, f"the run ended before its first page: {seen}"
        seen.append(line)
    if stop == signal.SIGINT:
        os.killpg(process.pid, stop)  # Ctrl-C reaches the whole group
    else:
        process.send_signal(stop)  # a service manager or `timeout` signals the process
    asked = time.monotonic()
    stderr = "".join(seen) + process.stderr.read().decode()
    code = process.wait(timeout=30)
    # "Within a couple of seconds": generous for a loaded 2-core CI machine.
    assert time.monotonic() - asked < 5, stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break  # no process of the run is left
        time.sleep(0.1)
    else:
        pytest.fail("processes of the stopped run are still alive")
    assert list(scratch.iterdir()) == []  # work folder and temporary files removed
    return code, stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_stopping_a_run_ends_everything_and_writes_nothing(
    tmp_path: Path, page_factory, prose_lines, stop: signal.Signals, code: int, word: str
) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"older output")
    exit_code, stderr = _stopped_midway(tmp_path, page_factory, prose_lines, stop)
    assert exit_code == code, stderr
    assert "Traceback" not in stderr
    assert word in stderr
    assert output.read_bytes() == b"older output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf", "scans", "tmp"]


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _truncated(path: Path) -> Path:
    Image.effect_noise((500, 500), 50).save(path)
    path.write_bytes(path.read_bytes()[:5000])
    return path


def test_pdf_to_a_terminal_is_refused(tmp_path: Path, samples: Path) -> None:
    controller, terminal = pty.openpty()
    completed = subprocess.run(
        [sys.executable, "-m", "pdfocr", str(samples / "page1.png"), "-o", "-"],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    os.close(terminal)
    os.close(controller)
    assert completed.returncode == 2
    assert b"refusing to write a PDF to a terminal" in completed.stderr


def test_a_closed_pipe_is_an_output_error_and_writes_nothing(tmp_path: Path, samples: Path) -> None:
    sidecar = tmp_path / "text.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "pdfocr", str(samples / "page1.png"), "--sidecar", str(sidecar), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away, like `pdfocr ... -o - | head -c0`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 5
    assert "broken pipe" in _one_error_line(stderr)
    assert not sidecar.exists()


def test_outputs_that_would_overwrite_inputs_or_each_other(cli, tmp_path: Path, samples: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    page = folder / "page1.png"
    page.write_bytes((samples / "page1.png").read_bytes())
    run = cli(str(folder), "-o", str(page))
    assert run.returncode == 2
    assert "overwrite an input" in _one_error_line(run.stderr)
    assert page.read_bytes() == (samples / "page1.png").read_bytes()
    same = tmp_path / "same.pdf"
    run = cli(str(page), "-o", str(same), "--sidecar", str(same))
    assert run.returncode == 2
    assert "same file" in _one_error_line(run.stderr)
    assert not same.exists()


def test_corrupt_second_tiff_directory(cli, tmp_path: Path) -> None:
    frames = [Image.new("L", (200, 100), 255), Image.new("L", (200, 100), 255)]
    tiff = tmp_path / "two.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    data = bytearray(tiff.read_bytes())
    second = data.rfind(b"\x00\x01\x04\x00")  # the ImageWidth entry of the last directory
    data[second : second + 24] = bytes(24)
    tiff.write_bytes(bytes(data))
    run = cli(str(tiff), "-o", str(tmp_path / "out.pdf"))
    assert run.returncode == 3
    assert f"{tiff} (page 2): corrupt" in _one_error_line(run.stderr)
    # The frame before the damage is a good page: it is kept.
    skipping = cli(str(tiff), "-o", str(tmp_path / "out.pdf"), "--skip-bad-pages")
    assert skipping.returncode == 7
    assert f"pdfocr: skipped {tiff} (page 2): corrupt" in skipping.stderr
    assert len(PdfReader(tmp_path / "out.pdf").pages) == 1


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A few bytes of PNG that claim a huge image: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (40_000, 30_000)])
def test_decompression_bombs_are_refused(cli, tmp_path: Path, width: int, height: int) -> None:
    bomb = _png_header_only(tmp_path / "bomb.png", width, height)
    run = cli(str(bomb), "-o", str(tmp_path / "out.pdf"))
    assert run.returncode == 3
    line = _one_error_line(run.stderr)
    assert "bomb.png: refused" in line
    assert "decompression bomb" in line
    assert not (tmp_path / "out.pdf").exists()


def test_sidecar_dash_is_stdout(cli, tmp_path: Path, samples: Path) -> None:
    output = tmp_path / "out.pdf"
    run = cli(str(samples / "page1.png"), "-o", str(output), "--sidecar", "-", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert words_of(run.stdout.decode())[:6] == words_of(pdftotext(output))[:6]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.pdf"]  # no file named "-"
    both = cli(str(samples / "page1.png"), "-o", "-", "--sidecar", "-")
    assert both.returncode == 2
    assert "cannot both go to stdout" in both.stderr


def test_device_paths_write_into_the_pipe_behind_them(cli, tmp_path: Path, samples: Path) -> None:
    # stdout is a pipe here, as in `pdfocr ... -o /dev/stdout | next-tool`.
    pdf = cli(str(samples / "page1.png"), "-o", "/dev/stdout", "-q")
    assert pdf.returncode == 0, pdf.stderr
    assert pdf.stdout.startswith(b"%PDF-") and pdf.stdout.rstrip().endswith(b"%%EOF")
    text = cli(str(samples / "page1.png"), "-o", str(tmp_path / "out.pdf"), "--sidecar", "/dev/stdout")
    assert text.returncode == 0, text.stderr
    assert words_of(text.stdout.decode())[:6] == words_of(pdftotext(tmp_path / "out.pdf"))[:6]


def test_a_full_device_as_sidecar_is_an_output_error(cli, tmp_path: Path, samples: Path) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"previous")
    run = cli(str(samples / "page1.png"), "-o", str(output), "--sidecar", "/dev/full")
    assert run.returncode == 5
    assert _one_error_line(run.stderr) == "pdfocr: error: /dev/full: no space left on device"
    assert output.read_bytes() == b"previous"
    with pytest.raises(pdfocr.OutputError, match=r"^/dev/full: no space left on device$"):
        pdfocr.convert(samples / "page1.png", tmp_path / "lib.pdf", sidecar="/dev/full")
    assert not (tmp_path / "lib.pdf").exists()


def test_an_output_in_a_folder_nothing_can_be_written_to(cli, samples: Path) -> None:
    run = cli(str(samples / "page1.png"), "-o", "/proc/version")
    assert run.returncode == 5
    assert _one_error_line(run.stderr).startswith(
        "pdfocr: error: /proc/version: cannot write in folder '/proc'"
    )


def test_verbose_shows_where_a_bug_in_a_worker_happened(cli, tmp_path: Path, samples: Path) -> None:
    env = installed_engine(tmp_path, "malformed", "fakes:MalformedEngine")
    page = str(samples / "page1.png")
    quiet = cli(page, "-o", str(tmp_path / "out.pdf"), "--engine", "malformed", env=env)
    assert quiet.returncode == 1
    assert "internal error: AttributeError" in _one_error_line(quiet.stderr)
    loud = cli(page, "-o", str(tmp_path / "out.pdf"), "--engine", "malformed", "-v", env=env)
    assert loud.returncode == 1
    assert "Traceback (most recent call last)" in loud.stderr
    assert "readingorder.py" in loud.stderr  # the worker's own frames, not the caller's
    assert loud.stderr.strip().splitlines()[-1].startswith("pdfocr: error: ")


def test_language_codes_that_are_not_languages_are_refused(cli, tmp_path: Path, samples: Path) -> None:
    page, output = str(samples / "page1.png"), str(tmp_path / "out.pdf")
    osd = cli(page, "-o", output, "-l", "osd")
    assert osd.returncode == 2
    assert "'osd' is not a language but Tesseract's page orientation data" in _one_error_line(osd.stderr)
    upper = cli(page, "-o", output, "-l", "ENG")
    assert upper.returncode == 2
    assert _one_error_line(upper.stderr).endswith(
        "'ENG' is not installed, but 'eng' is (language codes are case-sensitive)"
    )
    threshold = cli(page, "-o", output, "--rotate-pages", "--rotate-pages-threshold", "nan")
    assert threshold.returncode == 2
    assert "the rotation threshold must be a finite number, not nan" in _one_error_line(threshold.stderr)


def test_verbose_says_which_files_of_a_folder_were_left_out(cli, tmp_path: Path, samples: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.png").write_bytes((samples / "page1.png").read_bytes())
    (folder / "b.pdf").write_bytes(img2pdf.convert(str(samples / "page3.png")))
    (folder / "notes.txt").write_text("x")
    frames = [Image.new("L", (300, 200), shade) for shade in (255, 200)]
    frames[0].save(folder / "c.gif", save_all=True, append_images=frames[1:])
    run = cli(str(folder), "-o", str(tmp_path / "out.pdf"), "-v")
    assert run.returncode == 0, run.stderr
    assert f"skipped {folder / 'notes.txt'}: not a PDF or an image file" in run.stderr
    assert f"{folder / 'c.gif'}: only the first of its 2 frames is used (an animation)" in run.stderr
    assert "3 pages" in run.stderr  # a.png, b.pdf's page, c.gif


def test_a_declared_resolution_can_be_overridden(cli, tmp_path: Path) -> None:
    # A scanner that writes 72 dpi into a 300-dpi scan: a letter page of 35 x 46 inches.
    scan = tmp_path / "scan.png"
    Image.new("L", (2550, 3300), 255).save(scan, dpi=(72, 72))
    as_declared = cli(str(scan), "-o", str(tmp_path / "big.pdf"))
    assert as_declared.returncode == 0
    assert "declares 72 x 72 dpi, which no scanner makes" in as_declared.stderr
    assert PdfReader(tmp_path / "big.pdf").pages[0].mediabox.width == pytest.approx(2550, abs=0.5)
    forced = cli(str(scan), "-o", str(tmp_path / "letter.pdf"), "--dpi", "300", "--force-dpi")
    assert forced.returncode == 0
    assert "warning" not in forced.stderr
    box = PdfReader(tmp_path / "letter.pdf").pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((612, 792), abs=0.5)


def test_more_jobs_than_cpus_are_capped_and_said(cli, tmp_path: Path, samples: Path) -> None:
    run = cli(str(samples / "page1.png"), "-o", str(tmp_path / "out.pdf"), "-j", "64")
    assert run.returncode == 0, run.stderr
    assert f"64 jobs asked for, but this process may use {usable_cpus()} CPUs" in run.stderr


def test_argument_errors_are_one_line(cli, samples: Path) -> None:
    run = cli(str(samples / "page1.png"), "--dpi", "abc", "-o", "x.pdf")
    assert run.returncode == 2
    assert _one_error_line(run.stderr) == (
        "pdfocr: error: argument --dpi: invalid float value: 'abc' (see pdfocr --help)"
    )
    timeout = cli(str(samples / "page1.png"), "--page-timeout", "-1", "-o", "x.pdf")
    assert timeout.returncode == 2
    assert "--page-timeout must be 0 (no limit) or a number of seconds" in _one_error_line(timeout.stderr)


def test_native_libraries_in_workers_do_not_write_to_the_terminal(cli, tmp_path: Path) -> None:
    # libtiff reports a damaged LZW strip on stderr ("Using code not yet in table.");
    # the user sees pdfocr's one line naming the page, nothing else.
    frames = [Image.new("L", (400, 300), shade) for shade in (255, 230, 200)]
    tiff = tmp_path / "lzw.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    data = bytearray(tiff.read_bytes())
    with Image.open(tiff) as image:
        image.seek(1)
        for offset, length in zip(image.tag_v2[273], image.tag_v2[279], strict=True):
            data[offset : offset + length] = b"\xff" * length
    tiff.write_bytes(bytes(data))
    run = cli(str(tiff), "-o", str(tmp_path / "out.pdf"))
    assert run.returncode == 3
    assert _one_error_line(run.stderr).startswith(
        f"pdfocr: error: {tiff} (page 2): corrupt or truncated image"
    )


def test_the_installed_languages_listed_are_languages(cli, tmp_path: Path, samples: Path) -> None:
    run = cli(str(samples / "page1.png"), "-l", "klingon", "-o", str(tmp_path / "out.pdf"))
    assert run.returncode == 4
    installed = re.search(r"\(installed: ([^)]*)\)", run.stderr).group(1).split(", ")
    assert "eng" in installed and "osd" not in installed

"""Faults: workers that crash or hang are pinned on their page, stopped, and leave nothing
behind; --skip-bad-pages converts the rest. Fault-injection engines make it deterministic."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, installed_engine, pdftotext, until
from fakes import CrashingEngine, FlakyEngine, HangingEngine, LabelEngine, png_pages
from PIL import Image

import pdfocr
from pdfocr.errors import EngineError, InputError
from pdfocr.model import PageText

NOT_AN_IMAGE = "not a PDF or a recognised image (supported: PDF, PNG, JPEG, TIFF, BMP, GIF, WebP, HEIC/HEIF)"


def _descendants() -> dict[int, int]:
    """Every process below this one: pid -> parent pid."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = ppid
                frontier.append(pid)
    return found


def _workers_left() -> list[int]:
    """Worker processes still alive: grandchildren (multiprocessing's fork server, a
    child, stays up for the life of the process; the workers are its children)."""
    tree = _descendants()
    return [pid for pid, parent in tree.items() if parent != os.getpid()]


@pytest.mark.parametrize(("crash", "how"), [(signal.SIGSEGV, "killed by SIGSEGV"), (None, "exit status 70")])
def test_a_crash_is_pinned_on_its_page_not_on_pages_beside_it(
    tmp_path: Path, crash: int | None, how: str
) -> None:
    output = tmp_path / "out.pdf"
    output.write_bytes(b"previous output")
    engine = CrashingEngine(crash_on=2, signal=crash, seconds=0.6)
    with pytest.raises(EngineError) as caught:
        pdfocr.convert(png_pages(5), output, jobs=2, engine=engine)
    assert str(caught.value) == f"<input 3>: the worker process converting this page died ({how})"
    assert output.read_bytes() == b"previous output"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.pdf"]
    assert _workers_left() == []


def test_a_hanging_page_is_stopped_by_the_page_timeout(tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    with pytest.raises(EngineError) as caught:
        pdfocr.convert(png_pages(4), output, jobs=2, engine=HangingEngine(hang_on=1), page_timeout=1.5)
    assert str(caught.value) == "<input 2>: stopped after 1.5 s without a result (the page timeout)"
    assert not output.exists()
    assert _workers_left() == []


def test_skip_bad_pages_converts_the_rest_and_lists_the_rest(tmp_path: Path) -> None:
    pages = png_pages(6)
    pages[1] = b"not an image at all"  # found bad up front
    pages[3] = pages[3][: len(pages[3]) // 2]  # found bad when decoded, in a worker
    engine = CrashingEngine(crash_on=4, signal=signal.SIGSEGV, seconds=0.3)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(pages, output, jobs=2, engine=engine, skip_bad_pages=True)
    assert result.page_count == 3
    assert [str(skipped) for skipped in result.skipped] == [
        f"<input 2>: {NOT_AN_IMAGE}",
        "<input 4>: corrupt or truncated image (image file is truncated)",
        "<input 5>: the worker process converting this page died (killed by SIGSEGV)",
    ]
    assert [type(skipped.error) for skipped in result.skipped] == [InputError, InputError, EngineError]
    assert [page.source for page in result.pages] == ["<input 1>", "<input 3>", "<input 6>"]
    assert pdftotext(output).count("fine") == 3


def test_skip_bad_pages_also_skips_a_hanging_page(tmp_path: Path) -> None:
    result = pdfocr.convert(
        png_pages(3), tmp_path / "out.pdf", jobs=2, engine=HangingEngine(hang_on=0),
        skip_bad_pages=True, page_timeout=1,
    )  # fmt: skip
    assert [page.source for page in result.pages] == ["<input 2>", "<input 3>"]
    assert [skipped.reason for skipped in result.skipped] == [
        "stopped after 1 s without a result (the page timeout)"
    ]


def test_when_every_page_is_bad_the_first_error_is_raised(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^<input 1>: empty file"):
        pdfocr.convert([b"", b"junk"], tmp_path / "out.pdf", skip_bad_pages=True)
    assert list(tmp_path.iterdir()) == []


def test_a_crash_in_one_conversion_leaves_the_others_on_a_shared_converter_alone(tmp_path: Path) -> None:
    async def main() -> tuple[BaseException | pdfocr.Result, ...]:
        async with pdfocr.Converter(jobs=2) as converter:
            return tuple(
                await asyncio.gather(
                    converter.convert_async(
                        png_pages(6), tmp_path / "good.pdf", engine=LabelEngine(slowest=0.3)
                    ),
                    converter.convert_async(
                        png_pages(3), tmp_path / "bad.pdf", engine=CrashingEngine(crash_on=1, seconds=0.3)
                    ),
                    return_exceptions=True,
                )
            )

    good, bad = asyncio.run(main())
    assert isinstance(good, pdfocr.Result), good
    assert [page.text for page in good.pages] == [f"page{index}" for index in range(6)]
    assert isinstance(bad, EngineError)
    assert str(bad) == "<input 2>: the worker process converting this page died (exit status 70)"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["good.pdf"]


def test_cli_skip_bad_pages_lists_what_it_skipped_and_exits_7(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "scans"
    folder.mkdir()
    sample = (ROOT / "samples" / "page1.png").read_bytes()
    (folder / "a.png").write_bytes(sample)
    (folder / "b.png").write_text("this is a text file")
    (folder / "c.png").write_bytes(sample[:2000])
    output = tmp_path / "out.pdf"
    run = cli(str(folder), "-o", str(output), "--skip-bad-pages", "-j", "2")
    assert run.returncode == 7, run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[:2] == [
        f"pdfocr: skipped {folder / 'b.png'}: {NOT_AN_IMAGE}",
        f"pdfocr: skipped {folder / 'c.png'}: corrupt or truncated image (image file is truncated)",
    ]
    assert lines[2].startswith(f"pdfocr: wrote {output} (PDF/A-2b): 1 page in ")
    assert lines[2].endswith(", 2 skipped")
    assert "Page 1: memo number" in pdftotext(output)
    # Without the option, the bad file in the middle stops the run and is named.
    output.unlink()
    run = cli(str(folder), "-o", str(output))
    assert run.returncode == 3
    assert run.stderr.strip() == (f"pdfocr: error: {folder / 'b.png'}: {NOT_AN_IMAGE}")
    assert not output.exists()


@contextlib.contextmanager
def _small_filesystem(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder`` (needs root: CI and this project's
    machines run as root)."""
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("sidecar", [False, True])
def test_a_full_disk_fails_cleanly_and_keeps_the_previous_output(cli, tmp_path: Path, sidecar: bool) -> None:  # type: ignore[no-untyped-def]
    with _small_filesystem(tmp_path / "small", "64k") as small:
        output = small / "out.pdf"
        output.write_bytes(b"%PDF- the previous output " * 1000)  # 26 KB of the 64
        before = output.read_bytes()
        extra = ["--sidecar", str(small / "out.txt")] if sidecar else []
        run = cli(str(ROOT / "samples"), "-o", str(output), *extra)
        assert run.returncode == 5, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in run.stderr
        # The PDF (qpdf does not always report the failed write: the file is checked) or
        # the sidecar, whichever runs out of room first, is named.
        assert lines[0] in [
            f"pdfocr: error: {output}: the PDF could not be written completely (no space left on device?)",
            f"pdfocr: error: {output}: no space left on device",
            f"pdfocr: error: {small / 'out.txt'}: no space left on device",
        ]
        assert output.read_bytes() == before
        assert [path.name for path in small.iterdir()] == ["out.pdf"]


def test_a_full_temporary_folder_fails_cleanly(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out.pdf"
    with _small_filesystem(tmp_path / "small", "16k") as small:
        run = cli(str(ROOT / "samples"), "-o", str(output), env={"TMPDIR": str(small)})
        assert run.returncode == 5, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in run.stderr
        assert "no space left on device" in lines[0]
        assert list(small.iterdir()) == []
    assert not output.exists()


class _FullDisk(io.RawIOBase):
    """A writable stream that fails the way a full disk does."""

    name = "full-disk"

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failing_output_stream_is_an_output_error_and_writes_no_sidecar(tmp_path: Path) -> None:
    sidecar = tmp_path / "out.txt"
    with pytest.raises(pdfocr.OutputError, match=r"^full-disk: no space left on device$"):
        pdfocr.convert(png_pages(2), _FullDisk(), engine=LabelEngine(slowest=0), sidecar=sidecar)
    assert not sidecar.exists()


@dataclass(frozen=True)
class _UnpicklableEngine:
    name: str = "unpicklable"
    hook: Callable[[], None] = lambda: None  # a lambda cannot be pickled

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        raise AssertionError("never called")


def test_an_engine_that_cannot_reach_the_workers_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(pdfocr.UsageError, match=r"unpicklable engine cannot be sent to worker processes"):
        pdfocr.convert(png_pages(1), tmp_path / "out.pdf", engine=_UnpicklableEngine())
    assert list(tmp_path.iterdir()) == []


def test_a_second_signal_ends_everything_at_once(tmp_path: Path) -> None:
    # An engine whose check never comes back: the first signal asks the run to stop, which
    # it cannot (it stops where it looks at its cancel event, and the check never returns),
    # so the command would wait forever; the second ends it and every process below it
    # (here the engine's helper, deaf to SIGTERM) at once.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    page = tmp_path / "p0.png"
    page.write_bytes(png_pages(1)[0])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pdfocr",
            str(page),
            "-o",
            str(tmp_path / "out.pdf"),
            "--engine",
            "hung-check",
        ],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={
            **os.environ,
            "TMPDIR": str(scratch),
            **installed_engine(tmp_path, "hung-check", "fakes:HungCheckEngine"),
        },
    )
    # Signals before the check is under way could come before the command's handlers.
    until(lambda: any(scratch.glob("hung-check-*")) or process.poll() is not None, 120)
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(signal.SIGTERM)
    # Python runs a handler once for the signals that came before it could run: a second
    # signal sent too soon would count as the first. So one is sent every so often until
    # the command ends; however many it takes, one signal alone never ends it here.
    ended = time.monotonic() + 60
    while process.poll() is None:
        assert time.monotonic() < ended, "signals every tenth of a second for a minute did not end it"
        time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert stderr.strip().splitlines()[-1] == "pdfocr: terminated; nothing was written"
    assert not (tmp_path / "out.pdf").exists()
    # Orphans would have a new parent; they still carry the run's environment.
    until(lambda: _processes_with_environment(f"TMPDIR={scratch}") == [], seconds=60)


def _processes_with_environment(entry: str) -> list[int]:
    found = []
    for folder in Path("/proc").iterdir():
        if folder.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.encode() in (folder / "environ").read_bytes().split(b"\0"):
                    found.append(int(folder.name))
    return found


def test_outputs_that_are_not_plain_files_are_written_to_not_replaced(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = str(ROOT / "samples" / "page1.png")
    # A symbolic link: the file it points to gets the PDF; the link stays a link.
    (tmp_path / "real.pdf").write_bytes(b"old")
    (tmp_path / "link.pdf").symlink_to("real.pdf")
    assert cli(page, "-o", str(tmp_path / "link.pdf")).returncode == 0
    assert (tmp_path / "link.pdf").is_symlink()
    assert (tmp_path / "real.pdf").read_bytes().startswith(b"%PDF-")
    # A named pipe (like /dev/null or /dev/stdout, not a file to replace): written through.
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    run = cli(page, "-o", str(fifo), "--sidecar", os.devnull)
    reader.join(timeout=60)
    assert run.returncode == 0, run.stderr
    assert fifo.is_fifo()
    assert received and received[0].startswith(b"%PDF-") and received[0].rstrip().endswith(b"%%EOF")
    assert Path(os.devnull).is_char_device()


def test_pages_left_running_by_a_cancelled_conversion_still_time_out(tmp_path: Path) -> None:
    # On a shared Converter, a cancelled conversion's running pages finish on their own;
    # a stuck one must still be stopped at its time limit, or it holds its worker (and
    # every later conversion, and close()) forever. Here both workers are stuck.
    async def main() -> pdfocr.Result:
        async with pdfocr.Converter(jobs=2) as converter:
            stuck = asyncio.ensure_future(
                converter.convert_async(
                    png_pages(1) * 2, tmp_path / "stuck.pdf", engine=HangingEngine(hang_on=0), page_timeout=1
                )
            )
            async with asyncio.timeout(30):  # until both pages are under way
                while converter.in_flight < 2:
                    await asyncio.sleep(0.01)
            stuck.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stuck
            return await asyncio.wait_for(
                converter.convert_async(png_pages(3), tmp_path / "next.pdf", engine=LabelEngine(slowest=0)),
                30,
            )

    started = time.monotonic()
    result = asyncio.run(main())
    assert [page.text for page in result.pages] == ["page0", "page1", "page2"]
    assert time.monotonic() - started < 20
    assert _workers_left() == []


@pytest.mark.slow
def test_a_conversion_that_keeps_crashing_does_not_wear_out_its_neighbours(tmp_path: Path) -> None:
    # A bundle whose pages keep killing their workers, beside a calm one on the same
    # Converter: each crash is pinned on its own page, and the calm pages, converted
    # by the other workers in the meantime, are neither lost nor blamed.
    async def main() -> tuple[BaseException | pdfocr.Result, ...]:
        async with pdfocr.Converter(jobs=2) as converter:
            return tuple(
                await asyncio.gather(
                    converter.convert_async(
                        png_pages(2), tmp_path / "calm.pdf", engine=LabelEngine(slowest=1.0)
                    ),
                    converter.convert_async(
                        png_pages(12), tmp_path / "flaky.pdf", engine=FlakyEngine(), skip_bad_pages=True
                    ),
                    return_exceptions=True,
                )
            )

    calm, flaky = asyncio.run(main())
    assert isinstance(calm, pdfocr.Result), calm
    assert [page.text for page in calm.pages] == ["page0", "page1"]
    assert isinstance(flaky, pdfocr.Result), flaky
    assert flaky.page_count == 6
    assert [skipped.page for skipped in flaky.skipped] == [None] * 6
    assert all("died (exit status 70)" in skipped.reason for skipped in flaky.skipped)


def test_an_output_name_that_is_not_utf8_is_written(tmp_path: Path) -> None:
    # Old file systems hold names in other encodings: Python hands them over as str with
    # surrogates, which qpdf's job cannot take as text.
    output = Path(os.fsdecode(os.fsencode(tmp_path) + b"/scan-\xff.pdf"))
    output.write_bytes(b"old")
    result = pdfocr.convert(png_pages(2), output, engine=LabelEngine(slowest=0))
    assert result.page_count == 2
    check = subprocess.run([b"qpdf", b"--check", os.fsencode(output)], capture_output=True)
    assert check.returncode == 0
    assert os.listdir(os.fsencode(tmp_path)) == [b"scan-\xff.pdf"]

"""The Aspose OCR engine: its checks (no Aspose needed) and the real engine, unlicensed
with --allow-evaluation (CI installs it with scripts/setup-aspose.sh)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, CliRun, pdftotext, pdftotext_words, words_of
from PIL import Image
from pypdf import PdfReader

import pdfocr
from pdfocr.engines import aspose, resolve_engine
from pdfocr.engines.aspose import AsposeEngine
from pdfocr.errors import DependencyError, EngineError, UsageError
from pdfocr.model import Box, Line, Word


def _aspose_ready() -> str | None:
    """Why the real engine cannot run here, or None when it can."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pdfocr.PdfocrWarning)
            AsposeEngine(allow_evaluation=True).check(())
    except pdfocr.PdfocrError as error:
        return str(error)
    return None


WHY_NOT = _aspose_ready()
# scripts/test.sh sets this after scripts/setup-aspose.sh: there, not running is a failure.
REQUIRED = os.environ.get("PDFOCR_REQUIRE_ASPOSE") == "1"
needs_aspose = pytest.mark.skipif(
    WHY_NOT is not None and not REQUIRED,
    reason=f"Aspose OCR cannot run here ({WHY_NOT}); scripts/setup-aspose.sh installs it",
)
BANNER_PIECES = ("Trial", "*****")
NO_LICENCE = {"PDFOCR_ASPOSE_LICENSE": ""}


# --- without Aspose ----------------------------------------------------------------------


def test_tesseract_codes_map_to_aspose_languages() -> None:
    assert aspose.aspose_language(["eng"]) == "ENG"
    assert aspose.aspose_language(["deu"]) == "DEU"
    assert aspose.aspose_language(["eng", "fra"]) == "LATIN"
    with pytest.raises(
        DependencyError, match=r"cannot read rus offline: .*Cyrillic model.*--engine tesseract"
    ):
        aspose.aspose_language(["eng", "rus"])
    with pytest.raises(DependencyError, match=r"cannot read chi_sim offline: .*Chinese"):
        aspose.aspose_language(["chi_sim"])
    with pytest.raises(DependencyError, match=r"no language 'xyz' \(it reads: afr, .*eng, .*fra"):
        aspose.aspose_language(["xyz"])


def test_unlicensed_is_refused_unless_evaluation_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PDFOCR_ASPOSE_LICENSE", raising=False)
    monkeypatch.setattr(aspose, "openssl_folder", lambda: Path("/somewhere"))
    monkeypatch.setattr(aspose, "_package_version", lambda: "26.10.0")
    with pytest.raises(
        UsageError, match=r"needs a licence.*--aspose-license FILE.*PDFOCR_ASPOSE_LICENSE.*--allow-evaluation"
    ):
        AsposeEngine().check(["eng"])
    with pytest.warns(pdfocr.PdfocrWarning, match="unlicensed.*cut short"):
        AsposeEngine(allow_evaluation=True).check(["eng"])


def test_licence_comes_from_the_option_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(aspose, "openssl_folder", lambda: Path("/somewhere"))
    monkeypatch.setattr(aspose, "_package_version", lambda: "26.10.0")
    licence = tmp_path / "Aspose.OCR.lic"
    licence.write_text("<License/>")
    monkeypatch.setenv("PDFOCR_ASPOSE_LICENSE", str(licence))
    assert AsposeEngine().license == str(licence)
    assert resolve_engine("aspose", license=str(tmp_path / "other.lic")).license == str(
        tmp_path / "other.lic"
    )
    AsposeEngine().check(["eng"])  # readable: no error, no warning
    with pytest.raises(
        UsageError, match=r"missing.lic: the Aspose licence \(--aspose-license\) not found$"
    ) as raised:
        AsposeEngine(license=str(tmp_path / "missing.lic")).check(["eng"])
    assert raised.value.file == str(tmp_path / "missing.lic")
    with pytest.raises(UsageError, match=r"licence \(--aspose-license\) is a folder"):
        AsposeEngine(license=str(tmp_path)).check(["eng"])
    monkeypatch.setenv("PDFOCR_ASPOSE_LICENSE", str(tmp_path / "gone.lic"))
    with pytest.raises(UsageError, match=r"licence \(\$PDFOCR_ASPOSE_LICENSE\) not found"):
        AsposeEngine().check(["eng"])
    with pytest.raises(UsageError, match=r"licence path \(--aspose-license\) is empty"):
        AsposeEngine(license=" ")


def test_a_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aspose, "_package_version", lambda: None)
    with pytest.raises(
        DependencyError, match=r'aspose-ocr-python-net package: pip install "pdfocr\[aspose\]"'
    ):
        AsposeEngine(allow_evaluation=True).check(["eng"])


def test_missing_openssl_is_reported_before_anything_loads(
    cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    if aspose._package_version() is None:
        pytest.skip("aspose-ocr-python-net is not installed, so the package check answers first")
    if any(Path(folder, "libssl.so.1.1").exists() for folder in aspose._SYSTEM_LIBRARY_FOLDERS):
        pytest.skip("this system has OpenSSL 1.1 installed system-wide")
    empty = tmp_path / "native"
    empty.mkdir()
    output = tmp_path / "out.pdf"
    output.write_bytes(b"the previous output")
    run = cli(
        str(ROOT / "samples" / "page1.png"), "--engine", "aspose", "--allow-evaluation", "-o", str(output),
        env={"PDFOCR_NATIVE_DIR": str(empty)},
    )  # fmt: skip
    assert run.returncode == 4, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert "OpenSSL 1.1 (libssl.so.1.1)" in lines[0] and "scripts/setup-aspose.sh" in lines[0]
    assert output.read_bytes() == b"the previous output"
    listing = cli("--list-engines", env={"PDFOCR_NATIVE_DIR": str(empty)})
    assert "aspose     not ready: the aspose engine needs OpenSSL 1.1" in listing.stdout.decode()


def _line(*words: tuple[str, float, float]) -> Line:
    return Line(
        words=tuple(Word(text, Box(left, 0, right, 10)) for text, left, right in words), box=Box(0, 0, 99, 10)
    )


def test_evaluation_results_keep_no_more_than_the_evaluation_text() -> None:
    lines = [
        _line(("and", 0, 9), ("so", 12, 20)),
        _line(("send", 0, 9), ("any", 12, 20), ("questions", 24, 60)),
    ]
    kept = aspose._cut_to_text(lines, "and so\nsend any questio")
    assert [line.text for line in kept] == ["and so", "send any questio"]
    assert kept[1].words[-1].box == Box(24, 0, 60, 10)
    assert [line.text for line in aspose._cut_to_text(lines, "and so")] == ["and so"]
    assert aspose._cut_to_text(lines, "") == []


# --- the real engine ---------------------------------------------------------------------


@pytest.mark.slow
@needs_aspose
def test_aspose_converts_a_sample_page_with_no_banner_and_no_stray_files(
    cli: Callable[..., CliRun], tmp_path: Path, expected_sample_pages: list[str]
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    run = cli(
        str(ROOT / "samples" / "page1.png"), "--engine", "aspose", "--allow-evaluation",
        "-o", "out.pdf", "--sidecar", "out.txt", cwd=workdir, env=NO_LICENCE, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "pdfocr: warning: Aspose OCR runs unlicensed (evaluation)" in run.stderr
    assert sorted(path.name for path in workdir.iterdir()) == ["out.pdf", "out.txt"]
    pdf = workdir / "out.pdf"
    expected = expected_sample_pages[0].splitlines()
    extracted = pdftotext(pdf).splitlines()
    # Evaluation text stops after a few hundred characters: what there is is exact.
    assert extracted[:5] == expected[:5]
    for text in (pdftotext(pdf), PdfReader(pdf).pages[0].extract_text(), (workdir / "out.txt").read_text()):
        assert not any(piece in text for piece in BANNER_PIECES), text
        assert words_of(expected_sample_pages[0])[:30] == words_of(text)[:30]
    # Word boxes found from the line's ink sit where Tesseract puts the same words.
    tesseract = tmp_path / "tesseract.pdf"
    assert cli(str(ROOT / "samples" / "page1.png"), "-o", str(tesseract)).returncode == 0
    theirs = pdftotext_words(tesseract)[0]
    matched, start = 0, 0
    for word in pdftotext_words(pdf)[0]:
        twin = next((i for i in range(start, len(theirs)) if theirs[i].text == word.text), None)
        if twin is not None:
            matched, start = matched + 1, twin + 1
            assert word.left == pytest.approx(theirs[twin].left, abs=1.5), word
            assert word.right == pytest.approx(theirs[twin].right, abs=1.5), word
    assert matched >= 30


@needs_aspose
def test_aspose_unlicensed_without_evaluation_is_refused(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    run = cli(str(ROOT / "samples" / "page1.png"), "--engine", "aspose", "-o", str(output), env=NO_LICENCE)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "pdfocr: error: the aspose engine needs a licence: without one Aspose cuts each page's text short "
        "(to a few lines); give --aspose-license FILE (or set PDFOCR_ASPOSE_LICENSE), or pass "
        "--allow-evaluation to accept truncated text"
    ]
    assert not output.exists()


@needs_aspose
def test_aspose_rejects_a_bad_licence_naming_it(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    licence = tmp_path / "Aspose.OCR.lic"
    licence.write_text("<License><Data>not a licence</Data></License>")
    output = tmp_path / "out.pdf"
    output.write_bytes(b"the previous output")
    run = cli(
        str(ROOT / "samples" / "page1.png"), "--engine", "aspose", "--aspose-license", str(licence),
        "-o", str(output), timeout=300,
    )  # fmt: skip
    assert run.returncode == 6, run.stderr
    line = run.stderr.strip()
    assert line.startswith(f"pdfocr: error: {licence}: the Aspose licence was not accepted")
    assert "\n" not in line and "Traceback" not in line
    assert output.read_bytes() == b"the previous output"


@pytest.mark.slow
@needs_aspose
def test_aspose_never_loads_in_the_calling_process(tmp_path: Path) -> None:
    # ocr_image and convert_async from a script: Aspose runs in the workers only, and the
    # event loop keeps ticking while it works.
    script = tmp_path / "use_aspose.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio, sys, time, warnings
            import pdfocr
            from pdfocr.engines.aspose import AsposeEngine

            async def main(engine, page):
                gaps, last = [], time.perf_counter()
                async def tick():
                    nonlocal last
                    while True:
                        await asyncio.sleep(0.05)
                        now = time.perf_counter()
                        gaps.append(now - last)
                        last = now
                ticker = asyncio.create_task(tick())
                result = await pdfocr.convert_async(page, {str(tmp_path / "out.pdf")!r}, engine=engine)
                ticker.cancel()
                print(result.pages[0].text.splitlines()[1])
                print(max(gaps) < 0.5, "aspose.ocr" in sys.modules)

            if __name__ == "__main__":
                warnings.simplefilter("ignore", pdfocr.PdfocrWarning)
                engine = AsposeEngine(allow_evaluation=True)
                page = {str(ROOT / "samples" / "page1.png")!r}
                print(pdfocr.ocr_image(page, engine=engine).splitlines()[0])
                asyncio.run(main(engine, page))
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "Page 1: memo number 237",
        "after the auditors had checked every invoice twice.",
        "True False",
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.pdf", "use_aspose.py"]


@pytest.mark.slow
@needs_aspose
def test_a_converter_runs_aspose_and_tesseract_on_the_same_workers(tmp_path: Path) -> None:
    engine = AsposeEngine(allow_evaluation=True)
    page = ROOT / "samples" / "page1.png"

    async def both() -> tuple[pdfocr.Result, pdfocr.Result]:
        async with pdfocr.Converter(jobs=1) as converter:
            first = await converter.convert_async(page, tmp_path / "aspose.pdf", engine=engine)
            second = await converter.convert_async(page, tmp_path / "tesseract.pdf")
            return first, second

    with pytest.warns(pdfocr.PdfocrWarning):
        from_aspose, from_tesseract = asyncio.run(both())
    assert words_of(from_aspose.pages[0].text)[:30] == words_of(from_tesseract.pages[0].text)[:30]
    assert "aspose.ocr" not in sys.modules


class _Found:
    """A stand-in for one of Aspose's line results."""

    def __init__(self, text: str, x: int, y: int) -> None:
        self.text_in_line, self.confidence = text, 0.0
        self.line = type("Rectangle", (), {"x": x, "y": y, "width": 300, "height": 40})()


class _TrialResult:
    """A stand-in for what unlicensed Aspose returns: text cut short, a banner, a warning."""

    def __init__(self) -> None:
        self.recognition_text = "First line here\nSecond li\n ************* Trial Licenses ************* \n"
        self.warnings = ["Trial Licenses"]
        self.recognition_lines_result = [_Found("First line here", 10, 10), _Found("Second line too", 10, 60)]


def test_a_trial_result_is_refused_unless_evaluation_is_allowed() -> None:
    page = Image.new("L", (400, 120), 255)
    with pytest.raises(EngineError, match=r"evaluation mode with the licence .*a.lic.*--allow-evaluation"):
        AsposeEngine(license="a.lic")._page_text(_TrialResult(), page)
    text = AsposeEngine(allow_evaluation=True)._page_text(_TrialResult(), page)
    assert text.text == "First line here\nSecond li"


def test_aspose_settings_are_refused_with_another_engine(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    run = cli(str(ROOT / "samples" / "page1.png"), "--allow-evaluation", "-o", str(tmp_path / "out.pdf"))
    assert run.returncode == 2
    assert run.stderr.strip() == "pdfocr: error: --allow-evaluation is for --engine aspose"
    with pytest.raises(UsageError, match=r"the tesseract engine does not take the settings allow_evaluation"):
        resolve_engine("tesseract", allow_evaluation=True)


@needs_aspose
def test_a_broken_openssl_is_reported_not_crashed_on(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    native = tmp_path / "native" / "openssl-1.1"
    native.mkdir(parents=True)
    for library in aspose.OPENSSL_LIBRARIES:
        (native / library).write_bytes(b"not a shared library")
    run = cli(
        str(ROOT / "samples" / "page1.png"), "--engine", "aspose", "--allow-evaluation",
        "-o", str(tmp_path / "out.pdf"), env={"PDFOCR_NATIVE_DIR": str(native.parent)},
    )  # fmt: skip
    assert run.returncode == 4, run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"pdfocr: error: {ROOT / 'samples' / 'page1.png'}: OpenSSL 1.1 in {native} cannot be loaded"
    )
    assert "scripts/setup-aspose.sh" in line and "Traceback" not in run.stderr


@needs_aspose
def test_aspose_is_listed_ready_and_rotate_pages_is_refused_before_any_work(
    cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    listing = cli("--list-engines", env=NO_LICENCE).stdout.decode()
    assert "aspose     ready: Aspose OCR 26." in listing
    assert "no licence: runs only with --allow-evaluation" in listing
    run = cli(
        str(ROOT / "samples" / "page1.png"), "--engine", "aspose", "--allow-evaluation", "--rotate-pages",
        "-o", str(tmp_path / "out.pdf"), env=NO_LICENCE,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == (
        "pdfocr: error: the aspose engine cannot tell which way up a page is (rotate_pages)"
    )


def test_table_cells_are_joined_into_rows_as_aspose_reads_them() -> None:
    # Aspose reports each cell as a line of its own, and reads the row as one line.
    page = Image.new("L", (1400, 400), 255)
    result = _TrialResult()
    result.recognition_text = "Item Qty Price\nApples 12 3.4\n ************* Trial Licenses ************* \n"
    result.recognition_lines_result = [
        _Found(text, x, y)
        for text, x, y in [
            *[("Item", 100, 10), ("Qty", 500, 10), ("Price", 900, 10)],
            *[("Apples", 100, 90), ("12", 500, 90), ("3.40", 900, 90), ("Pears", 100, 170)],
        ]
    ]
    text = AsposeEngine(allow_evaluation=True)._page_text(result, page)
    assert [line.text for line in text.lines] == ["Item Qty Price", "Apples 12 3.4"]
    row = text.lines[0]
    assert (row.box.left, row.box.right) == (100, 1200)
    assert [word.box.left for word in row.words] == [100, 500, 900]

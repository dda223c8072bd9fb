"""The Tesseract engine: in-process through tesserocr when it is installed (see
``tesseract_api``), else through the ``tesseract`` command.

Every call to the command goes through :func:`run_tesseract`, which owns the
environment (one OpenMP thread: pdfocr runs pages in parallel itself, and Tesseract's
own threads would oversubscribe the CPU) and the mapping of failures to errors.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from PIL import Image

from ..errors import DependencyError, EngineError, UsageError
from ..model import PageText
from ..options import NOT_LANGUAGES
from . import tesseract_api
from .hocr import parse_hocr

INSTALL_HINT = "install it with: sudo apt-get install tesseract-ocr"


def run_tesseract(args: Sequence[str], *, program: str = "tesseract") -> bytes:
    """Run ``tesseract ARGS`` and return its standard output."""
    executable = shutil.which(program)
    if executable is None:
        raise DependencyError(f"the {program} command was not found; {INSTALL_HINT}")
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        completed = subprocess.run([executable, *args], capture_output=True, env=environment, check=False)
    except OSError as error:
        raise DependencyError(f"cannot run {executable}: {error}") from None
    if completed.returncode != 0:
        detail = _last_line(completed.stderr) or f"exit status {completed.returncode}"
        raise EngineError(f"tesseract failed: {detail}")
    return completed.stdout


def _last_line(output: bytes) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def installed_languages(program: str = "tesseract") -> list[str]:
    """The language codes this Tesseract has data for."""
    listing = run_tesseract(["--list-langs"], program=program).decode("utf-8", "replace")
    # The first line is a header naming the tessdata folder.
    return sorted(line.strip() for line in listing.splitlines()[1:] if line.strip())


@dataclass(frozen=True)
class TesseractEngine:
    """OCR with Tesseract (4.1 or newer).

    ``in_process``: True uses tesserocr (a warm model per worker), False runs the
    ``tesseract`` command for every page, None (the default) picks tesserocr when it is
    installed."""

    name: str = "tesseract"
    program: str = "tesseract"
    in_process: bool | None = None

    @property
    def _in_process(self) -> bool:
        if self.in_process is None:
            return tesseract_api.available()
        if self.in_process and not tesseract_api.available():
            raise DependencyError("tesserocr is not installed: pip install tesserocr")
        return self.in_process

    def _installed(self) -> list[str]:
        """The installed languages, without the data files that are not one (osd, equ)."""
        found = tesseract_api.installed_languages() if self._in_process else installed_languages(self.program)
        return [code for code in found if code not in NOT_LANGUAGES]

    def describe(self) -> str:
        """One line for ``pdfocr --list-engines``."""
        backend = "in-process (tesserocr)" if self._in_process else f"the {self.program} command"
        languages = self._installed()
        return f"Tesseract, {backend}; languages: {', '.join(languages)}"

    def check(self, languages: Sequence[str]) -> None:
        available = self._installed()
        missing = [code for code in languages if code not in available]
        by_case = {code.lower(): code for code in available}
        miscased = [(code, by_case[code.lower()]) for code in missing if code.lower() in by_case]
        if miscased:  # "ENG": installed, but codes are case-sensitive
            given, meant = miscased[0]
            raise UsageError(
                f"OCR language {given!r} is not installed, but {meant!r} is "
                "(language codes are case-sensitive)"
            )
        if missing:
            packages = " ".join("tesseract-ocr-" + code.replace("_", "-").lower() for code in missing)
            raise DependencyError(
                f"OCR language {'+'.join(missing)} is not installed "
                f"(installed: {', '.join(available) or 'none'}); "
                f"on Debian/Ubuntu: sudo apt-get install {packages}"
            )

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        if self._in_process:
            return parse_hocr(tesseract_api.recognize_hocr(image, languages, dpi))
        with _as_image_file(image) as path:
            hocr = run_tesseract(
                [path, "stdout", "-l", "+".join(languages), "--dpi", str(round(dpi)), "hocr"],
                program=self.program,
            )
        return parse_hocr(hocr)

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        if self._in_process:
            return tesseract_api.detect_rotation(image, dpi)
        with _as_image_file(image) as path:
            try:
                report = run_tesseract(
                    [path, "stdout", "--psm", "0", "--dpi", str(round(dpi))], program=self.program
                )
            except EngineError:
                return None  # "Too few characters": a blank page, a photo
        found = dict(
            (key.strip(), value.strip())
            for key, _, value in (
                line.partition(":") for line in report.decode("utf-8", "replace").splitlines()
            )
        )
        try:
            return int(found["Rotate"]) % 360, float(found["Orientation confidence"])
        except (KeyError, ValueError):
            return None


@contextlib.contextmanager
def _as_image_file(image: Image.Image) -> Iterator[str]:
    """The image as a file for the tesseract command.

    An uncompressed BMP file is the cheapest hand-over measured: piping the image through
    stdin costs Tesseract ~0.1 s a page, and Leptonica reads PNM slowly."""
    with tempfile.NamedTemporaryFile(prefix="pdfocr-", suffix=".bmp") as handover:
        image.save(handover, format="BMP")
        handover.flush()
        yield handover.name

"""The Tesseract engine: in-process through tesserocr when it is installed (see
``tesseract_api``), else through the ``tesseract`` command.

Every call to the command goes through :func:`run_tesseract`, which owns the
environment (one OpenMP thread: pdfocr runs pages in parallel itself, and Tesseract's
own threads would oversubscribe the CPU) and the mapping of failures to errors.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from PIL import Image

from ..errors import DependencyError, EngineError, UsageError
from ..model import PageText
from ..options import NOT_LANGUAGES
from . import EngineOption, tesseract_api
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


_VARIABLE = re.compile(r"^[a-z][a-z0-9_]*=.*$")

TESSERACT_OPTIONS = (
    EngineOption("--tesseract-psm", "psm", "Tesseract's page segmentation mode, 0-13", metavar="N"),
    EngineOption("--tesseract-oem", "oem", "Tesseract's engine mode (0-3; 1 LSTM)", "N"),
    EngineOption(
        "--tesseract-config",
        "config",
        "set a Tesseract variable, e.g. thresholding_method=2 (Sauvola); may be repeated",
        metavar="VAR=VALUE",
        repeated=True,
    ),
    EngineOption("--user-words", "user_words", "a file of words Tesseract should expect, one a line", "FILE"),
    EngineOption(
        "--user-patterns", "user_patterns", "a file of patterns Tesseract should expect (its syntax)", "FILE"
    ),
)
"""Tesseract's own knobs, for the pages pdfocr's defaults do not cover."""


@dataclass(frozen=True)
class TesseractEngine:
    """OCR with Tesseract (4.1 or newer).

    ``in_process``: True uses tesserocr (a warm model per worker), False runs the
    ``tesseract`` command for every page, None (the default) picks tesserocr when it is
    installed. ``psm``, ``oem``, ``config`` (``VAR=VALUE`` settings), ``user_words`` and
    ``user_patterns`` (files) are Tesseract's own options of those names."""

    name: str = "tesseract"
    program: str = "tesseract"
    in_process: bool | None = None
    psm: int | None = None
    oem: int | None = None
    config: tuple[str, ...] = ()
    user_words: str | None = None
    user_patterns: str | None = None
    cli_options: ClassVar[tuple[EngineOption, ...]] = TESSERACT_OPTIONS

    def __post_init__(self) -> None:
        for name, low, high in (("psm", 0, 13), ("oem", 0, 3)):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = -1
            if not low <= number <= high or isinstance(value, (bool, float)):
                raise UsageError(f"Tesseract's {name} must be a whole number, {low} to {high}, not {value!r}")
            object.__setattr__(self, name, number)
        config = (self.config,) if isinstance(self.config, str) else tuple(self.config)
        for item in config:
            if not isinstance(item, str) or not _VARIABLE.match(item):
                raise UsageError(
                    f"a Tesseract setting is VARIABLE=VALUE (thresholding_method=2), not {item!r}"
                )
        object.__setattr__(self, "config", config)
        for name in ("user_words", "user_patterns"):
            path = getattr(self, name)
            if path is not None:
                if not os.path.isfile(path) or not os.access(path, os.R_OK):
                    raise UsageError(f"the {name.replace('_', ' ')} file cannot be read", file=str(path))
                object.__setattr__(self, name, os.path.abspath(path))

    @property
    def variables(self) -> dict[str, str]:
        """Tesseract's variables these settings set (the files as their variables)."""
        found = dict(item.split("=", 1) for item in self.config)
        if self.user_words is not None:
            found["user_words_file"] = self.user_words
        if self.user_patterns is not None:
            found["user_patterns_file"] = self.user_patterns
        return found

    def _command_options(self) -> list[str]:
        options = ["--psm", str(self.psm)] if self.psm is not None else []
        options += ["--oem", str(self.oem)] if self.oem is not None else []
        for name, value in self.variables.items():
            options += ["-c", f"{name}={value}"]
        return options

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
            settings = tesseract_api.Settings(self.psm, self.oem, tuple(sorted(self.variables.items())))
            return parse_hocr(tesseract_api.recognize_hocr(image, languages, dpi, settings))
        with _as_image_file(image) as path:
            hocr = run_tesseract(
                [
                    path,
                    "stdout",
                    "-l",
                    "+".join(languages),
                    "--dpi",
                    str(round(dpi)),
                    *self._command_options(),
                    "hocr",
                ],
                program=self.program,
            )
        return parse_hocr(hocr)

    def installed_languages(self) -> list[str]:
        return self._installed()

    def detect_script(self, image: Image.Image, *, dpi: float) -> str | None:
        if self._in_process:
            return tesseract_api.detect_script(image, dpi)
        return self._orientation_report(image, dpi).get("Script") or None

    def _orientation_report(self, image: Image.Image, dpi: float) -> dict[str, str]:
        """What ``tesseract --psm 0`` says of the page (empty when it can tell nothing)."""
        with _as_image_file(image) as path:
            try:
                report = run_tesseract(
                    [path, "stdout", "--psm", "0", "--dpi", str(round(dpi))], program=self.program
                )
            except EngineError:
                return {}  # "Too few characters": a blank page, a photo
        lines = report.decode("utf-8", "replace").splitlines()
        return dict((key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in lines))

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        if self._in_process:
            return tesseract_api.detect_rotation(image, dpi)
        found = self._orientation_report(image, dpi)
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

"""The Aspose OCR engine: optional (``pip install "pdfocr[aspose]"``, or
``scripts/setup-aspose.sh``, which also provides what it needs from the system).

Aspose OCR for Python wraps a .NET Core 3.1 runtime, and that shapes this module:

- The runtime aborts the whole process (SIGABRT: nothing can catch it) when it finds no
  ICU it knows or no OpenSSL 1.1, which Debian 12 and Ubuntu 22.04 no longer ship. So the
  calling process never imports it: :meth:`AsposeEngine.check` looks for what it needs
  from the outside, and the import happens only in pdfocr's worker processes, after
  switching the runtime to globalization-invariant mode and loading OpenSSL 1.1 from
  :func:`native_folder`. A process forked after the import hangs; pdfocr's workers start
  from a clean fork server and never fork.
- It writes a log file and a data folder into the current directory: logging to files is
  turned off, the data folder is moved, and model downloads are off (they fail offline),
  so only the languages bundled with the package are offered.
- Unlicensed, it cuts each page's text to a few hundred characters and appends a banner.
  pdfocr refuses to run it so unless evaluation is allowed, and the banner never reaches
  the text layer.
- It reports lines, not words: :mod:`.wordboxes` finds each word's box in the image.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from ..errors import DependencyError, EngineError, PdfocrWarning, UsageError
from ..model import Block, Box, Line, PageText
from . import EngineOption
from .wordboxes import line_with_words

DISTRIBUTION = "aspose-ocr-python-net"
LICENSE_VARIABLE = "PDFOCR_ASPOSE_LICENSE"
"""The environment variable naming the licence file when none is given explicitly."""
NATIVE_VARIABLE = "PDFOCR_NATIVE_DIR"
"""The environment variable that moves :func:`native_folder`."""
OPENSSL_LIBRARIES = ("libcrypto.so.1.1", "libssl.so.1.1")  # in load order: libssl needs libcrypto
SETUP_HINT = "run scripts/setup-aspose.sh (from pdfocr's source) with this Python environment active"
_SYSTEM_LIBRARY_FOLDERS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib")

# Tesseract language codes and the Aspose language each maps to, for the languages the
# package reads without downloading a model (measured with aspose-ocr-python-net 26.10:
# its Latin-script languages).
OFFLINE_LANGUAGES = {
    "afr": "AFR", "bos": "BOS", "cat": "CAT", "ceb": "CEB", "ces": "CES", "dan": "DAN",
    "deu": "DEU", "eng": "ENG", "est": "EST", "fin": "FIN", "fra": "FRA", "glg": "GLG",
    "hrv": "HRV", "hun": "HUN", "ind": "IND", "ita": "ITA", "kmr": "KMR", "lav": "LAV",
    "lit": "LIT", "msa": "MLY", "nld": "NLD", "nor": "NOR", "pol": "POL", "por": "POR",
    "ron": "RON", "slk": "SLK", "slv": "SLV", "spa": "SPA", "swa": "SWH", "swe": "SWE",
    "tgl": "TGL", "tur": "TUR", "vie": "VIE", "yor": "YOR",
}  # fmt: skip
# Languages Aspose reads only with a model it downloads at run time, by its model's script.
DOWNLOADED_LANGUAGES = {
    **dict.fromkeys(("rus", "ukr", "bel", "bul", "srp", "kaz", "mon"), "Cyrillic"),
    **dict.fromkeys(("ara", "fas", "urd", "uig"), "Arabic"),
    **dict.fromkeys(("hin", "mar", "nep"), "Devanagari"),
    **dict.fromkeys(("chi_sim", "chi_tra"), "Chinese"),
    "jpn": "Japanese", "kor": "Korean", "tam": "Tamil", "tel": "Telugu", "kan": "Kannada",
}  # fmt: skip

# What an unlicensed Aspose appends to the text, and the warning it reports with it.
_TRIAL_BANNER = re.compile(r"^\s*\*+\s*Trial Licenses?\s*\*+\s*$", re.IGNORECASE)
_TRIAL_WARNING = "trial licen"


def native_folder() -> Path:
    """Where pdfocr keeps what the Aspose engine needs from outside Python (OpenSSL 1.1,
    Aspose's data folder): ``$PDFOCR_NATIVE_DIR``, else ``lib/pdfocr-native`` in the
    Python environment (where ``scripts/setup-aspose.sh`` puts it)."""
    configured = os.environ.get(NATIVE_VARIABLE)
    return Path(configured) if configured else Path(sys.prefix) / "lib" / "pdfocr-native"


def openssl_folder() -> Path | None:
    """The folder holding OpenSSL 1.1's libraries: pdfocr's own, else the system's."""
    for folder in (native_folder() / "openssl-1.1", *map(Path, _SYSTEM_LIBRARY_FOLDERS)):
        if all((folder / library).is_file() for library in OPENSSL_LIBRARIES):
            return folder
    return None


def aspose_language(languages: Sequence[str]) -> str:
    """The Aspose language for Tesseract-style ``languages``; raises
    :class:`DependencyError` for one it cannot read offline."""
    for code in languages:
        if code in DOWNLOADED_LANGUAGES:
            raise DependencyError(
                f"the aspose engine cannot read {code} offline: it needs Aspose's "
                f"{DOWNLOADED_LANGUAGES[code]} model, downloaded at run time, which pdfocr does "
                f"not allow; use --engine tesseract for {code}"
            )
        if code not in OFFLINE_LANGUAGES:
            raise DependencyError(
                f"the aspose engine has no language {code!r} "
                f"(it reads: {', '.join(sorted(OFFLINE_LANGUAGES))})"
            )
    # One language per recognition: several (all Latin-script) read with the Latin model.
    return OFFLINE_LANGUAGES[languages[0]] if len(languages) == 1 else "LATIN"


def _package_version() -> str | None:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class AsposeEngine:
    """OCR with Aspose OCR for Python via .NET.

    ``license``: the licence file (default: ``$PDFOCR_ASPOSE_LICENSE``). Without one,
    Aspose cuts each page's text short (to a few lines, at most ~300 characters), so pdfocr
    refuses to run unless ``allow_evaluation`` is set (and then warns)."""

    license: str | None = None
    allow_evaluation: bool = False
    name: str = "aspose"
    license_origin: str = field(default="--aspose-license", init=False, repr=False, compare=False)
    """Where the licence path came from, for messages."""

    needs_worker_process: ClassVar[bool] = True
    """Never load this engine in the calling process (see the module's notes)."""

    cli_options: ClassVar[tuple[EngineOption, ...]] = (
        EngineOption(
            "--aspose-license",
            "license",
            f"licence file for --engine aspose (default: ${LICENSE_VARIABLE})",
            metavar="FILE",
        ),
        EngineOption(
            "--allow-evaluation",
            "allow_evaluation",
            "let --engine aspose run unlicensed, its text cut to a few hundred characters a page",
        ),
    )

    def __post_init__(self) -> None:
        license, origin = self.license, "--aspose-license"
        if license is None:
            license, origin = os.environ.get(LICENSE_VARIABLE) or None, f"${LICENSE_VARIABLE}"
        if license is not None:
            if not os.fspath(license).strip():
                raise UsageError(f"the Aspose licence path ({origin}) is empty")
            license = os.path.abspath(os.fspath(license))
        object.__setattr__(self, "license", license)
        object.__setattr__(self, "license_origin", origin)

    def describe(self) -> str:
        """One line for ``pdfocr --list-engines``."""
        if self.license is not None:
            licence = f"licence {self.license} (checked when a page is read)"
        else:
            licence = "no licence: runs only with --allow-evaluation, text cut short"
        languages = ", ".join(sorted(OFFLINE_LANGUAGES))
        return f"Aspose OCR {_package_version()}; {licence}; languages: {languages}"

    def check(self, languages: Sequence[str]) -> None:
        """The engine's native needs; with languages (a run), also the licence."""
        if _package_version() is None:
            raise DependencyError(
                f"the aspose engine needs the {DISTRIBUTION} package: "
                f'pip install "pdfocr[aspose]", or {SETUP_HINT}'
            )
        if sys.platform.startswith("linux") and openssl_folder() is None:
            raise DependencyError(
                "the aspose engine needs OpenSSL 1.1 (libssl.so.1.1), which this system does not "
                f"have; {SETUP_HINT} (it unpacks Debian 11's libssl1.1 into "
                f"{native_folder() / 'openssl-1.1'}), or set {NATIVE_VARIABLE} to a folder whose "
                "openssl-1.1 subfolder holds libssl.so.1.1 and libcrypto.so.1.1"
            )
        if not languages:
            return
        if self.license is not None:
            self._check_license_file()
        elif not self.allow_evaluation:
            raise UsageError(
                "the aspose engine needs a licence: without one Aspose cuts each page's text "
                "short (to a few lines); give --aspose-license FILE (or set "
                f"{LICENSE_VARIABLE}), or pass --allow-evaluation to accept truncated text"
            )
        aspose_language(languages)
        if self.license is None:
            warnings.warn(
                "Aspose OCR runs unlicensed (evaluation): each page's text is cut short, to a "
                "few lines at most",
                PdfocrWarning,
                stacklevel=2,
            )

    def _check_license_file(self) -> None:
        assert self.license is not None
        if os.path.isdir(self.license):
            problem = "is a folder, not a licence file"
        elif not os.path.exists(self.license):
            problem = "not found"
        elif not os.access(self.license, os.R_OK):
            problem = "cannot be read (permission denied)"
        else:
            return
        raise UsageError(f"the Aspose licence ({self.license_origin}) {problem}", file=self.license)

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        ocr, api = _loaded(self.license)
        settings = ocr.RecognitionSettings()
        settings.language = getattr(ocr.Language, aspose_language(languages))
        settings.threads_count = 1  # one page per core: pdfocr runs pages in parallel itself
        with tempfile.TemporaryDirectory(prefix="pdfocr-aspose-") as folder:
            # Aspose reads images from files; an uncompressed BMP is the cheapest to hand over.
            path = os.path.join(folder, "page.bmp")
            image.save(path, format="BMP")
            request = ocr.OcrInput(ocr.InputType.SINGLE_IMAGE)
            request.add(path)
            try:
                results = api.recognize(request, settings)
            except RuntimeError as error:
                raise EngineError(f"Aspose OCR failed: {_reason(error)}") from None
        if len(results) != 1:
            raise EngineError(f"Aspose OCR returned {len(results)} results for one page")
        return self._page_text(results[0], image)

    def _page_text(self, result: Any, image: Image.Image) -> PageText:
        text_lines = str(result.recognition_text).splitlines()
        trial = any(_TRIAL_WARNING in str(warning).lower() for warning in result.warnings) or any(
            _TRIAL_BANNER.match(line) for line in text_lines
        )
        if trial and not self.allow_evaluation:
            where = f"the licence {self.license}" if self.license else "no licence"
            raise EngineError(
                f"Aspose OCR ran in evaluation mode with {where}, and would cut the text short; "
                "check the licence, or pass --allow-evaluation to accept truncated text"
            )
        pieces = []
        for found in result.recognition_lines_result:
            text = str(found.text_in_line).strip()
            if not text or _TRIAL_BANNER.match(text):
                continue
            rectangle = found.line
            box = Box(rectangle.x, rectangle.y, rectangle.x + rectangle.width, rectangle.y + rectangle.height)
            pieces.append(line_with_words(image, text, box, confidence=_percent(found.confidence)))
        read = [line.strip() for line in text_lines if line.strip() and not _TRIAL_BANNER.match(line)]
        lines = _as_read(pieces, read)
        if trial:
            # The evaluation's line results run on to the end of the last line its text
            # reaches; keep no more than the evaluation text itself.
            lines = _cut_to_text(lines, "\n".join(read))
        blocks = (Block(tuple(lines)),) if lines else ()
        return PageText(width=image.width, height=image.height, blocks=blocks)


def _as_read(pieces: list[Line], read: list[str]) -> list[Line]:
    """``pieces`` joined into the lines of Aspose's own text, ``read``. Aspose reports each
    cell of a table row as a line of its own, but its text puts the row on one line
    ("Item Qty Price"): follow the text. Pieces the text does not account for (it is cut
    short in evaluation mode, or reads differently) stay lines of their own."""
    lines: list[Line] = []
    start = 0
    for target in read:
        joined, end = "", start
        while end < len(pieces) and (not joined or target.startswith(joined)):
            joined = f"{joined} {pieces[end].text}" if joined else pieces[end].text
            end += 1
            # A target shorter than its pieces is an evaluation text cut inside them.
            if joined == target or joined.startswith(target):
                break
        if not (joined == target or joined.startswith(target)):
            break
        group = pieces[start:end]
        lines.append(
            Line(
                words=tuple(word for piece in group for word in piece.words),
                box=Box(
                    min(piece.box.left for piece in group),
                    min(piece.box.top for piece in group),
                    max(piece.box.right for piece in group),
                    max(piece.box.bottom for piece in group),
                ),
            )
        )
        start = end
    return lines + pieces[start:]


def _cut_to_text(lines: list[Line], allowed: str) -> list[Line]:
    """The leading ``lines`` whose text ``allowed`` holds, the last one cut where it is."""
    kept: list[Line] = []
    remaining = allowed.strip()
    for line in lines:
        text = line.text
        if not remaining:
            break
        if remaining.startswith(text):
            kept.append(line)
            remaining = remaining[len(text) :].lstrip()
            continue
        if text.startswith(remaining):
            # The cut falls inside this line: keep its words up to there (boxes as found).
            words = remaining.split()
            cut = [*line.words[: len(words) - 1], replace(line.words[len(words) - 1], text=words[-1])]
            kept.append(replace(line, words=tuple(cut)))
        break
    return kept


def _percent(confidence: object) -> float | None:
    try:
        value = float(confidence)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    # Aspose 26.10 reports 0.0 for every line: no information.
    if value <= 0:
        return None
    return value * 100 if value <= 1 else value


def _reason(error: BaseException) -> str:
    # "Proxy error(InvalidOperationException): Failed to ... ---> InnerException: ..."
    message = str(error).removeprefix("Proxy error")
    message = re.sub(r"^\([A-Za-z]*\):?\s*", "", message)
    return message.split(" ---> ")[0].strip() or type(error).__name__


@functools.cache
def _loaded(license: str | None) -> tuple[Any, Any]:
    """``aspose.ocr`` and a warm recognizer, loaded once per worker process."""
    # Without ICU the runtime it knows, .NET Core 3.1 aborts the process; invariant mode
    # needs none. A user who set an ICU override knows better.
    if "CLR_ICU_VERSION_OVERRIDE" not in os.environ:
        os.environ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1"
    openssl = openssl_folder()
    if openssl is not None:
        _load_openssl(openssl)
    import aspose.ocr as ocr  # here, never at the top: only ever in a worker process

    ocr.Logging.set_file_system(False)
    ocr.Logging.set_console(False)
    ocr.Resources.set_local_path(str(_data_folder()))
    ocr.Resources.allow_automatic_downloads(False)
    # pdfocr runs one page per core; ONNX Runtime's own default of 8 threads per process
    # oversubscribes the CPU (measured on 2 cores: a page took 2.2 times as long).
    sessions = ocr.OnnxRuntimeSessionOptions
    sessions.set_intra_op_num_threads(1)
    sessions.set_inter_op_num_threads(1)
    sessions.set_execution_mode(ocr.ExecutionModeOnnx.ORT_SEQUENTIAL)
    if license is not None:
        try:
            ocr.License().set_license(license)
        except RuntimeError as error:
            reason = _reason(error)
            raise EngineError(f"the Aspose licence was not accepted: {reason}", file=license) from None
    return ocr, ocr.AsposeOcr()


def _load_openssl(folder: Path) -> None:
    """Load OpenSSL 1.1 from ``folder``, globally, so that the .NET runtime's own
    dlopen("libssl.so.1.1") finds it loaded; a broken or wrong library is reported here,
    before .NET would abort the process over it."""
    hint = f"{SETUP_HINT} to put a working copy in {native_folder() / 'openssl-1.1'}"
    try:
        crypto, _ = (
            ctypes.CDLL(str(folder / library), mode=ctypes.RTLD_GLOBAL) for library in OPENSSL_LIBRARIES
        )
        crypto.OpenSSL_version_num.restype = ctypes.c_ulong
        version = crypto.OpenSSL_version_num()
    except (OSError, AttributeError) as error:
        raise DependencyError(f"OpenSSL 1.1 in {folder} cannot be loaded ({error}); {hint}") from None
    if version >> 20 != 0x101:  # 0xMNN00PPSL: 1.1.x
        raise DependencyError(f"the OpenSSL in {folder} is not version 1.1 (0x{version:x}); {hint}")


def _data_folder() -> Path:
    """Aspose's data folder (it insists on one): pdfocr's native folder when it can be
    written, else one in the user's cache folder; never the working directory."""
    native = native_folder()
    if native.is_dir() and os.access(native, os.W_OK):
        return native / "aspose-data"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "pdfocr" / "aspose-data"

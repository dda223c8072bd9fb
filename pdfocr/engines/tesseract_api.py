"""Tesseract in-process, through tesserocr: the model stays loaded between pages.

Running the ``tesseract`` command costs a process start, a model load and an image file
per page; in-process, a worker keeps one initialised API per language set and hands it
the page image directly. tesserocr's wheels bundle their own libtesseract (no OpenMP, so
one page uses one core) and read the language data that Debian's packages install.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

from PIL import Image

from ..errors import DependencyError, EngineError

try:
    import tesserocr
except ImportError:  # the CLI backend serves instead
    tesserocr = None

# Where distributions put the language data, newest first.
_TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
# Initialised APIs, per thread (an API is not thread-safe) and per data folder and
# language set. Recognition releases the GIL, so threads run pages in parallel.
_warm = threading.local()
_MAX_WARM_PER_THREAD = 4


def available() -> bool:
    """Whether tesserocr is installed."""
    return tesserocr is not None


@cache
def tessdata_folder() -> str:
    """The folder holding ``*.traineddata``: $TESSDATA_PREFIX, the one the ``tesseract``
    command reports, or a distribution's usual place."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")]
    try:
        listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
        found = re.search(r'"([^"]+)"', listing.stdout + listing.stderr)
        candidates.append(found.group(1) if found else "")
    except (OSError, subprocess.SubprocessError):
        pass
    for pattern in _TESSDATA_GLOBS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for folder in candidates:
        if folder and glob.glob(os.path.join(folder, "*.traineddata")):
            return folder.rstrip("/") + "/"
    raise DependencyError(
        "no Tesseract language data found (set TESSDATA_PREFIX, or: sudo apt-get install tesseract-ocr-eng)"
    )


def installed_languages() -> list[str]:
    names = (os.path.basename(path) for path in glob.glob(tessdata_folder() + "*.traineddata"))
    return sorted(name.removesuffix(".traineddata") for name in names)


class Settings(NamedTuple):
    """Tesseract's own options for a page: its page segmentation and engine modes (None:
    its defaults) and variables, some of which (the user words and patterns files) take
    effect only when an API is made."""

    psm: int | None = None
    oem: int | None = None
    variables: tuple[tuple[str, str], ...] = ()


DEFAULT_SETTINGS = Settings()


def _api(languages: str, page_mode: Any, settings: Settings = DEFAULT_SETTINGS) -> Any:
    assert tesserocr is not None
    apis: dict[tuple[str, str, Any, Settings], Any] = _warm.__dict__.setdefault("apis", {})
    key = (tessdata_folder(), languages, page_mode, settings)
    if key not in apis:
        if len(apis) >= _MAX_WARM_PER_THREAD:
            apis.pop(next(iter(apis))).End()
        oem = tesserocr.OEM.DEFAULT if settings.oem is None else settings.oem
        try:
            apis[key] = tesserocr.PyTessBaseAPI(
                path=key[0], lang=languages, psm=page_mode, oem=oem, variables=dict(settings.variables)
            )
        except RuntimeError as error:
            raise EngineError(f"tesseract could not load {languages}: {error}") from None
    return apis[key]


def _hand_over(api: Any, image: Image.Image, dpi: float) -> None:
    """Give the API the image's pixels as they are: no encoding, no file."""
    pixels = image if image.mode in ("L", "RGB") else image.convert("L" if image.mode == "1" else "RGB")
    depth = len(pixels.getbands())
    api.SetImageBytes(pixels.tobytes(), pixels.width, pixels.height, depth, pixels.width * depth)
    api.SetSourceResolution(round(dpi))


def recognize_hocr(
    image: Image.Image, languages: Sequence[str], dpi: float, settings: Settings = DEFAULT_SETTINGS
) -> bytes:
    """The page's hOCR, recognised by a warm API."""
    assert tesserocr is not None
    page_mode = tesserocr.PSM.AUTO if settings.psm is None else settings.psm
    api = _api("+".join(languages), page_mode, settings)
    try:
        _hand_over(api, image, dpi)
        hocr = api.GetHOCRText(0)
    except RuntimeError as error:  # tesserocr's word for "Tesseract refused the image"
        raise EngineError(f"tesseract could not read the page ({error})") from None
    finally:
        api.Clear()
    if hocr is None:
        raise EngineError("tesseract could not recognise the page")
    return str(hocr).encode("utf-8")


def _orientation_and_script(image: Image.Image, dpi: float) -> dict[str, Any] | None:
    """Tesseract's orientation and script detection (OSD); None: too little text to tell."""
    assert tesserocr is not None
    api = _api("osd", tesserocr.PSM.OSD_ONLY)
    _hand_over(api, image, dpi)
    try:
        found = api.DetectOrientationScript()
    finally:
        api.Clear()
    return dict(found) if found else None


def detect_rotation(image: Image.Image, dpi: float) -> tuple[int, float] | None:
    """Clockwise degrees that turn the page upright and the confidence (Tesseract OSD)."""
    found = _orientation_and_script(image, dpi)
    if found is None:
        return None
    return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])


def detect_script(image: Image.Image, dpi: float) -> str | None:
    """The script the page is written in, by Tesseract's names (OSD)."""
    found = _orientation_and_script(image, dpi)
    return str(found["script_name"]) if found and found.get("script_name") else None

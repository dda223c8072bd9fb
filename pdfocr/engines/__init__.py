"""OCR engines behind one small protocol.

An engine turns a page image into a :class:`~pdfocr.model.PageText`; it never draws PDF.
Engines are plain picklable objects: the pipeline resolves one in the calling process,
checks it, and sends it to the worker processes with each page. An engine may also have:

- ``describe() -> str``: one line for ``pdfocr --list-engines`` when it is ready;
- ``detect_rotation`` (:class:`OrientationDetector`), for ``rotate_pages``;
- ``reconsider`` (:class:`SecondOpinion`): another reading of a page read poorly;
- ``detect_script`` and ``installed_languages`` (:class:`ScriptDetector`), for pages in
  languages nobody named;
- ``needs_worker_process = True``: its native code must never load in the calling
  process. ``check`` must then work without loading it. (Pages always run in workers;
  this also keeps ``pdfocr --list-engines`` and the checks from loading it.)

An engine's factory (its class) may declare ``cli_options``, a tuple of
:class:`EngineOption`: the ``pdfocr`` command offers them and hands their values to the
factory as settings, so the command needs to know nothing about any engine.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol, runtime_checkable

from PIL import Image

from ..errors import DependencyError, EngineError, PdfocrError, UsageError
from ..model import PageText


@runtime_checkable
class OcrEngine(Protocol):
    """What pdfocr needs of an OCR engine."""

    @property
    def name(self) -> str:
        """The engine's name, as ``--engine`` takes it."""
        ...

    def check(self, languages: Sequence[str]) -> None:
        """Raise :class:`~pdfocr.errors.DependencyError` unless the engine and every one of
        ``languages`` are installed; the message says what is missing and how to get it.
        With no languages, checks only that the engine itself can run."""

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        """Recognise the text of ``image`` (mode 1, L or RGB) scanned at ``dpi``.

        Raises :class:`~pdfocr.errors.EngineError` when recognition fails."""
        ...


@runtime_checkable
class OrientationDetector(Protocol):
    """An engine that can also tell which way up a page is (for ``rotate_pages``)."""

    def detect_rotation(self, image: Image.Image, *, dpi: float) -> tuple[int, float] | None:
        """Degrees clockwise (0, 90, 180 or 270) that turn ``image`` upright, and the
        confidence of that; None when the page has too little text to tell."""
        ...


@runtime_checkable
class ScriptDetector(Protocol):
    """An engine that can tell a page's script and lists its languages (for languages
    nobody named, see :mod:`pdfocr.languages`)."""

    def detect_script(self, image: Image.Image, *, dpi: float) -> str | None:
        """The script the page is written in, by Tesseract's names (``Latin``, ``Han``,
        ``Cyrillic``...); None when there is too little text to tell."""
        ...

    def installed_languages(self) -> list[str]:
        """The language codes the engine can read here."""
        ...


@runtime_checkable
class SecondOpinion(Protocol):
    """An engine that may read a page again another way when its first reading is poor
    (the ``auto`` engine: RapidOCR where Tesseract fails)."""

    def reconsider(
        self, image: Image.Image, text: PageText, *, languages: Sequence[str], dpi: float
    ) -> tuple[PageText, str]:
        """The better of ``text`` (this engine's reading of ``image``) and any other
        reading it makes, and the name of the engine that read the one returned."""
        ...


@contextlib.contextmanager
def engine_boundary(engine: OcrEngine) -> Iterator[None]:
    """Calls into an engine: whatever it raises that is not a pdfocr error is the engine
    failing on the page (an :class:`~pdfocr.errors.EngineError`, which ``skip_bad_pages``
    skips), not a bug of pdfocr's."""
    try:
        yield
    except PdfocrError:
        raise
    except Exception as error:
        failure = EngineError(f"the {engine.name} engine failed: {type(error).__name__}: {error}")
        failure.detail = traceback.format_exc()
        raise failure from error


@dataclass(frozen=True)
class EngineOption:
    """A command-line option an engine declares: ``flag`` sets the factory's keyword
    ``setting`` (to the value given, or to True for a switch)."""

    flag: str
    """The option as typed, e.g. ``--aspose-license``."""
    setting: str
    help: str
    metavar: str | None = None
    """The value's name in ``--help``; None makes the option a switch that takes none."""
    repeated: bool = False
    """The option may be given more than once; the setting is then the tuple of values."""


ENTRY_POINT_GROUP = "pdfocr.engines"
"""Engines register under this entry point group, built-in ones included: in a package's
``pyproject.toml``, ``[project.entry-points."pdfocr.engines"] name = "module:Factory"``,
where calling ``Factory()`` with no arguments gives the engine."""


@dataclass(frozen=True)
class EngineStatus:
    """What ``pdfocr --list-engines`` shows for one engine."""

    name: str
    ready: bool
    detail: str
    """Why it is not ready (and how to fix it), or a short description when it is."""


def _registered() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def resolve_engine(engine: str | OcrEngine, **settings: object) -> OcrEngine:
    """The engine named ``engine``, made with ``settings`` (keyword arguments of its
    factory, e.g. ``allow_evaluation=True`` for ``aspose``); or ``engine`` itself when it
    already is one."""
    if not isinstance(engine, str):
        if not isinstance(engine, OcrEngine):
            raise UsageError(f"{engine!r} is not an OCR engine")
        if settings:
            raise UsageError("engine settings go to the engine's constructor, not with an engine object")
        return engine
    registered = _registered()
    if engine not in registered:
        known = ", ".join(sorted(registered)) or "none"
        raise UsageError(f"unknown engine {engine!r} (available: {known})")
    try:
        factory = registered[engine].load()
    except ImportError as error:
        raise DependencyError(f"the {engine} engine cannot be loaded: {error}") from None
    try:
        found = factory(**settings)
    except TypeError as error:
        if not settings:
            raise
        names = ", ".join(sorted(settings))
        raise UsageError(f"the {engine} engine does not take the settings {names} ({error})") from None
    if not isinstance(found, OcrEngine):
        raise UsageError(f"the {engine} engine's entry point does not give an OCR engine")
    return found


def engine_options() -> dict[str, tuple[EngineOption, ...]]:
    """The command-line options of every registered engine that declares some (engines
    that cannot even be imported are left out: ``--list-engines`` says why)."""
    found: dict[str, tuple[EngineOption, ...]] = {}
    for name, entry in sorted(_registered().items()):
        try:
            factory = entry.load()
        except Exception:
            continue
        options = tuple(getattr(factory, "cli_options", ()))
        if options:
            found[name] = options
    return found


def engine_statuses() -> list[EngineStatus]:
    """Every registered engine, and whether it can run here (and if not, why)."""
    statuses = []
    for name in sorted(_registered()):
        try:
            engine = resolve_engine(name)
            engine.check(())
            describe = getattr(engine, "describe", None)
            detail = describe() if callable(describe) else "ready"
        except PdfocrError as error:
            statuses.append(EngineStatus(name, False, str(error)))
        except Exception as error:  # a third-party engine that breaks in its own way
            statuses.append(EngineStatus(name, False, f"{type(error).__name__}: {error}"))
        else:
            statuses.append(EngineStatus(name, True, str(detail)))
    return statuses

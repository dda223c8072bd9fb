"""Fake OCR engines for fast, deterministic pipeline tests (never instead of Tesseract).

They live in a module of their own so that worker processes can import them by name.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pdfocr.errors import EngineError
from pdfocr.model import Block, Box, Line, PageText, Word

BASE_WIDTH = 100


def page_of_width(index: int) -> Image.Image:
    """A blank page whose width tells the fake engines which page it is."""
    return Image.new("L", (BASE_WIDTH + index, 200), 255)


def png_pages(count: int) -> list[bytes]:
    """``count`` blank pages as PNG bytes, page N read by the fake engines as "page N"."""
    pages = []
    for index in range(count):
        buffer = io.BytesIO()
        page_of_width(index).save(buffer, format="PNG")
        pages.append(buffer.getvalue())
    return pages


def _one_word_page(image: Image.Image, text: str) -> PageText:
    box = Box(10, 20, 90, 40)
    line = Line(words=(Word(text, box),), box=box, baseline=40)
    return PageText(width=image.width, height=image.height, blocks=(Block((line,)),))


@dataclass(frozen=True)
class LabelEngine:
    """Reads "page N" off the page's width; earlier pages take longer, so pages finish
    out of order whenever more than one runs at a time."""

    name: str = "label"
    slowest: float = 0.4

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        index = image.width - BASE_WIDTH
        time.sleep(max(0.0, self.slowest - 0.05 * index))
        return _one_word_page(image, f"page{index}")


@dataclass(frozen=True)
class GatedEngine:
    """Reads "page N" off the page's width, like :class:`LabelEngine`, but holds the pages
    numbered in ``held`` until the file ``gate`` exists: the test decides when they finish
    (after another page has come back; never, for a job past its deadline), so an order
    or a deadline is certain rather than a race against the machine's speed. A page held
    ``seconds`` without the gate opening fails, so that a test's mistake is not a hang."""

    gate: str
    held: tuple[int, ...] = (0,)
    seconds: float = 120.0
    name: str = "gated"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        index = image.width - BASE_WIDTH
        if index in self.held:
            given_up = time.monotonic() + self.seconds
            while not os.path.exists(self.gate):
                if time.monotonic() > given_up:
                    raise EngineError(f"page {index} was held {self.seconds:g} s and never released")
                time.sleep(0.01)
        return _one_word_page(image, f"page{index}")


GATE_VARIABLE = "PDFOCR_TEST_GATE"


def gated_engine() -> GatedEngine:
    """The :class:`GatedEngine` holding page 0, its gate the file named by
    ``$PDFOCR_TEST_GATE``: for a process that makes its engine by name, from an entry
    point, whose factory takes no arguments (``pdfocr serve``)."""
    return GatedEngine(gate=os.environ[GATE_VARIABLE])


@dataclass(frozen=True)
class FixedEngine:
    """Gives one reading whatever the page (a second engine's, for the auto engine)."""

    reading: PageText
    name: str = "fixed"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        return self.reading


@dataclass(frozen=True)
class FailingEngine:
    """Fails on one page, the way an engine reports an error."""

    fail_on: int
    name: str = "failing"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        if image.width - BASE_WIDTH == self.fail_on:
            raise EngineError("engine exploded")
        return _one_word_page(image, "fine")


@dataclass(frozen=True)
class CrashingEngine:
    """Kills its worker process on one page, like an engine that segfaults (``signal``)
    or calls exit() (``signal=None``). The other pages take ``seconds`` each, so that they
    are in flight when the crash comes."""

    crash_on: int
    signal: int | None = None
    seconds: float = 0.0
    name: str = "crashing"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        if image.width - BASE_WIDTH == self.crash_on:
            time.sleep(0.2)  # let the other pages get going
            if self.signal is None:
                os._exit(70)
            os.kill(os.getpid(), self.signal)
        time.sleep(self.seconds)
        return _one_word_page(image, "fine")


@dataclass(frozen=True)
class HangingEngine:
    """Never comes back from one page, like an engine stuck in a loop."""

    hang_on: int
    name: str = "hanging"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        if image.width - BASE_WIDTH == self.hang_on:
            while True:
                time.sleep(3600)
        return _one_word_page(image, "fine")


@dataclass(frozen=True)
class SlowEngine:
    """Takes its time on every page, for cancellation tests; with ``started``, it first
    creates the file ``{started}-{page}`` so that a test can wait for a page to be under
    way instead of guessing how long that takes."""

    seconds: float = 30.0
    started: str | None = None
    name: str = "slow"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        if self.started is not None:
            Path(f"{self.started}-{image.width - BASE_WIDTH}").touch()
        time.sleep(self.seconds)
        return _one_word_page(image, "late")


@dataclass(frozen=True)
class PidEngine:
    """Answers with the id of the worker process that read the page, after a pause."""

    seconds: float = 0.05
    name: str = "pid"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        time.sleep(self.seconds)
        return _one_word_page(image, f"pid{os.getpid()}")


@dataclass(frozen=True)
class EchoEngine:
    """Finds one word, "text", covering the whole page: fast, for pages of any size."""

    name: str = "echo"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        box = Box(0, 0, image.width, image.height)
        line = Line(words=(Word("text", box),), box=box)
        return PageText(width=image.width, height=image.height, blocks=(Block((line,)),))


_DEAF_HELPER = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(flush=True)
while True:
    time.sleep(3600)
"""


@dataclass(frozen=True)
class HungCheckEngine:
    """Its check never comes back, like one waiting on a licence server that does not
    answer: a conversion asked to stop (a first Ctrl-C) cannot, as it only stops where it
    looks at its cancel event. Below the caller it leaves a helper process deaf to SIGTERM
    (the engine's own program), then creates ``hung-check-{pid}`` in the temporary folder
    as a sign for the tests that the check is under way."""

    name: str = "hung-check"

    def check(self, languages: Sequence[str]) -> None:
        helper = subprocess.Popen([sys.executable, "-c", _DEAF_HELPER], stdout=subprocess.PIPE)
        assert helper.stdout is not None
        helper.stdout.readline()  # deaf by now
        Path(tempfile.gettempdir(), f"hung-check-{os.getpid()}").touch()
        while True:
            time.sleep(3600)  # signal handlers still run in between, then the sleep goes on

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        raise AssertionError("never called: the check does not come back")


@dataclass(frozen=True)
class FlakyEngine:
    """Kills its worker on every odd page, after a pause: a bundle full of bad pages."""

    seconds: float = 0.2
    name: str = "flaky"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        time.sleep(self.seconds)
        if (image.width - BASE_WIDTH) % 2:
            os._exit(70)
        return _one_word_page(image, "fine")


@dataclass(frozen=True)
class RaisingEngine:
    """Fails the way third-party code does: a plain exception, not a pdfocr error."""

    name: str = "raising"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        raise RuntimeError("model file is damaged")


@dataclass(frozen=True)
class MalformedEngine:
    """Answers with text that is not a page model: pdfocr's own code then fails on it in
    the worker, which is how a bug of pdfocr's shows (an internal error)."""

    name: str = "malformed"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        return PageText(width=image.width, height=image.height, blocks=("not a block",))  # type: ignore[arg-type]


class LicenceExpired(EngineError):
    """An engine's own error class, with a constructor of its own."""

    def __init__(self, product: str) -> None:
        super().__init__(f"the {product} licence has expired")


@dataclass(frozen=True)
class ExpiredEngine:
    """Fails every page with its own error class."""

    name: str = "expired"

    def check(self, languages: Sequence[str]) -> None:
        pass

    def recognize(self, image: Image.Image, *, languages: Sequence[str], dpi: float) -> PageText:
        raise LicenceExpired("OCR")


@dataclass(frozen=True)
class UncheckableEngine(EchoEngine):
    """Its check fails the way third-party code does."""

    name: str = "uncheckable"

    def check(self, languages: Sequence[str]) -> None:
        raise OSError("model folder missing")

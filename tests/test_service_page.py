"""The service's page for people, in a real browser: Debian's Chromium driven by Playwright
(from PyPI; no browser is downloaded), against a real ``pdfocr serve`` on 127.0.0.1."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from conftest import pdftotext, until
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from serving import Server, make_token

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CHROMIUM = "/usr/bin/chromium"
# As root, in a closed network: no sandbox, and none of Chromium's own connections out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    data = tmp_path_factory.mktemp("page") / "data"
    token = make_token(data)
    with Server(data, "-j", "2") as server:
        yield server, token


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


REFUSED: dict[int, list[str]] = {}
"""Per page (by id), the requests the service answered with an error."""


@pytest.fixture
def page(browser: Browser, served: tuple[Server, str]) -> Iterator[Page]:
    server, _ = served
    context = browser.new_context(accept_downloads=True)
    opened = context.new_page()
    requested: list[str] = []
    opened.on("request", lambda request: requested.append(request.url))
    refused = REFUSED.setdefault(id(opened), [])
    opened.on("response", lambda answer: refused.append(answer.url) if answer.status >= 400 else None)
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.goto(server.url + "/")
    yield opened
    # Nothing was fetched from anywhere but the service (and the page's own blobs), and
    # the page's script met no error (a refused request is the browser's own log line).
    assert all(url.startswith((server.url, "blob:", "data:")) for url in requested), requested
    assert not [error for error in errors if not error.startswith("Failed to load resource")], errors
    context.close()


def test_pick_files_convert_and_download(page: Page, served: tuple[Server, str], tmp_path: Path) -> None:
    _, token = served
    page.fill("#token", token)
    page.set_input_files("#files", [str(SAMPLES / "page1.png"), str(SAMPLES / "page10.tif")])
    assert page.locator("#chosen li").all_inner_texts()[0].startswith("page1.png")
    page.click("#convert")
    page.wait_for_selector(".job-download:not([hidden])", timeout=120_000)
    state = page.locator(".job-state").inner_text()
    assert state.startswith("succeeded") and "of 3 pages" in state
    with page.expect_download() as download:
        page.click(".job-download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "page1-searchable.pdf"
    with pikepdf.open(saved) as document:
        assert len(document.pages) == 3
    assert "memo number" in pdftotext(saved)
    assert not REFUSED[id(page)]


def test_dropped_files_are_converted(page: Page, served: tuple[Server, str]) -> None:
    _, token = served
    page.fill("#token", token)
    encoded = base64.b64encode((SAMPLES / "page3.png").read_bytes()).decode()
    page.evaluate(
        """(encoded) => {
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
            const zone = document.getElementById("drop-zone");
            for (const type of ["dragover", "drop"]) {
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                zone.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        encoded,
    )
    assert page.locator("#chosen li").all_inner_texts()[0].startswith("dropped.png")
    page.click("#convert")
    page.wait_for_selector(".job-download:not([hidden])", timeout=120_000)
    assert page.locator(".job-name").first.inner_text() == "dropped.png"
    assert not REFUSED[id(page)]


def test_a_wrong_token_is_said_on_the_page(page: Page) -> None:
    page.fill("#token", "pdfocr_wrong")
    page.set_input_files("#files", [str(SAMPLES / "page3.png")])
    page.click("#convert")
    page.wait_for_selector("#form-message.error")
    assert "not one this service knows" in page.locator("#form-message").inner_text()
    assert page.locator(".job").count() == 0


def test_search_shows_the_page_with_the_words_lit(page: Page, served: tuple[Server, str]) -> None:
    _, token = served
    page.fill("#token", token)
    page.set_input_files("#files", [str(SAMPLES / "page1.png")])
    page.click("#convert")
    page.wait_for_selector(".job-download:not([hidden])", timeout=120_000)
    assert page.locator("#search-section").is_visible()
    page.fill("#query", '"twelve percent"')
    page.press("#query", "Enter")
    page.wait_for_selector(".hit")
    # This token's jobs in this module so far hold the line too; this one is its own hit.
    first = page.locator(".hit", has_text="page1.png, page 1")
    assert first.locator("mark").all_inner_texts() == ["twelve percent"]
    first.click()
    # (Polled from here: the page's CSP forbids the eval that wait_for_function uses.)
    until(lambda: page.evaluate("() => document.getElementById('hit-image').naturalWidth") > 0, 30)
    assert page.locator("#hit-view").is_visible()
    # Two words lit, each over the image, side by side on one line, in the page's middle
    # band where page1.png has that line (the boxes scaled from PDF points).
    image = page.locator("#hit-image").bounding_box()
    lit = [box for box in (item.bounding_box() for item in page.locator(".highlight").all()) if box]
    assert image and len(lit) == 2
    for box in lit:
        assert image["x"] <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"]
        assert image["y"] + 0.1 * image["height"] < box["y"] < image["y"] + 0.5 * image["height"]
        assert 0 < box["height"] < 0.05 * image["height"]
    assert lit[0]["x"] + lit[0]["width"] <= lit[1]["x"] and abs(lit[0]["y"] - lit[1]["y"]) < 2
    # The lit pixels are the words' ink: dark pixels under each box.
    shot = Image.open(io.BytesIO(page.locator(".highlight").first.screenshot())).convert("L")
    assert shot.getextrema()[0] < 100
    page.fill("#query", "zzzyzzy")
    page.press("#query", "Enter")
    page.wait_for_selector("#search-message:has-text('No page holds that')")
    assert page.locator(".hit").count() == 0
    assert not REFUSED[id(page)]

"""``pdfocr serve`` indexes every job it converts: ``GET /v1/search`` finds the caller's
own pages (never another token's), a hit's page comes back as an image, and a job that
is deleted leaves the index. On both back ends: the service's SQLite file, and a real
PostgreSQL server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from postgres import PostgresServer
from serving import Server, make_token, wait_for

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str, str]]:
    data = tmp_path_factory.mktemp(f"search-{request.param}") / "data"
    first, second = make_token(data, "first"), make_token(data, "second")
    where: tuple[str, ...] = ()
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        where = ("--index", server.new_schema())
    with Server(data, "-j", "2", *where) as service:
        yield service, first, second


def _convert(client: httpx.Client, *names: str) -> str:
    files = [("files", (name, (SAMPLES / name).read_bytes(), "application/octet-stream")) for name in names]
    answer = client.post("/v1/jobs", files=files)
    assert answer.status_code == 202, answer.text
    done = wait_for(client, answer.json()["id"], {"succeeded", "failed"})
    assert done["state"] == "succeeded", done
    return str(done["id"])


def test_each_token_finds_its_own_pages(served: tuple[Server, str, str]) -> None:
    server, first, second = served
    with server.client(first) as mine, server.client(second) as theirs:
        job = _convert(mine, "page1.png")
        other = _convert(theirs, "page1.png", "page2.jpg")
        found = mine.get("/v1/search", params={"q": '"twelve percent"'})
        assert found.status_code == 200, found.text
        hits = found.json()["hits"]
        # Converted the moment the job says it succeeded; only the caller's own job.
        assert [(hit["job"], hit["page"]) for hit in hits] == [(job, 1)]
        hit = hits[0]
        assert "[twelve percent]" in hit["snippet"] and hit["sources"] == ["page1.png"]
        assert len(hit["boxes"]) == 2 and hit["links"]["image"] == f"/v1/jobs/{job}/pages/1/image"
        width, height = hit["page_size"]
        for left, bottom, right, top in hit["boxes"]:
            assert 0 <= left < right <= width and 0 <= bottom < top <= height
        assert {item["job"] for item in theirs.get("/v1/search", params={"q": "percent"}).json()["hits"]} == {
            other
        }
        # The hit's page as an image, as wide as asked, in the page's proportions.
        image = mine.get(hit["links"]["image"], params={"width": 500})
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        shown = Image.open(io.BytesIO(image.content))
        assert shown.width == 500 and abs(shown.height - 500 * height / width) <= 1
        assert theirs.get(hit["links"]["image"]).status_code == 404  # not theirs
        assert mine.get(f"/v1/jobs/{job}/pages/2/image").json()["type"].endswith("no-page")
        # A deleted job leaves the index.
        assert mine.delete(f"/v1/jobs/{job}").status_code == 204
        assert mine.get("/v1/search", params={"q": "percent"}).json()["hits"] == []
        assert theirs.get("/v1/search", params={"q": "percent"}).json()["hits"]


def test_searching_asks_for_a_token_and_a_sane_query(served: tuple[Server, str, str]) -> None:
    server, first, _ = served
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get("/v1/search", params={"q": "x"}).status_code == 401
        assert anonymous.get("/v1/service").json()["search"] is True
    with server.client(first) as client:
        too_many = " ".join(f"w{number}" for number in range(33))
        for params in (
            {},
            {"q": ""},
            {"q": "x" * 501},
            {"q": too_many},
            {"q": "x", "limit": 0},
            {"q": "x", "limit": 101},
        ):
            answer = client.get("/v1/search", params=params)
            assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
        # Whatever the query says, it is a query: never an error.
        for query in ['"', "NOT", "-", "*", "a OR", "扫", "'; DROP TABLE pdfocr_pages; --", "\x00"]:
            answer = client.get("/v1/search", params={"q": query})
            assert answer.status_code == 200, (query, answer.text)


def test_a_service_without_an_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    with Server(data, "--no-index") as server, server.client(token) as client:
        assert client.get("/v1/service").json()["search"] is False
        answer = client.get("/v1/search", params={"q": "anything"})
        assert answer.status_code == 404 and answer.json()["type"].endswith("no-index")
    assert not (data / "index.db").exists()


def test_an_index_that_cannot_be_opened_stops_the_service_before_it_serves(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "data"
    (tmp_path / "file").write_text("not a folder")
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "pdfocr",
            "serve",
            "--data",
            str(data),
            "--index",
            str(tmp_path / "file" / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "index" in refused.stderr and "x.db" in refused.stderr


def test_a_page_shown_is_bounded_in_pixels_whatever_its_shape(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    from pdfocr.errors import InputError
    from pdfocr.pdfpages import PREVIEW_MEGAPIXELS, page_preview

    pdf = tmp_path / "ribbon.pdf"
    drawn = canvas.Canvas(str(pdf), pagesize=(3, 14400))  # the tallest, thinnest page PDF allows
    drawn.line(0, 0, 3, 14400)
    drawn.save()
    shown = Image.open(io.BytesIO(page_preview(str(pdf), 1, 2000)))
    assert shown.width * shown.height <= PREVIEW_MEGAPIXELS * 1e6 * 1.01
    assert shown.height == pytest.approx(shown.width * 4800, rel=0.05)  # the page's proportions
    with pytest.raises(InputError, match="no page 2"):
        page_preview(str(pdf), 2, 500)

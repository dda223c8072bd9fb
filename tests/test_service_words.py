"""The service's word outputs: a job's hOCR, ALTO, PAGE XML (a ZIP) and JSON words, from a
real ``pdfocr serve`` on loopback, the same words as the job's PDF."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from conftest import pdftotext_words
from lxml import etree
from serving import Server, make_token, wait_for

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    data = tmp_path_factory.mktemp("service") / "data"
    first, second = make_token(data, "first"), make_token(data, "second")
    with Server(data, "-j", "1") as server:
        yield server, first, second


def test_a_jobs_words_in_every_format(served: tuple[Server, str, str], tmp_path: Path) -> None:
    server, token, other = served
    files = [("files", (name, (SAMPLES / name).read_bytes(), "application/octet-stream"))
             for name in ("page1.png", "page2.jpg")]  # fmt: skip
    with server.client(token) as client:
        answer = client.post("/v1/jobs", files=files, data={"languages": "eng"})
        assert answer.status_code == 202, answer.text
        job = wait_for(client, answer.json()["id"], {"succeeded", "failed"})
        assert job["state"] == "succeeded", job
        base = job["links"]["self"]
        pdf = client.get(f"{base}/pdf").content
        answers = {kind: client.get(f"{base}/{kind}") for kind in ("hocr", "alto", "page-xml", "words")}
    (tmp_path / "out.pdf").write_bytes(pdf)
    layer = [word.text for page in pdftotext_words(tmp_path / "out.pdf") for word in page]
    for kind, answer in answers.items():
        assert answer.status_code == 200, (kind, answer.text)
    assert answers["words"].headers["content-type"] == "application/x-ndjson"
    records = [json.loads(line) for line in answers["words"].text.splitlines()]
    assert [r["text"] for r in records if r["type"] == "word"] == layer
    alto = etree.fromstring(answers["alto"].content)
    assert [s.get("CONTENT") for s in alto.iter("{http://www.loc.gov/standards/alto/ns-v4#}String")] == layer
    hocr = etree.fromstring(answers["hocr"].content)
    assert [
        w.text for w in hocr.iter("{http://www.w3.org/1999/xhtml}span") if w.get("class") == "ocrx_word"
    ] == layer
    with zipfile.ZipFile(io.BytesIO(answers["page-xml"].content)) as archive:
        assert archive.namelist() == ["page-0001.xml", "page-0002.xml"]
    # Another token's client finds no such job, in every format.
    with server.client(other) as stranger:
        assert stranger.get(f"{base}/alto").status_code == 404


def test_a_job_can_ask_for_smaller_images(served: tuple[Server, str, str], tmp_path: Path) -> None:
    server, token, _ = served
    original = (SAMPLES / "page2.jpg").read_bytes()
    with server.client(token) as client:
        refused = client.post(
            "/v1/jobs", files=[("files", ("page2.jpg", original, "image/jpeg"))], data={"optimize": "lossy=0"}
        )
        assert refused.status_code == 422, refused.text
        answer = client.post(
            "/v1/jobs",
            files=[("files", ("page2.jpg", original, "image/jpeg"))],
            data={"optimize": "lossless"},
        )
        assert answer.status_code == 202, answer.text
        job = wait_for(client, answer.json()["id"], {"succeeded", "failed"})
        assert job["state"] == "succeeded", job
        (tmp_path / "out.pdf").write_bytes(client.get(job["links"]["pdf"]).content)
    with pikepdf.open(tmp_path / "out.pdf") as document:
        (image,) = document.pages[0].images.values()
        assert image.Filter == "/DCTDecode"
        assert len(image.read_raw_bytes()) < 0.9 * len(original)  # the JPEG's entropy coding redone

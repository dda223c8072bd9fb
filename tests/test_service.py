"""``pdfocr serve`` for real: uvicorn on 127.0.0.1, real HTTP with httpx, the real
Tesseract behind it. The job lifecycle, who may see what, every limit, cancellation,
restart recovery, and the operations endpoints."""

from __future__ import annotations

import io
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pikepdf
import pytest
from conftest import pdftotext, until
from fakes import GATE_VARIABLE, png_pages
from PIL import Image
from serving import Server, make_token, wait_for

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(300, 300))
    return buffer.getvalue()


def _tiff(*images: Image.Image) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, format="TIFF", save_all=True, append_images=list(images[1:]), dpi=(300, 300))
    return buffer.getvalue()


def _sample(name: str) -> tuple[str, bytes, str]:
    return (name, (SAMPLES / name).read_bytes(), "application/octet-stream")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """One service for the module's tests, with two tokens."""
    data = tmp_path_factory.mktemp("service") / "data"
    first, second = make_token(data, "first"), make_token(data, "second")
    with Server(data, "-j", "2", "--max-pages", "40", "--max-files", "10") as server:
        yield server, first, second


def test_a_bundle_becomes_a_searchable_pdf(served: tuple[Server, str, str], tmp_path: Path) -> None:
    server, token, _ = served
    page1 = Image.open(SAMPLES / "page1.png").convert("L")
    with server.client(token) as client:
        answer = client.post(
            "/v1/jobs",
            files=[
                ("files", _sample("page1.png")),
                ("files", _sample("page2.jpg")),
                ("files", ("two.tif", _tiff(page1, page1.rotate(0)), "image/tiff")),
            ],
            data={"languages": "eng", "output_type": "pdfa", "title": "Scans"},
        )
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert answer.headers["location"] == f"/v1/jobs/{job['id']}" == job["links"]["self"]
        assert job["state"] in ("queued", "running") and job["pages"]["total"] == 4
        done = wait_for(client, job["id"], {"succeeded", "failed"})
        assert done["state"] == "succeeded", done
        assert done["pages"] == {"done": 4, "total": 4} and done["output_type"] == "pdfa-2"
        pdf = client.get(done["links"]["pdf"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = client.get(done["links"]["text"])
        assert text.headers["content-type"].startswith("text/plain")
    (tmp_path / "out.pdf").write_bytes(pdf.content)
    with pikepdf.open(tmp_path / "out.pdf") as document:
        assert len(document.pages) == 4
        assert str(document.open_metadata().get("dc:title")) == "Scans"
    extracted = pdftotext(tmp_path / "out.pdf")
    assert "memo number" in extracted
    assert text.text.count("\f") == 3 and "memo number" in text.text


def test_who_may_see_what(served: tuple[Server, str, str]) -> None:
    server, first, second = served
    with server.client(first) as mine:
        job = mine.post("/v1/jobs", files=[("files", _sample("page3.png"))]).json()
    with server.client() as anonymous:
        answer = anonymous.get(f"/v1/jobs/{job['id']}")
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert answer.headers["content-type"] == "application/problem+json"
        assert anonymous.post("/v1/jobs", files=[("files", _sample("page3.png"))]).status_code == 401
        assert anonymous.get("/metrics").status_code == 401
        assert anonymous.post("/v1/ocr", files={"file": _sample("page3.png")}).status_code == 401
    with server.client("pdfocr_not-a-token") as stranger:
        assert stranger.get(f"/v1/jobs/{job['id']}").status_code == 403
    with server.client(second) as other:
        for answer in (
            other.get(f"/v1/jobs/{job['id']}"),
            other.get(f"/v1/jobs/{job['id']}/pdf"),
            other.get(f"/v1/jobs/{job['id']}/text"),
            other.delete(f"/v1/jobs/{job['id']}"),
        ):
            assert answer.status_code == 404, answer.text
            assert job["id"] in answer.json()["detail"]
    with server.client(first) as mine:
        assert wait_for(mine, job["id"], {"succeeded"})["state"] == "succeeded"
    # Tokens are kept as hashes only.
    files = [server.data / name for name in ("pdfocr.db", "pdfocr.db-wal") if (server.data / name).exists()]
    database = b"".join(path.read_bytes() for path in files)
    assert first.encode() not in database and second.encode() not in database
    with sqlite3.connect(server.data / "pdfocr.db") as db:
        owners = {row[0] for row in db.execute("SELECT owner FROM jobs")}
        hashes = {row[0] for row in db.execute("SELECT hash FROM tokens")}
    assert owners <= hashes and first not in owners


def test_bad_requests_get_a_problem_naming_what_is_wrong(served: tuple[Server, str, str]) -> None:
    server, token, _ = served
    with server.client(token) as client:
        answer = client.post(
            "/v1/jobs", files=[("files", _sample("page3.png"))], data={"languages": "klingon"}
        )
        assert answer.status_code == 422 and "klingon" in answer.json()["detail"]
        answer = client.post(
            "/v1/jobs", files=[("files", _sample("page3.png"))], data={"languages": "../etc"}
        )
        assert answer.status_code == 422 and answer.json()["errors"][0]["where"] == "body.languages"
        answer = client.post(
            "/v1/jobs", files=[("files", _sample("page3.png"))], data={"output_type": "tiff"}
        )
        assert answer.status_code == 422 and "output_type" in answer.json()["detail"]
        answer = client.post("/v1/jobs", files=[("files", _sample("page3.png"))], data={"lanugages": "eng"})
        assert answer.status_code == 422 and "lanugages" in answer.json()["detail"]
        # A broken input is named as the client named it (only its last part), and a
        # name that is a path is never used as one.
        answer = client.post("/v1/jobs", files=[("files", ("../../etc/passwd", b"root:x:0:0", "text/plain"))])
        assert answer.status_code == 422
        found = answer.json()
        assert found["file"] == "passwd" and "not a PDF or a recognised image" in found["detail"]
        assert str(server.data) not in answer.text
        answer = client.post(
            "/v1/jobs", files=[("files", ("cut.png", _sample("page3.png")[1][:3000], "image/png"))]
        )
        # A truncated image passes the header check; the job fails, naming it.
        assert answer.status_code == 202
        failed = wait_for(client, answer.json()["id"], {"failed", "succeeded"})
        assert failed["state"] == "failed" and failed["problem"]["file"] == "cut.png"
        assert str(server.data) not in str(failed) and "input-" not in str(failed), failed
        assert client.get("/v1/jobs/nonexistent").status_code == 404
    stored = [path.name for path in (server.data / "jobs").rglob("*") if path.is_file()]
    assert "passwd" not in stored and all(name.startswith(("input-", "result")) for name in stored)


def test_limits_are_enforced_before_the_work(served: tuple[Server, str, str]) -> None:
    server, token, _ = served
    folders_before = set((server.data / "jobs").iterdir())
    with server.client(token) as client:
        # More files than allowed (10), more pages than allowed (40).
        many = [("files", _sample("page3.png")) for _ in range(11)]
        assert client.post("/v1/jobs", files=many).status_code == 413
        page = Image.new("L", (200, 300), 255)
        answer = client.post("/v1/jobs", files=[("files", ("long.tif", _tiff(*[page] * 41), "image/tiff"))])
        assert answer.status_code == 422 and "more than 40 pages" in answer.json()["detail"]
        # A decompression bomb: a small file of a huge image, refused from its header.
        bomb = io.BytesIO()
        Image.new("1", (40_000, 40_000), 1).save(bomb, format="PNG")
        assert len(bomb.getvalue()) < 1_000_000
        answer = client.post("/v1/jobs", files=[("files", ("bomb.png", bomb.getvalue(), "image/png"))])
        assert answer.status_code == 422
        assert answer.json()["file"] == "bomb.png" and "megapixels" in answer.json()["detail"]
    # Nothing of a refused job stays on disk.
    assert set((server.data / "jobs").iterdir()) == folders_before


def test_an_idempotency_key_makes_a_retry_safe(served: tuple[Server, str, str]) -> None:
    server, token, _ = served
    with server.client(token) as client:
        headers = {"Idempotency-Key": "upload-42"}
        first = client.post("/v1/jobs", files=[("files", _sample("page3.png"))], headers=headers)
        again = client.post("/v1/jobs", files=[("files", _sample("page3.png"))], headers=headers)
        assert first.status_code == 202 and again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        other = client.post(
            "/v1/jobs", files=[("files", _sample("page3.png"))], headers={"Idempotency-Key": "x"}
        )
        assert other.json()["id"] != first.json()["id"]
        for job in (first.json(), other.json()):
            wait_for(client, job["id"], {"succeeded"})


def test_the_one_image_endpoint(served: tuple[Server, str, str]) -> None:
    server, token, _ = served
    with server.client(token) as client:
        answer = client.post("/v1/ocr", files={"file": _sample("page3.png")}, data={"languages": "eng"})
        assert answer.status_code == 200, answer.text
        assert "memo number" in answer.json()["text"]
        answer = client.post("/v1/ocr", files={"file": ("x.png", b"nope", "image/png")})
        assert answer.status_code == 422 and answer.json()["file"] == "x.png"


def test_operations_endpoints(served: tuple[Server, str, str]) -> None:
    server, token, _ = served
    with server.client() as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        assert anonymous.get("/readyz").status_code == 200
        schema = anonymous.get("/openapi.json").json()
        assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/pdf", "/v1/ocr"} <= set(schema["paths"])
        page = anonymous.get("/")
        assert page.status_code == 200 and "<html" in page.text
    with server.client(token) as client:
        metrics = client.get("/metrics").text
    values = dict(line.rsplit(" ", 1) for line in metrics.splitlines() if not line.startswith("#"))
    assert float(values['pdfocr_jobs{state="succeeded"}']) >= 1 and float(values["pdfocr_pages_total"]) >= 1
    assert "pdfocr_queue_length" in metrics


def test_a_body_over_the_limit_is_refused_while_it_streams(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    with Server(data, "--max-upload-mb", "1") as server:
        sent = 0

        def body() -> Iterator[bytes]:  # no Content-Length: the server must count
            nonlocal sent
            yield (
                b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
                b"Content-Type: image/png\r\n\r\n"
            )
            for _ in range(64):  # 64 MiB, if the server read it all
                sent += 1
                yield b"\0" * (1024 * 1024)

        with server.client(token) as client:
            headers = {"Content-Type": "multipart/form-data; boundary=b"}
            try:
                answer = client.post("/v1/jobs", content=body(), headers=headers)
            except httpx.TransportError:
                answer = None  # the server may close before the client finishes sending
            if answer is not None:
                assert answer.status_code == 413 and answer.json()["type"].endswith("too-large")
            assert sent < 64
            # Without a token, nothing of the body is read either.
            sent = 0
            with server.client() as anonymous:
                try:
                    refused = anonymous.post("/v1/jobs", content=body(), headers=headers)
                except httpx.TransportError:
                    refused = None
            assert refused is None or refused.status_code == 401
            assert sent < 64
            declared = client.post(
                "/v1/jobs",
                content=b"x" * (2 * 1024 * 1024),
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            )
            assert declared.status_code == 413
        assert not list((data / "jobs").iterdir())


def test_a_full_queue_answers_429_with_retry_after(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    page = Image.open(SAMPLES / "page1.png").convert("L")
    long_job = ("long.tif", _tiff(*[page] * 8), "image/tiff")
    with (
        Server(data, "-j", "1", "--concurrent-jobs", "1", "--queue-size", "1") as server,
        server.client(token) as client,
    ):
        running = client.post("/v1/jobs", files=[("files", long_job)]).json()
        wait_for(client, running["id"], {"running"})
        queued = client.post("/v1/jobs", files=[("files", _sample("page3.png"))])
        assert queued.status_code == 202
        refused = client.post("/v1/jobs", files=[("files", _sample("page3.png"))])
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        client.delete(f"/v1/jobs/{running['id']}")
        assert wait_for(client, queued.json()["id"], {"succeeded"})["state"] == "succeeded"


def test_cancelling_stops_the_pages_and_removes_the_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    page = Image.open(SAMPLES / "page1.png").convert("L")
    with Server(data, "-j", "2") as server, server.client(token) as client:
        job = client.post(
            "/v1/jobs", files=[("files", ("long.tif", _tiff(*[page] * 30), "image/tiff"))]
        ).json()
        while client.get(f"/v1/jobs/{job['id']}").json()["pages"]["done"] < 1:  # pages are being read
            time.sleep(0.05)
        started = time.monotonic()
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
        assert time.monotonic() - started < 10
        found = client.get(f"/v1/jobs/{job['id']}").json()
        assert found["state"] == "cancelled" and found["pages"]["done"] < 30
        assert not (data / "jobs" / job["id"]).exists()
        assert client.get(f"/v1/jobs/{job['id']}/pdf").status_code == 409
        # Its pages stop within seconds: nothing in flight, the workers they ran in replaced.
        deadline = time.monotonic() + 10
        while True:
            text = client.get("/metrics").text
            metrics = dict(line.split() for line in text.splitlines() if not line.startswith("#"))
            stopped = float(metrics["pdfocr_pages_in_flight"]) == 0
            if stopped and float(metrics["pdfocr_worker_restarts_total"]) >= 1:
                break
            assert time.monotonic() < deadline, metrics
            time.sleep(0.1)
        # A finished job, deleted, is gone.
        small = client.post("/v1/jobs", files=[("files", _sample("page3.png"))]).json()
        wait_for(client, small["id"], {"succeeded"})
        assert client.delete(f"/v1/jobs/{small['id']}").status_code == 204
        assert client.get(f"/v1/jobs/{small['id']}").status_code == 404


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "terminated"])
def test_a_job_interrupted_by_a_stop_runs_again_after_a_restart(tmp_path: Path, how: signal.Signals) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    page = Image.open(SAMPLES / "page1.png").convert("L")
    server = Server(data, "-j", "1", "--drain-seconds", "0.5")
    with server.client(token) as client:
        finished = client.post("/v1/jobs", files=[("files", _sample("page3.png"))]).json()
        wait_for(client, finished["id"], {"succeeded"})
        job = client.post(
            "/v1/jobs", files=[("files", ("long.tif", _tiff(*[page] * 12), "image/tiff"))]
        ).json()
        wait_for(client, job["id"], {"running"})
    server.stop(how)
    with sqlite3.connect(data / "pdfocr.db") as database:
        (left,) = database.execute("SELECT state FROM jobs WHERE id = ?", (job["id"],)).fetchone()
    # SIGTERM puts it back in the queue itself; a killed service leaves it "running".
    assert left == ("queued" if how == signal.SIGTERM else "running")
    with Server(data, "-j", "2", port=server.port) as again, again.client(token) as client:
        assert client.get(f"/v1/jobs/{finished['id']}").json()["state"] == "succeeded"
        assert client.get(f"/v1/jobs/{finished['id']}/pdf").status_code == 200
        done = wait_for(client, job["id"], {"succeeded", "failed"}, timeout=180)
        assert done["state"] == "succeeded" and done["pages"] == {"done": 12, "total": 12}
        assert len(pikepdf.open(io.BytesIO(client.get(done["links"]["pdf"]).content)).pages) == 12


def test_finished_jobs_expire(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = make_token(data)
    with Server(data, "--result-ttl", str(2 / 3600)) as server, server.client(token) as client:
        job = client.post("/v1/jobs", files=[("files", _sample("page3.png"))]).json()
        wait_for(client, job["id"], {"succeeded"})
        hits = client.get("/v1/search", params={"q": "343"}).json()["hits"]  # "memo number 343"
        assert [hit["job"] for hit in hits] == [job["id"]]
        deadline = time.monotonic() + 20
        while client.get(f"/v1/jobs/{job['id']}").status_code != 404:
            assert time.monotonic() < deadline, "the job did not expire"
            time.sleep(0.2)
        assert not (data / "jobs" / job["id"]).exists()
        assert client.get("/v1/search", params={"q": "343"}).json()["hits"] == []  # out of the index


def test_no_auth_only_on_loopback(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pdfocr", "serve", "--no-auth", "--host", "0.0.0.0", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "loopback" in done.stderr and "Traceback" not in done.stderr
    with Server(tmp_path / "open", "--no-auth") as server, server.client() as client:
        job = client.post("/v1/jobs", files=[("files", _sample("page3.png"))]).json()
        assert wait_for(client, job["id"], {"succeeded"})["state"] == "succeeded"


def test_a_job_past_its_deadline_fails_and_the_service_goes_on(tmp_path: Path) -> None:
    # The service's engine holds page 0 until a gate opens, which it never does here: the
    # long job is past any deadline for sure, however fast the machine. The quick job's
    # page is not held, so the deadline need only be ample for one small page.
    data = tmp_path / "data"
    token = make_token(data)
    pages = png_pages(2)
    gate = {GATE_VARIABLE: str(tmp_path / "never-opened")}
    with (
        Server(data, "-j", "1", "--job-deadline", "5", auto="fakes:gated_engine", env=gate) as server,
        server.client(token) as client,
    ):
        job = client.post("/v1/jobs", files=[("files", ("held.png", pages[0], "image/png"))]).json()
        failed = wait_for(client, job["id"], {"failed", "succeeded"})
        assert failed["state"] == "failed" and failed["problem"]["type"] == "urn:pdfocr:problem:deadline"
        assert client.get(failed["links"]["pdf"]).status_code == 409
        # The held page was stopped, its worker replaced: the one worker reads pages again
        # (one page read without a deadline, so that the quick job does not also pay for
        # starting the new worker).
        until(lambda: _metrics(client)["pdfocr_pages_in_flight"] == 0, 60)
        assert _metrics(client)["pdfocr_worker_restarts_total"] >= 1
        read = client.post("/v1/ocr", files={"file": ("quick.png", pages[1], "image/png")})
        assert read.status_code == 200 and read.json()["text"].strip() == "page1"  # the gated engine's
        quick = client.post("/v1/jobs", files=[("files", ("quick.png", pages[1], "image/png"))]).json()
        done = wait_for(client, quick["id"], {"succeeded", "failed"})
        assert done["state"] == "succeeded", done
        assert client.get(done["links"]["text"]).text.strip() == "page1"


def _metrics(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        name: float(value)
        for name, value in (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    }


def test_one_service_per_data_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "data"
    make_token(data)
    with Server(data):
        done = subprocess.run(
            [sys.executable, "-m", "pdfocr", "serve", "--data", str(data), "--port", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2 and "another pdfocr serve is using" in done.stderr


def test_the_same_key_sent_twice_at_once_makes_one_job(served: tuple[Server, str, str]) -> None:
    import concurrent.futures

    server, token, _ = served
    page = Image.open(SAMPLES / "page1.png").convert("L")
    bundle = _tiff(*[page] * 6)  # slow enough to check that both are under way at once

    def send() -> httpx.Response:
        with server.client(token) as client:
            return client.post(
                "/v1/jobs",
                files=[("files", ("six.tif", bundle, "image/tiff"))],
                headers={"Idempotency-Key": "at-once"},
            )

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: send(), range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 202]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    with server.client(token) as client:
        wait_for(client, answers[0].json()["id"], {"succeeded"})


def test_without_tokens_other_origins_and_hosts_are_refused(tmp_path: Path) -> None:
    with Server(tmp_path / "open", "--no-auth") as server, server.client() as client:
        files = [("files", _sample("page3.png"))]
        assert (
            client.post("/v1/jobs", files=files, headers={"Origin": "http://evil.example"}).status_code == 403
        )
        assert client.get("/v1/service", headers={"Host": "evil.example"}).status_code == 403
        assert client.post("/v1/jobs", files=files, headers={"Origin": server.url}).status_code == 202

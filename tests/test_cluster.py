"""Pages on a real Dask cluster: a ``dask scheduler`` and two workers started with
``pdfocr worker`` on 127.0.0.1 (tests/cluster.py), the real Tesseract on the samples, and
the faults that matter: a worker killed mid-run, a page that kills every worker it is
given, a page past its time limit, a scheduler that goes away, a cancelled run."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pikepdf
import pytest
from cluster import DaskCluster
from conftest import until
from fakes import CrashingEngine, HangingEngine, SlowEngine, png_pages

import pdfocr
from pdfocr.errors import DependencyError, EngineError, ExitCode, Interrupted

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    # A page is given up on after it has killed 2 workers (Dask's default is 4).
    started = DaskCluster(2, allowed_failures=1, log_folder=tmp_path_factory.mktemp("cluster"))
    try:
        yield started
    finally:
        started.stop()


def _page_widths(pdf: Path) -> list[float]:
    with pikepdf.open(pdf) as document:
        return [float(page.mediabox[2]) for page in document.pages]


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_the_samples_through_the_cluster_read_as_at_home(
    cluster: DaskCluster, tmp_path: Path, expected_sample_pages: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pdfocr", str(ROOT / "samples"), "-o", str(tmp_path / "out.pdf"), "--cluster",
         cluster.address, "-q"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    local = pdfocr.convert([ROOT / "samples"], tmp_path / "local.pdf", jobs=2)
    assert _pdftotext(tmp_path / "out.pdf") == _pdftotext(tmp_path / "local.pdf")
    pages = _pdftotext(tmp_path / "out.pdf").split("\f")
    for page, expected in zip(pages, expected_sample_pages, strict=False):
        assert expected.split("\n")[0] in page  # each page's first line, in bundle order
    assert local.page_count == 5


def test_a_worker_killed_mid_run_costs_nothing(cluster: DaskCluster, tmp_path: Path) -> None:
    marker = str(tmp_path / "started")
    pids = cluster.worker_pids()

    def kill_one_when_a_page_is_under_way() -> None:
        until(lambda: any(Path(tmp_path).glob("started-*")), 60)
        os.kill(sorted(pids.values())[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_one_when_a_page_is_under_way)
    killer.start()
    result = pdfocr.convert(
        png_pages(6),
        tmp_path / "out.pdf",
        cluster=cluster.address,
        engine=SlowEngine(seconds=1.0, started=marker),
    )
    killer.join()
    # Every page once, in order (the pages are told apart by their widths).
    assert result.page_count == 6 and not result.skipped
    widths = _page_widths(tmp_path / "out.pdf")
    assert len(widths) == 6 and widths == sorted(widths)
    cluster.wait_for_workers(2)  # the nanny started the killed one again


@pytest.mark.parametrize("skip", [False, True], ids=["fails", "skipped"])
def test_a_page_that_kills_every_worker_is_blamed(cluster: DaskCluster, tmp_path: Path, skip: bool) -> None:
    cluster.wait_for_workers(2)
    engine = CrashingEngine(crash_on=2, signal=signal.SIGSEGV, seconds=0.2)
    output = tmp_path / "out.pdf"
    if not skip:
        with pytest.raises(EngineError) as failed:
            pdfocr.convert(png_pages(5), output, cluster=cluster.address, engine=engine)
        assert failed.value.exit_code == ExitCode.ENGINE and failed.value.page is None
        assert "<input 3>" in str(failed.value) and "died" in str(failed.value)
        assert not output.exists()
    else:
        result = pdfocr.convert(
            png_pages(5), output, cluster=cluster.address, engine=engine, skip_bad_pages=True
        )
        assert [skipped.source for skipped in result.skipped] == ["<input 3>"]
        assert len(_page_widths(output)) == 4
    cluster.wait_for_workers(2)


def test_a_page_past_its_time_limit_is_stopped_and_its_worker_restarted(
    cluster: DaskCluster, tmp_path: Path
) -> None:
    cluster.wait_for_workers(2)
    with pytest.raises(EngineError, match="stopped after 3 s"):
        pdfocr.convert(
            png_pages(3),
            tmp_path / "out.pdf",
            cluster=cluster.address,
            engine=HangingEngine(hang_on=1),
            page_timeout=3,
        )
    # The worker that held the page was restarted: both take pages again.
    cluster.wait_for_workers(2)
    result = pdfocr.convert(
        png_pages(4), tmp_path / "again.pdf", cluster=cluster.address, engine=SlowEngine(seconds=0.1)
    )
    assert result.page_count == 4


def test_a_cancelled_run_leaves_no_pages_on_the_cluster(cluster: DaskCluster, tmp_path: Path) -> None:
    cluster.wait_for_workers(2)
    marker = str(tmp_path / "started")

    def pages_known(dask_scheduler) -> list[str]:  # type: ignore[no-untyped-def]
        return [key for key in dask_scheduler.tasks if str(key).startswith("pdfocr-page")]

    async def convert_then_cancel() -> None:
        async with pdfocr.Converter(cluster=cluster.address) as converter:
            run = asyncio.ensure_future(
                converter.convert_async(
                    png_pages(8), tmp_path / "out.pdf", engine=SlowEngine(seconds=60, started=marker)
                )
            )
            while not any(Path(tmp_path).glob("started-*")):
                await asyncio.sleep(0.05)
            run.cancel()
            with pytest.raises((asyncio.CancelledError, Interrupted)):
                await run
            # With the converter still open: no page of it is left on the cluster, and the
            # workers of the pages under way were restarted, free for other pages.
            with cluster.client() as client:
                until(lambda: client.run_on_scheduler(pages_known) == [], 30)
                until(lambda: not any(client.processing().values()), 30)

    asyncio.run(convert_then_cancel())
    assert not (tmp_path / "out.pdf").exists()
    cluster.wait_for_workers(2)
    # A page of 60 s would still be running on an unrestarted worker: these would wait.
    after = ThreadPoolExecutor(1).submit(
        pdfocr.convert, png_pages(2), tmp_path / "after.pdf", cluster=cluster.address
    )
    assert after.result(timeout=40).page_count == 2


def test_a_language_a_worker_lacks_is_said_naming_the_worker(cluster: DaskCluster, tmp_path: Path) -> None:
    # The check asks every worker there is: none may be half-way through a restart that
    # an earlier test's stopped page caused.
    cluster.wait_for_workers(2)
    with pytest.raises(DependencyError) as refused:
        pdfocr.convert(
            [ROOT / "samples" / "page1.png"], tmp_path / "out.pdf", cluster=cluster.address, languages="ita"
        )
    message = str(refused.value)
    assert "ita is not installed" in message and "(on worker tcp://127.0.0.1:" in message


def test_a_scheduler_that_is_unreachable_or_goes_away(tmp_path: Path) -> None:
    # Unreachable: one line, exit 4, an existing output untouched.
    output = tmp_path / "out.pdf"
    output.write_bytes(b"the user's earlier file")
    refused = subprocess.run(
        [sys.executable, "-m", "pdfocr", str(ROOT / "samples"), "-o", str(output), "--cluster", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == ExitCode.DEPENDENCY
    assert (
        refused.stderr.count("\n") == 1
        and "cannot reach the cluster's scheduler at tcp://127.0.0.1:9" in refused.stderr
    )
    assert output.read_bytes() == b"the user's earlier file"
    # Gone during a run: the run fails, said in one line, and nothing is written.
    own = DaskCluster(1, log_folder=tmp_path)
    try:
        pages = [str(ROOT / "samples" / "page1.png")] * 30
        command = [sys.executable, "-m", "pdfocr", *pages, "-o", str(output), "--cluster", own.address]
        running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with own.client() as client:
            until(lambda: len(client.get_events("pdfocr-page-started")) > 0, 120)
        own.stop_scheduler()
        _, stderr = running.communicate(timeout=120)
        assert running.returncode == ExitCode.DEPENDENCY, stderr
        assert stderr.count("\n") == 1 and "went away during the run" in stderr
        assert output.read_bytes() == b"the user's earlier file"
    finally:
        own.stop()


def test_the_service_runs_its_jobs_on_the_cluster(cluster: DaskCluster, tmp_path: Path) -> None:
    from serving import Server, make_token, wait_for

    data = tmp_path / "data"
    token = make_token(data)
    with cluster.client() as dask:
        before = len(dask.get_events("pdfocr-page-started"))
    with Server(data, "--cluster", cluster.address) as server, server.client(token) as client:
        files = [
            ("files", (name, (ROOT / "samples" / name).read_bytes())) for name in ("page1.png", "page2.jpg")
        ]
        job = client.post("/v1/jobs", files=files).json()
        done = wait_for(client, job["id"], {"succeeded", "failed"})
        assert done["state"] == "succeeded", done
        assert "memo number 237" in client.get(done["links"]["text"]).text
        with cluster.client() as dask:  # the two pages ran there
            assert len(dask.get_events("pdfocr-page-started")) == before + 2
    refused = subprocess.run(
        [sys.executable, "-m", "pdfocr", "serve", "--data", str(data), "--cluster", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == ExitCode.DEPENDENCY and "Traceback" not in refused.stderr
    assert "cannot reach the cluster's scheduler" in refused.stderr


def test_a_tls_cluster_with_dask_s_own_settings(tmp_path: Path) -> None:
    secure = DaskCluster(1, log_folder=tmp_path, tls=True)
    try:
        command = [
            sys.executable,
            "-m",
            "pdfocr",
            str(ROOT / "samples" / "page1.png"),
            "-o",
            str(tmp_path / "out.pdf"),
        ]
        command += ["--cluster", secure.address, "-q"]
        plain = {key: value for key, value in os.environ.items() if not key.startswith("DASK_")}
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, env={**plain, **secure.tls_environment}
        )
        assert done.returncode == 0, done.stderr
        assert "memo number 237" in _pdftotext(tmp_path / "out.pdf")
        # Without the settings: said in one line, naming them.
        refused = subprocess.run(command, capture_output=True, text=True, timeout=120, env=plain)
        assert refused.returncode == ExitCode.DEPENDENCY and refused.stderr.count("\n") == 1
        assert "DASK_DISTRIBUTED__COMM__TLS__CA_FILE" in refused.stderr
        # A plain client is refused by a TLS scheduler.
        plain_address = [part.replace("tls://", "tcp://") for part in command]
        refused = subprocess.run(plain_address, capture_output=True, text=True, timeout=120, env=plain)
        assert refused.returncode == ExitCode.DEPENDENCY and "cannot reach" in refused.stderr
    finally:
        secure.stop()


def test_a_cluster_is_an_address_and_excludes_jobs() -> None:
    from pdfocr.errors import UsageError

    assert (
        pdfocr.ConvertOptions(cluster="tls://scheduler.example:8786").cluster
        == "tls://scheduler.example:8786"
    )
    for wrong in ("scheduler:8786", "http://scheduler:8786", "tcp://", "tcp://a b:1"):
        with pytest.raises(UsageError, match="Dask scheduler's address"):
            pdfocr.ConvertOptions(cluster=wrong)
    with pytest.raises(UsageError, match="jobs and cluster exclude each other"):
        pdfocr.ConvertOptions(cluster="tcp://127.0.0.1:8786", jobs=2)


def test_inputs_on_shared_storage_travel_as_paths(cluster: DaskCluster, tmp_path: Path) -> None:
    from pdfocr.executors.cluster import DaskExecutor

    page = tmp_path / "page1.png"
    page.write_bytes((ROOT / "samples" / "page1.png").read_bytes())
    # Bytes by default; paths with paths=True (this cluster's workers share this machine's
    # disk); an input given as bytes travels as bytes either way.
    size = page.stat().st_size
    for paths, inputs, sent in ((False, [page], size), (True, [page], 0), (True, [page.read_bytes()], size)):
        executor = DaskExecutor(cluster.address, paths=paths)
        output = tmp_path / "out.pdf"
        with pdfocr.Converter(executor=executor) as converter:
            converter.convert(inputs, output)
        assert executor.bytes_sent == sent
        assert "memo number 237" in _pdftotext(output)


def test_a_converter_outlives_a_restart_of_its_cluster(tmp_path: Path) -> None:
    """A service's converter lives longer than a scheduler: after the scheduler is gone
    for good and a new one is up, the next conversion connects again."""
    from pdfocr.executors.cluster import DaskExecutor

    own = DaskCluster(1, log_folder=tmp_path)
    page = ROOT / "samples" / "page1.png"
    try:
        executor = DaskExecutor(own.address)
        with pdfocr.Converter(executor=executor) as converter:
            assert converter.convert([page], tmp_path / "before.pdf").page_count == 1
            own.stop()  # workers go with their scheduler: Dask's workers do not outlive it
            until(lambda: executor.status == "closed", 60)  # Dask's client gave up on it
            own.start_again()
            assert converter.convert([page], tmp_path / "after.pdf").page_count == 1
            assert executor.status == "running"
        assert "memo number 237" in _pdftotext(tmp_path / "after.pdf")
    finally:
        own.stop()


def test_workers_that_join_during_a_run_take_its_pages(tmp_path: Path) -> None:
    own = DaskCluster(1, log_folder=tmp_path)
    try:
        marker = str(tmp_path / "started")

        def add_a_worker_once_under_way() -> None:
            until(lambda: any(Path(tmp_path).glob("started-*")), 60)
            own.workers.append(own.start_worker(1))

        adder = threading.Thread(target=add_a_worker_once_under_way)
        adder.start()
        result = pdfocr.convert(
            png_pages(8),
            tmp_path / "out.pdf",
            cluster=own.address,
            engine=SlowEngine(seconds=2, started=marker),
        )
        adder.join()
        assert result.page_count == 8
        with own.client() as client:
            starts = sorted(
                (when, event["worker"]) for when, event in client.get_events("pdfocr-page-started")
            )
        # Pages ran on both workers at once (a page takes 2 s: one that starts within a
        # second of another, elsewhere, ran beside it): the run grew with the cluster.
        assert any(
            later - earlier < 1 and worker != other
            for (earlier, worker), (later, other) in itertools.pairwise(starts)
        )
    finally:
        own.stop()


def test_a_multi_page_pdf_travels_page_by_page(cluster: DaskCluster, tmp_path: Path) -> None:
    import img2pdf

    from pdfocr.executors.cluster import DaskExecutor

    scans = sorted(str(path) for path in (ROOT / "samples").glob("page*.png")) * 3
    bundle = tmp_path / "scanned.pdf"
    bundle.write_bytes(img2pdf.convert(scans))
    executor = DaskExecutor(cluster.address)
    with pdfocr.Converter(executor=executor) as converter:
        result = converter.convert([bundle], tmp_path / "cluster.pdf")
    pdfocr.convert([bundle], tmp_path / "local.pdf", jobs=2)
    assert result.page_count == len(scans)
    assert [page.page for page in result.pages] == list(range(1, len(scans) + 1))  # its own numbers
    assert _pdftotext(tmp_path / "cluster.pdf") == _pdftotext(tmp_path / "local.pdf")
    # Each page went alone: far less than the whole file once per page.
    assert executor.bytes_sent < bundle.stat().st_size * 1.5

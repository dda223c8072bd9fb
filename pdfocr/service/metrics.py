"""Prometheus metrics of one service, in a registry of its own (no process-wide state):
jobs by state, pages finished (``rate()`` gives pages per second), pages in flight, the
queue's length and worker restarts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .store import JobState, Store

if TYPE_CHECKING:
    from .runner import JobRunner


class Metrics(Collector):
    """Read at each scrape from the job table and the runner."""

    def __init__(self, store: Store, runner: JobRunner) -> None:
        self._store = store
        self._runner = runner
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self)

    def collect(self) -> Iterator[Metric]:
        counts = self._store.count_by_state()
        jobs = GaugeMetricFamily("pdfocr_jobs", "Jobs in the job table, by state", labels=["state"])
        for state in JobState:
            jobs.add_metric([state.value], counts[state])
        yield jobs
        yield GaugeMetricFamily("pdfocr_queue_length", "Jobs waiting to run", value=counts[JobState.QUEUED])
        yield CounterMetricFamily(
            "pdfocr_pages", "Pages finished since the service started", value=self._runner.pages_done
        )
        yield GaugeMetricFamily(
            "pdfocr_pages_in_flight", "Pages being OCRed right now", value=self._runner.converter.in_flight
        )
        yield CounterMetricFamily(
            "pdfocr_worker_restarts",
            "Worker processes replaced (a crash, a page past its time limit, a cancelled page)",
            value=self._runner.converter.workers_replaced,
        )

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self._registry), CONTENT_TYPE_LATEST

"""Prometheus metrics, correct across pre-forked workers.

With several workers the master points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before anything imports prometheus_client; each worker writes its
samples there and ``/metrics`` in any worker aggregates all of them.
"""
from __future__ import annotations

import os
from typing import Tuple

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServerMetrics:
    """Request counts and latencies per API and status, batch sizes per API."""

    def __init__(self, service_name: str):
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode the values live in files; the registry only collects them.
        own = None if self.multiprocess else CollectorRegistry()
        self._own_registry = own
        prefix = "bentoml"
        self.requests = Counter(f"{prefix}_requests", "Requests answered, by API and HTTP status",
                                ["service", "endpoint", "http_status"], registry=own)
        self.latency = Histogram(f"{prefix}_request_duration_seconds", "Time to answer a request",
                                 ["service", "endpoint"], buckets=_LATENCY_BUCKETS, registry=own)
        self.batch_size = Histogram(f"{prefix}_batch_size", "Tasks per API call under micro-batching",
                                    ["service", "endpoint"], buckets=_BATCH_BUCKETS, registry=own)
        self._service = service_name

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(self._service, endpoint, str(status)).inc()
        self.latency.labels(self._service, endpoint).observe(seconds)

    def observe_batch(self, endpoint: str, size: int) -> None:
        self.batch_size.labels(self._service, endpoint).observe(size)

    def exposition(self) -> Tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = self._own_registry
        return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_worker_dead(pid: int) -> None:
    """Drop a finished worker's live gauges (counters stay summed)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)

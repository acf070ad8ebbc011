"""Prometheus metrics named as BentoML 1.x names them, correct across pre-forked workers.

The names and labels are BentoML 1.x's, so that its dashboards and alerts work
unchanged:

- ``bentoml_service_request_total`` (counter) and
  ``bentoml_service_request_duration_seconds`` (histogram), labelled
  ``endpoint``, ``service_name``, ``service_version``, ``http_response_code``:
  every answered request except ``GET /metrics`` itself (as in 1.x);
- ``bentoml_service_request_in_progress`` (gauge, ``endpoint``,
  ``service_name``, ``service_version``): requests being handled now;
- ``bentoml_service_adaptive_batch_size`` (histogram, ``runner_name`` (the
  service's name, as 1.x labels a service's own batches), ``worker_index``,
  ``method_name`` (the API), ``service_version``, ``service_name``): tasks per
  API call under micro-batching.

``endpoint`` is the route that answered (``/predict``, ``/healthz``,
``/docs/<path:filename>``), never the raw path: a scanner probing random
paths would otherwise create a new series per path; a request no route
matches is :data:`UNMATCHED`.

With several workers the master points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before anything imports prometheus_client; each worker writes its
samples there and ``/metrics`` in any worker aggregates all of them (the gauge
in mode ``livesum``: the sum over the live workers).
"""
from __future__ import annotations

import os
from typing import Dict, Tuple

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: ``endpoint`` of a request no route matched (a 404 of an unknown path).
UNMATCHED = "(unmatched)"
_NAMESPACE = "bentoml_service"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServerMetrics:
    """Request counts, latencies and requests in progress per endpoint and status,
    batch sizes per API.

    The labelled children are cached per endpoint (and status): a request costs
    two dict lookups and the updates, not prometheus_client's label handling.
    """

    def __init__(self, service_name: str, service_version: str = "", worker_index: int = 1):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode the values live in files; the registry only collects them.
        own = None if self.multiprocess else CollectorRegistry()
        self._own_registry = own
        request_labels = ["endpoint", "service_name", "service_version", "http_response_code"]
        self.request_total = Counter(f"{_NAMESPACE}_request_total", "Total number of HTTP requests",
                                     request_labels, registry=own)
        self.request_duration = Histogram(f"{_NAMESPACE}_request_duration_seconds",
                                          "API HTTP request duration in seconds", request_labels,
                                          buckets=_LATENCY_BUCKETS, registry=own)
        self.request_in_progress = Gauge(f"{_NAMESPACE}_request_in_progress",
                                         "Total number of HTTP requests in progress now",
                                         ["endpoint", "service_name", "service_version"],
                                         multiprocess_mode="livesum", registry=own)
        self.adaptive_batch_size = Histogram(f"{_NAMESPACE}_adaptive_batch_size", "Service adaptive batch size",
                                             ["runner_name", "worker_index", "method_name", "service_version",
                                              "service_name"], buckets=_BATCH_BUCKETS, registry=own)
        self._service = service_name
        self._version = service_version or ""
        self._worker = str(worker_index)
        self._in_progress: Dict[str, object] = {}
        self._answered: Dict[Tuple[str, int], tuple] = {}
        self._batches: Dict[str, object] = {}

    def request_started(self, endpoint: str) -> None:
        """A request to ``endpoint`` is being handled (call :meth:`request_finished` after it)."""
        child = self._in_progress.get(endpoint)
        if child is None:
            child = self._in_progress[endpoint] = self.request_in_progress.labels(
                endpoint, self._service, self._version)
        child.inc()  # type: ignore[attr-defined]

    def request_finished(self, endpoint: str, status: int, seconds: float) -> None:
        """A request to ``endpoint`` started with :meth:`request_started` was answered ``status``."""
        self._in_progress[endpoint].dec()  # type: ignore[attr-defined]
        self.request_answered(endpoint, status, seconds)

    def request_answered(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one answer (without the in-progress gauge: for answers that never were in progress)."""
        children = self._answered.get((endpoint, status))
        if children is None:
            labels = (endpoint, self._service, self._version, str(status))
            children = self._answered[(endpoint, status)] = (
                self.request_total.labels(*labels), self.request_duration.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)

    def observe_batch(self, api_name: str, size: int) -> None:
        child = self._batches.get(api_name)
        if child is None:
            child = self._batches[api_name] = self.adaptive_batch_size.labels(
                self._service, self._worker, api_name, self._version, self._service)
        child.observe(size)  # type: ignore[attr-defined]

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

"""The lean path of an API call: WSGI environ -> task -> (dispatcher) -> response.

API calls are the hot path, so they skip Flask's request machinery: reading the
body, parsing it with the adapter, batching and answering take a few dozen
microseconds here, and every syscall saved is a GIL hand-off saved while a
model computes in the same process.
"""
from __future__ import annotations

import itertools
import os
import re
import secrets
import threading
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl

from bentoml.inference import HTTPRequest, InferenceError, InferenceResult
from bentoml.exceptions import BadInput
from bentoml.server.config import DEFAULT_MB_MAX_BATCH_SIZE, DEFAULT_MB_MAX_LATENCY_MS, ServerConfig
from bentoml.server.dispatcher import MicroBatchDispatcher
from bentoml.server.http import read_body
from bentoml.server.metrics import ServerMetrics

if TYPE_CHECKING:
    from bentoml.api import InferenceAPI

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
CORS_HEADERS = [("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Request-Id"),
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS")]


class RequestIds:
    """Unique request ids without a syscall per request: a random per-process prefix and a counter."""

    def __init__(self) -> None:
        self._pid = -1
        self._prefix = ""
        self._counter = itertools.count()

    def next(self, incoming: str = "") -> str:
        if incoming and REQUEST_ID.match(incoming):
            return incoming
        if self._pid != os.getpid():  # a forked worker draws its own prefix
            self._pid, self._prefix = os.getpid(), secrets.token_hex(8)
        return f"{self._prefix}{next(self._counter):016x}"  # 32 hex digits, like a uuid4


def status_line(status: int, _cache: Dict[int, str] = {}) -> str:
    line = _cache.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        line = _cache[status] = f"{status} {phrase}"
    return line


def _request_from_environ(environ: dict, body: bytes) -> HTTPRequest:
    headers = {key[5:].replace("_", "-").lower(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    query = environ.get("QUERY_STRING")
    return HTTPRequest(body, headers, dict(parse_qsl(query)) if query else {})


class APIHandler:
    """Answers ``POST /<api>``: one request becomes one task, its result one response."""

    def __init__(self, api: "InferenceAPI", config: ServerConfig, metrics: ServerMetrics,
                 model_lock: Optional[threading.Lock]):
        self.api = api
        self.config = config
        self.metrics = metrics
        self._lock = model_lock
        self.dispatcher: Optional[MicroBatchDispatcher] = None
        if config.enable_microbatch:
            spec = api.spec
            self.dispatcher = MicroBatchDispatcher(
                self._handle_batch,
                max_batch_size=config.mb_max_batch_size or spec.mb_max_batch_size or DEFAULT_MB_MAX_BATCH_SIZE,
                max_latency_ms=config.mb_max_latency or spec.mb_max_latency or DEFAULT_MB_MAX_LATENCY_MS,
                name=api.name, fixed_batch_size=spec.mb_fixed_batch_size,
                run_timeout=config.timeout,
                on_batch=lambda size, _secs: metrics.observe_batch(api.name, size))

    def _handle_batch(self, tasks):
        if self._lock is None:
            return self.api.handle_batch(tasks)
        with self._lock:
            return self.api.handle_batch(tasks)

    def respond(self, environ: dict, request_id: str) -> Tuple[str, List[Tuple[str, str]], bytes]:
        """(status line, headers, body) for one API call."""
        started = time.perf_counter()
        result = self._answer(environ, request_id)
        self.metrics.observe_request(self.api.name, result.status, time.perf_counter() - started)
        headers = [("Content-Type", result.content_type), ("Content-Length", str(len(result.body))),
                   ("X-Request-Id", request_id)]
        headers.extend(result.headers.items())
        if self.config.cors:
            headers.extend(CORS_HEADERS)
        return status_line(result.status), headers, result.body

    def _answer(self, environ: dict, request_id: str) -> InferenceResult:
        try:
            length = environ.get("CONTENT_LENGTH")
            body = read_body(environ["wsgi.input"], int(length) if length else None,
                             environ.get("HTTP_CONTENT_ENCODING", ""), self.config.max_request_size)
        except BadInput as exc:
            return InferenceResult.from_error(InferenceError(exc.status, str(exc)))
        except ValueError:
            return InferenceResult.from_error(InferenceError(400, "invalid Content-Length"))
        task = self.api.input_adapter.from_http_request(_request_from_environ(environ, body))
        task.context["request_id"] = request_id
        if task.error is not None:
            return InferenceResult.from_error(task.error)
        if self.dispatcher is not None:
            return self.dispatcher.submit(task)
        return self._handle_batch([task])[0]

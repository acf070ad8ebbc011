"""The Flask app of a service: one ``POST /<api>`` per API plus the server's own routes.

Every response carries ``X-Request-Id``.  Errors are JSON ``{"error": ...}``
with a status that names the class of problem (400 bad input, 404 unknown
route, 413 too large, 415 unsupported type, 500 user code, 503 over budget);
tracebacks go to the log, never to the client.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Dict, Optional

from flask import Flask, Response, g, request

from bentoml.adapters import HTTPRequest, InferenceResult
from bentoml.exceptions import BadInput
from bentoml.openapi import openapi_spec
from bentoml.server.config import (DEFAULT_MB_MAX_BATCH_SIZE, DEFAULT_MB_MAX_LATENCY_MS,
                                   ServerConfig)
from bentoml.server.dispatcher import MicroBatchDispatcher
from bentoml.server.docs_page import register_docs_routes
from bentoml.server.http import read_body
from bentoml.server.metrics import ServerMetrics

if TYPE_CHECKING:
    from bentoml.api import InferenceAPI
    from bentoml.service import BentoService

logger = logging.getLogger(__name__)
feedback_logger = logging.getLogger("bentoml.feedback")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _json_error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, mimetype="application/json")


class InFlight:
    """Counts requests being handled, so a graceful stop knows when it may exit."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def __enter__(self) -> None:
        with self._lock:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


def _all_thread_safe(service: "BentoService") -> bool:
    return all(artifact.thread_safe for artifact in service.artifacts)


class APIHandler:
    """Turns one HTTP request into one task, and its result into a response."""

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

    def __call__(self) -> Response:
        started = time.perf_counter()
        result = self._answer()
        self.metrics.observe_request(self.api.name, result.status, time.perf_counter() - started)
        return Response(result.body, status=result.status, content_type=result.content_type,
                        headers=result.headers)

    def _answer(self) -> InferenceResult:
        try:
            body = read_body(request.stream, request.content_length,
                             request.headers.get("Content-Encoding", ""), self.config.max_request_size)
        except BadInput as exc:
            return InferenceResult(exc.status, json.dumps({"error": str(exc)}).encode())
        http_request = HTTPRequest(body, dict(request.headers), request.args.to_dict())
        task = self.api.input_adapter.from_http_request(http_request)
        task.context["request_id"] = g.request_id
        if task.error is not None:
            return InferenceResult.from_error(task.error)
        if self.dispatcher is not None:
            return self.dispatcher.submit(task)
        return self._handle_batch([task])[0]


def create_app(service: "BentoService", config: ServerConfig) -> Flask:
    """The WSGI app serving ``service``; ``app.extensions["bentoml"]`` holds its parts."""
    app = Flask(service.name)
    app.config["MAX_CONTENT_LENGTH"] = None  # read_body enforces our own limit and message
    metrics = ServerMetrics(service.name)
    in_flight = InFlight()
    # Without micro-batching user code still runs one batch at a time per service,
    # unless every artifact declares itself thread-safe.
    model_lock = None if _all_thread_safe(service) else threading.Lock()
    handlers: Dict[str, APIHandler] = {}
    for api in service.inference_apis:
        handlers[api.name] = APIHandler(api, config, metrics, model_lock)
        app.add_url_rule(f"/{api.name}", endpoint=f"api_{api.name}", view_func=handlers[api.name],
                         methods=["POST"])
    app.extensions["bentoml"] = {"service": service, "handlers": handlers, "in_flight": in_flight,
                                 "metrics": metrics, "config": config}
    docs = openapi_spec(service)

    @app.before_request
    def _start() -> None:
        in_flight.__enter__()
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.teardown_request
    def _finish(_exc: Optional[BaseException]) -> None:
        in_flight.__exit__()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = getattr(g, "request_id", "") or uuid.uuid4().hex
        if config.cors:
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding, X-Request-Id"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    @app.route("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.route("/metrics")
    def metrics_route() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.route("/docs.json")
    def docs_json() -> Response:
        return Response(json.dumps(docs), mimetype="application/json")

    @app.route("/feedback", methods=["POST"])
    def feedback() -> Response:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("request_id"), str) or not data["request_id"]:
            return _json_error(400, 'feedback must be a JSON object with a "request_id" string')
        feedback_logger.info(json.dumps({"service": service.name, "version": service.version, **data}))
        return Response(json.dumps({"status": "recorded"}), mimetype="application/json")

    register_docs_routes(app, service)

    @app.errorhandler(404)
    def not_found(_e: Exception) -> Response:
        return _json_error(404, f"no route {request.path}; APIs: "
                                + ", ".join(f"POST /{n}" for n in handlers) + "; see GET /docs.json")

    @app.errorhandler(405)
    def not_allowed(_e: Exception) -> Response:
        return _json_error(405, f"{request.method} is not allowed on {request.path}")

    @app.errorhandler(413)
    def too_large(_e: Exception) -> Response:
        return _json_error(413, f"request body is over the limit of {config.max_request_size} bytes")

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return _json_error(exc.code or 500, exc.description or exc.name)
        logger.error("unhandled error on %s", request.path, exc_info=exc)
        return _json_error(500, f"internal error: {type(exc).__name__}")

    return app

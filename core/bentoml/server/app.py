"""The WSGI app of a service: one ``POST /<api>`` per API plus the server's own routes.

Every response carries ``X-Request-Id``.  Errors are JSON ``{"error": ...}``
with a status that names the class of problem (400 bad input, 404 unknown
route, 413 too large, 415 unsupported type, 500 user code, 503 over budget);
tracebacks go to the log, never to the client.  The server's own routes are
those of :mod:`bentoml.server.routes`.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from bentoml.exceptions import BundleError
from bentoml.inference import InferenceResult
from bentoml.openapi import openapi_spec
from bentoml.server import routes
from bentoml.server.access_log import AccessLog
from bentoml.server.api_handler import APIHandler
from bentoml.server.config import ServerConfig
from bentoml.server.dispatcher import HandleBatch
from bentoml.server.docs_page import register_docs_routes
from bentoml.server.metrics import UNMATCHED, ServerMetrics
from bentoml.server.readiness import Readiness
from bentoml.server.request_ids import RequestIds
from bentoml.server.response import CORS_HEADERS, build_response
from bentoml.server.static_content import register_static_routes

if TYPE_CHECKING:
    from bentoml.service import BentoService

logger = logging.getLogger(__name__)
feedback_logger = logging.getLogger("bentoml.feedback")
#: The environ key under which ``ServiceApp`` hands a request's id to Flask's routes.
REQUEST_ID_ENVIRON = "bentoml.request_id"
#: The environ key under which a Flask route's error answer leaves its message for the access log.
ERROR_ENVIRON = "bentoml.error"
#: Paths left out of the access log: the probes and the scrapes, polled every few seconds.
_UNLOGGED = frozenset(route.path for route in (routes.HEALTHZ, routes.LIVEZ, routes.READYZ, routes.METRICS))


class InFlight:
    """Counts requests being handled, so a graceful stop knows when it may exit."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def begin(self) -> None:
        """A request starts being handled."""
        with self._lock:
            self._count += 1

    def end(self) -> None:
        """A request has been answered (or failed)."""
        with self._lock:
            self._count -= 1

    @property
    def count(self) -> int:
        return self._count


class ServiceApp:
    """The WSGI application: ``POST /<api>`` takes the lean path of
    :class:`~bentoml.server.api_handler.APIHandler`; every other route is Flask's.

    Every request passes through :meth:`__call__`, which gives it its request id,
    counts it in flight and in ``metrics`` (each answer, whoever gave it: an API,
    a Flask route or error handler, or the last-resort fallback), times it, and
    writes its line to ``access_log`` (None: no access log).  ``fallback_endpoint``
    labels the paths no route names (the web UI's files, when it has one).
    """

    def __init__(self, flask_app: Flask, handlers: Dict[str, APIHandler], in_flight: InFlight,
                 request_ids: RequestIds, readiness: Readiness, metrics: ServerMetrics,
                 access_log: Optional[AccessLog] = None, fallback_endpoint: str = UNMATCHED):
        self.flask = flask_app
        self.handlers = handlers
        self.in_flight = in_flight
        self.request_ids = request_ids
        self.readiness = readiness
        self.metrics = metrics
        self.access_log = access_log
        self._routes = {handler.api.path: handler for handler in handlers.values()}
        # endpoint label of each path: an API's or a route's path, a file route's rule
        self._endpoints = {path: path for path in self._routes}
        self._fallback_endpoint = fallback_endpoint  # the web UI's rule, when it answers every other path
        self._file_routes: List[Tuple[str, str]] = []
        for route in routes.SERVER_ROUTES:
            if route.files:
                self._file_routes.append((route.path + "/", route.rule))
            else:
                self._endpoints[route.path] = route.path

    def endpoint(self, path: str) -> str:
        """The ``endpoint`` label of a request for ``path``: the route that answers it."""
        endpoint = self._endpoints.get(path)
        if endpoint is not None:
            return endpoint
        for prefix, rule in self._file_routes:
            if path.startswith(prefix):
                return rule
        return self._fallback_endpoint

    def __call__(self, environ: dict, start_response):
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        request_id = self.request_ids.next(environ.get("HTTP_X_REQUEST_ID", ""))
        endpoint = self.endpoint(path)
        counted = path != routes.METRICS.path  # as in BentoML 1.x: scrapes are not traffic
        status = 500  # unless an answer says otherwise
        error = None  # the answer's error message (or body), for the access log
        self.in_flight.begin()
        if counted:
            self.metrics.request_started(endpoint)
        try:
            handler = self._routes.get(path)
            if handler is None or environ.get("REQUEST_METHOD") != "POST":
                environ[REQUEST_ID_ENVIRON] = request_id
                answered: List[str] = []

                def start_flask_response(status_line: str, headers, exc_info=None):
                    answered.append(status_line)
                    return start_response(status_line, headers, exc_info)

                try:
                    return self.flask(environ, start_flask_response)
                finally:
                    if answered:
                        status = int(answered[-1][:3])
                    error = environ.get(ERROR_ENVIRON)
            status_line, headers, body = self._respond(handler, environ, request_id)
            status = int(status_line[:3])
            if status >= 400:
                error = body
            start_response(status_line, headers)
            return [body]
        finally:
            seconds = time.perf_counter() - started
            if counted:
                self.metrics.request_finished(endpoint, status, seconds)
            access_log = self.access_log
            if access_log is not None and path not in _UNLOGGED and access_log.enabled:
                access_log.record(environ.get("REMOTE_ADDR"), environ.get("REQUEST_METHOD", ""), path, status,
                                  seconds, request_id, error)
            self.in_flight.end()  # last: a graceful stop waits for this, then flushes the log

    def server_answered(self, status: int, request_id: str, method: Optional[str] = None,
                        path: Optional[str] = None, client: Optional[str] = None,
                        error: Optional[str] = None, seconds: float = 0.0) -> None:
        """Count and log an answer the HTTP server gave without the app: malformed HTTP,
        a body over the limit by its Content-Length alone (waitress's error task calls
        this; ``method`` and ``path`` are None where the request line was unreadable)."""
        self.metrics.request_answered(self.endpoint(path) if path else UNMATCHED, status, seconds)
        access_log = self.access_log
        if access_log is not None and path not in _UNLOGGED and access_log.enabled:
            access_log.record(client, method or "-", path or "-", status, seconds, request_id, error)

    @staticmethod
    def _respond(handler: APIHandler, environ: dict, request_id: str) -> Tuple[str, List[Tuple[str, str]], bytes]:
        try:
            return handler.respond(environ, request_id)
        except Exception as exc:  # a bug of ours: still a JSON answer, never a dead worker
            logger.error("unhandled error on %s", environ.get("PATH_INFO"), exc_info=exc)
            # This last resort has never carried the CORS headers; kept as it was.
            return build_response(
                InferenceResult.failure(500, f"internal error: {type(exc).__name__}"), request_id, cors=False)

    def close(self, timeout: float) -> None:
        """Stop every API's dispatcher, answering what they still hold, then write
        the access log's queued lines (the worker calls this on a graceful stop)."""
        for handler in self.handlers.values():
            handler.close(timeout)
        if self.access_log is not None:
            self.access_log.close(timeout)


def _holding(lock: threading.Lock, handle_batch: HandleBatch) -> HandleBatch:
    """``handle_batch`` run with ``lock`` held: the service's user code runs one batch at a time."""
    def handle_batch_locked(tasks):
        with lock:
            return handle_batch(tasks)
    return handle_batch_locked


def _flask_response(status: str, headers: List[Tuple[str, str]], body: bytes) -> Response:
    """A built answer as Flask's; ``_headers`` in ``create_app`` sets X-Request-Id (and CORS) on every one."""
    return Response(body, status=int(status.split()[0]),
                    headers=[h for h in headers if h[0] not in ("Content-Length", "X-Request-Id")])


def create_app(service: "BentoService", config: ServerConfig, worker_index: int = 1) -> ServiceApp:
    """The WSGI app serving ``service``; ``worker_index`` (1 to ``--workers``) labels
    its batch-size samples as BentoML 1.x labels a worker's."""
    # No static folder: Flask's default serves static/ under the app's root path, which for
    # a service is usually the server's working directory, to anyone who asks.
    app = Flask(service.name, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = None  # read_request enforces our own limit and message
    metrics = ServerMetrics(service.name, service.version or "", worker_index)
    in_flight = InFlight()
    request_ids = RequestIds()
    # Without micro-batching user code still runs one batch at a time per service,
    # unless every artifact declares itself thread-safe.
    model_lock = None if all(artifact.thread_safe for artifact in service.artifacts) else threading.Lock()
    handlers: Dict[str, APIHandler] = {}
    for api in service.inference_apis:
        handle_batch = api.handle_batch if model_lock is None else _holding(model_lock, api.handle_batch)
        handler = handlers[api.name] = APIHandler(api, config, metrics, handle_batch)
        # Flask keeps the API routes too: OPTIONS (CORS preflight) and 405 for other methods.
        app.add_url_rule(api.path, endpoint=f"api_{api.name}", methods=["POST"],
                         view_func=_flask_view(handler))
    docs = openapi_spec(service)

    def json_error(status: int, message: str) -> Response:
        if status not in (404, 405):  # there the path and status say it all
            request.environ[ERROR_ENVIRON] = message
        built = build_response(InferenceResult.failure(status, message), g.get("request_id", ""), config.cors)
        return _flask_response(*built)

    @app.before_request
    def _start() -> None:  # the id ServiceApp gave the request (Flask's test client bypasses it)
        g.request_id = request.environ.get(REQUEST_ID_ENVIRON) or request_ids.next(
            request.headers.get("X-Request-Id", ""))

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = getattr(g, "request_id", "") or request_ids.next()
        if config.cors:
            for key, value in CORS_HEADERS:
                response.headers[key] = value
        return response

    @app.route(routes.HEALTHZ.rule, methods=routes.HEALTHZ.methods)
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    readiness = Readiness()

    @app.route(routes.LIVEZ.rule, methods=routes.LIVEZ.methods)
    def livez() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.route(routes.READYZ.rule, methods=routes.READYZ.methods)
    def readyz() -> Response:
        if readiness.ready:
            return Response("ok\n", mimetype="text/plain")
        return json_error(503, f"not ready: {readiness.state}")

    @app.route(routes.METRICS.rule, methods=routes.METRICS.methods)
    def metrics_route() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.route(routes.DOCS_JSON.rule, methods=routes.DOCS_JSON.methods)
    def docs_json() -> Response:
        return Response(json.dumps(docs), mimetype="application/json")

    @app.route(routes.FEEDBACK.rule, methods=routes.FEEDBACK.methods)
    def feedback() -> Response:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("request_id"), str) or not data["request_id"]:
            return json_error(400, 'feedback must be a JSON object with a "request_id" string')
        feedback_logger.info(json.dumps({"service": service.name, "version": service.version, **data}))
        return Response(json.dumps({"status": "recorded"}), mimetype="application/json")

    static_folder = service.get_web_static_content_path()
    if static_folder is not None and not os.path.isdir(static_folder):
        raise BundleError(f"{service.name} declares @web_static_content({service.web_static_content!r}) "
                          f"but its folder {static_folder} is missing")
    register_docs_routes(app, service, at_index=static_folder is None)
    if static_folder is not None:
        own = {rule.rule.split("/")[1] for rule in app.url_map.iter_rules()} - {""}
        register_static_routes(app, static_folder, reserved=own | set(handlers))

    @app.errorhandler(404)
    def not_found(_e: Exception) -> Response:
        return json_error(404, f"no route {request.path}; APIs: "
                               + ", ".join(f"POST {h.api.path}" for h in handlers.values()) + f"; see GET {routes.DOCS_JSON.path}")

    @app.errorhandler(405)
    def not_allowed(_e: Exception) -> Response:
        return json_error(405, f"{request.method} is not allowed on {request.path}")

    @app.errorhandler(413)
    def too_large(_e: Exception) -> Response:
        return json_error(413, f"request body is over the limit of {config.max_request_size} bytes")

    @app.errorhandler(Exception)
    def internal(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return json_error(exc.code or 500, exc.description or exc.name)
        logger.error("unhandled error on %s", request.path, exc_info=exc)
        return json_error(500, f"internal error: {type(exc).__name__}")

    readiness.mark_ready()  # a worker builds its app once its artifacts are loaded
    return ServiceApp(app, handlers, in_flight, request_ids, readiness, metrics,
                      AccessLog() if config.access_log else None,
                      fallback_endpoint=routes.WEB_STATIC_CONTENT.rule if static_folder is not None else UNMATCHED)


def _flask_view(handler: APIHandler):
    def view() -> Response:  # reached only through Flask (not the lean path), e.g. in tests
        return _flask_response(*handler.respond(request.environ, g.request_id))
    return view

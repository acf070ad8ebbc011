"""The YataiService HTTP API: Flask routes over a server-side repository and its upload sessions.

Every route is under :data:`~bentoml.yatai.protocol.API_PREFIX` except the
probes (``/healthz``, ``/livez``, ``/readyz``), ``/metrics`` and ``/docs.json``
(this API's OpenAPI 3 document, :mod:`bentoml.yatai.openapi`).  Errors are one
line of JSON, ``{"error": ...}``: 400 for a bad request (an unsafe path, a
checksum that does not match), 404 for a missing bundle or session, 409 for a
``NAME:VERSION`` that exists, 503 when every upload slot is taken, 500 otherwise
(the traceback goes to the log).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, Optional

from flask import Flask, Response, g, request

from bentoml.bundle.config import BundleConfig
from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import BentoMLException, BundleError, BundleExists, InvalidArgument, NotFound
from bentoml.repository.interface import ORDER_BY
from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.record import BundleRecord
from bentoml.repository.storage import StoredFile
from bentoml.repository.tags import LATEST
from bentoml.server.access_log import AccessLog
from bentoml.server.app import ERROR_ENVIRON, REQUEST_ID_ENVIRON, InFlight, ServiceApp
from bentoml.server.metrics import ServerMetrics
from bentoml.server.readiness import Readiness
from bentoml.server.request_ids import RequestIds
from bentoml.yatai.checksums import ChecksumCache
from bentoml.yatai.openapi import yatai_openapi
from bentoml.yatai.protocol import API_PREFIX, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, SHA256_HEADER, record_to_json
from bentoml.yatai.sessions import SessionStore, TooManySessions
from bentoml.yatai.tar_stream import TarStream
from bentoml.yatai.tokens import Forbidden, Tokens, Unauthorized, check_access

logger = logging.getLogger(__name__)

#: The status each typed error is answered with.
_STATUS = ((Unauthorized, 401), (Forbidden, 403), (BundleExists, 409), (NotFound, 404), (InvalidArgument, 400), (BundleError, 400),
           (TooManySessions, 503))


def status_of(exc: BaseException) -> int:
    """The HTTP status answering the typed error ``exc`` (500 for anything else)."""
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _int_arg(name: str, default: Optional[int], minimum: int, maximum: Optional[int] = None) -> Optional[int]:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise InvalidArgument(f"{name} must be between {minimum} and {maximum}, got {value}"
                              if maximum is not None else f"{name} must be at least {minimum}, got {value}")
    return value


def _body_json() -> Dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidArgument("the request body must be a JSON object")
    return data


def tree_size(path: str) -> int:
    """The bytes of the files under ``path`` (what a tar of it roughly weighs)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def bundle_size(repo: LocalRepository, record: BundleRecord) -> int:
    """The bytes of a stored bundle: from its storage's record of the files where it keeps
    one (S3: no download), else from its files on this disk."""
    stored = repo.stored_bundle(record)
    if stored is not None:
        return sum(f.size for f in stored.files)
    return tree_size(repo.local_path(record.tag))


def _tag(name: str, version: str) -> str:
    validate_name(name)
    if version != LATEST:
        validate_version(version)
    return f"{name}:{version}"


def create_api_app(repo: LocalRepository, sessions: SessionStore, checksums: ChecksumCache,
                   access_log: bool = True, tokens: Optional[Tokens] = None) -> ServiceApp:
    """The WSGI app of the API (request ids, access log and metrics as the API server's).

    ``tokens``: every request but the probes needs one of them (:mod:`bentoml.yatai.tokens`)."""
    app = Flask("YataiService", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = None  # waitress's max_request_body_size is the limit
    app.url_map.merge_slashes = False  # files//etc/passwd is refused as absolute, not redirected
    request_ids = RequestIds()
    readiness = Readiness()
    docs = yatai_openapi()

    def error(status: int, message: str) -> Response:
        request.environ[ERROR_ENVIRON] = message
        return _json({"error": message}, status)

    @app.before_request
    def _start() -> None:
        g.request_id = request.environ.get(REQUEST_ID_ENVIRON) or request_ids.next(
            request.headers.get("X-Request-Id", ""))
        check_access(tokens, request.method, request.path, request.headers.get("Authorization", ""))

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = getattr(g, "request_id", "") or request_ids.next()
        return response

    @app.errorhandler(Exception)
    def _error(exc: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return error(exc.code or 500, exc.description or exc.name)
        if isinstance(exc, BentoMLException):
            status = status_of(exc)
            if status == 500:
                logger.error("%s %s failed: %s", request.method, request.path, exc)
            answer = error(status, str(exc))
            if status == 401:
                answer.headers["WWW-Authenticate"] = 'Bearer realm="YataiService"'
            return answer
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        return error(500, f"internal error: {type(exc).__name__}")

    @app.route("/healthz")
    @app.route("/livez")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.route("/readyz")
    def readyz() -> Response:
        if readiness.ready:
            return Response("ok\n", mimetype="text/plain")
        return error(503, f"not ready: {readiness.state}")

    @app.route("/metrics")
    def metrics_route() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.route("/docs.json")
    def docs_json() -> Response:
        return _json(docs)

    # -- reading ----------------------------------------------------------------------
    @app.route(f"{API_PREFIX}/bundles", methods=["GET"])
    def list_bundles() -> Response:
        limit = _int_arg("limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT)
        offset = _int_arg("offset", 0, 0)
        order_by = request.args.get("order_by", "created_at")
        if order_by not in ORDER_BY:
            raise InvalidArgument(f"cannot order bundles by {order_by!r}; use one of {', '.join(ORDER_BY)}")
        ascending = request.args.get("ascending", "false").lower() in ("1", "true", "yes")
        name = request.args.get("name") or None
        # One row more than the page says whether there is a next page, without a COUNT.
        records = repo.list(name=name, limit=limit + 1, offset=offset, order_by=order_by, ascending=ascending)
        return _json({"bundles": [record_to_json(r) for r in records[:limit]], "limit": limit, "offset": offset,
                      "next_offset": offset + limit if len(records) > limit else None})

    @app.route(f"{API_PREFIX}/bundles/<name>/<version>", methods=["GET"])
    def get_bundle(name: str, version: str) -> Response:
        return _json(record_to_json(repo.get(_tag(name, version))))

    @app.route(f"{API_PREFIX}/bundles/<name>/<version>", methods=["DELETE"])
    def delete_bundle(name: str, version: str) -> Response:
        return _json(record_to_json(repo.delete(_tag(name, version))))

    @app.route(f"{API_PREFIX}/bundles/<name>/<version>/checksum", methods=["GET"])
    def bundle_checksum(name: str, version: str) -> Response:
        record = repo.get(_tag(name, version))
        checksum = checksums.known(record)
        if checksum is None:
            # A bundle in S3 carries each file's sha256, recorded when it was stored: no copy to hash.
            stored = repo.stored_bundle(record)
            if stored is not None and all(f.sha256 for f in stored.files):
                checksum = checksums.remember(record, {f.path: f.sha256 for f in stored.files})
            else:
                checksum = checksums.checksum(record, repo.local_path(record.tag))
        return _json({"name": record.name, "version": record.version, "seq": record.seq, "checksum": checksum})

    @app.route(f"{API_PREFIX}/bundles/<name>/<version>/archive", methods=["GET"])
    def bundle_archive(name: str, version: str) -> Response:
        record = repo.get(_tag(name, version))
        stored = repo.stored_bundle(record)  # S3: streamed from there, never copied to this disk
        if stored is not None:
            stream, size = TarStream(stored), sum(f.size for f in stored.files)
        else:
            path = repo.local_path(record.tag)
            stream, size = TarStream(path), tree_size(path)
        response = Response(stream, mimetype="application/x-tar", direct_passthrough=True)
        response.call_on_close(stream.close)
        response.headers["X-Bundle-Tag"] = record.tag
        response.headers["X-Bundle-Size"] = str(size)  # for the client's progress bar
        return response

    # -- uploading --------------------------------------------------------------------
    @app.route(f"{API_PREFIX}/uploads", methods=["POST"])
    def open_upload() -> Response:
        data = _body_json()
        name, version = validate_name(data.get("name")), validate_version(data.get("version"))
        try:
            repo.get(f"{name}:{version}")
        except NotFound:
            pass
        else:  # refused before any byte is sent; the commit checks again
            raise BundleExists(f"{name}:{version} already exists in the repository")
        # the files stream straight into storage where it takes them file by file (S3)
        session = sessions.open(name, version, reserve=lambda: repo.reserve_streamed(name, version))
        return _json({"session": session.id, "name": name, "version": version,
                      "timeout": sessions.timeout}, 201)

    @app.route(f"{API_PREFIX}/uploads/<session_id>/files/<path:path>", methods=["PUT"])
    def upload_file(session_id: str, path: str) -> Response:
        length = request.content_length
        with sessions.using(session_id) as session:
            sha256, size = sessions.receive(session, path, request.headers.get(SHA256_HEADER, ""),
                                            request.stream, length,
                                            executable=request.headers.get("X-File-Executable") == "1")
        return _json({"path": path, "sha256": sha256, "size": size}, 201)

    @app.route(f"{API_PREFIX}/uploads/<session_id>/commit", methods=["POST"])
    def commit_upload(session_id: str) -> Response:
        files = _body_json().get("files")
        session = sessions.take_for_commit(session_id, files)
        try:
            config = BundleConfig.load(session.bundle_dir)
            if (config.name, config.version) != (session.name, session.version):
                raise InvalidArgument(f"the uploaded bentoml.yml names {config.name}:{config.version}, "
                                      f"not {session.tag} the session was opened for")
            if session.streamed is not None:
                session.streamed.commit(config, [StoredFile(rel, size, session.modes[rel], sha256)
                                                 for rel, (sha256, size) in sorted(session.files.items())])
                record = repo.get(f"{session.name}:{session.version}")
            else:
                record = repo.add_dir(session.bundle_dir)
            checksums.remember(record, {rel: sha256 for rel, (sha256, _size) in session.files.items()})
        finally:
            session.close()
        logger.info("upload session %s committed %s", session.id, record.tag)
        return _json(record_to_json(record), 201)

    @app.route(f"{API_PREFIX}/uploads/<session_id>", methods=["DELETE"])
    def abort_upload(session_id: str) -> Response:
        if not sessions.discard(session_id):
            raise NotFound(f"no upload session {session_id!r} to abort")
        return _json({"session": session_id, "aborted": True})

    metrics = ServerMetrics("YataiService")
    readiness.mark_ready()
    return ServiceApp(app, {}, InFlight(), request_ids, readiness, metrics,
                      AccessLog() if access_log else None)

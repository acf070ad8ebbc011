"""The web UI on ``--ui-port``: server-rendered pages over the server's repository.

Pages: the repository (every service with its latest version, number of versions
and last save; search by name; a page at a time), a service's versions, a
version's detail (APIs, artifacts, pip requirements, Python, size, and the
commands to run, serve and retrieve it), and, for a write token, a delete with a
confirmation step.  With ``--token-file`` a login page asks for a token and keeps
it in an ``HttpOnly``, ``SameSite=Strict`` cookie; the cookie is not ``Secure``
since the server cannot know whether a TLS proxy is in front (README).  GET never
changes anything; every POST (delete, log out) carries a CSRF token derived from
the cookie with a per-process secret.  Everything shown is HTML-escaped (Jinja2
autoescaping, :mod:`bentoml.yatai.ui_templates`).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any, Optional, Tuple
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, render_template, request
from jinja2 import DictLoader

from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import BentoMLException, InvalidArgument, NotFound
from bentoml.repository.local_repository import LocalRepository
from bentoml.server.app import InFlight, ServiceApp
from bentoml.server.metrics import ServerMetrics
from bentoml.server.readiness import Readiness
from bentoml.server.request_ids import RequestIds
from bentoml.yatai.api import bundle_size
from bentoml.yatai.tokens import WRITE, Tokens
from bentoml.yatai.ui_templates import TEMPLATES

logger = logging.getLogger(__name__)

COOKIE = "yatai_token"
#: Rows a page shows unless ``?limit=`` says otherwise (at most MAX_PAGE).
PAGE_SIZE = 20
MAX_PAGE = 200
#: Seconds the browser keeps the login (a working day; the token itself does not expire).
COOKIE_MAX_AGE = 12 * 3600
_HEADERS = {
    # no script, no frame, nothing from elsewhere: the page is inert even if escaping failed
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _size(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _paging() -> Tuple[int, int]:
    """(offset, limit) from ``?offset=`` and ``?limit=``; anything else is a 400."""
    values = []
    for name, default, low, high in (("offset", 0, 0, None), ("limit", PAGE_SIZE, 1, MAX_PAGE)):
        raw = request.args.get(name, "")
        try:
            value = int(raw) if raw else default
        except ValueError:
            raise InvalidArgument(f"{name} must be an integer, got {raw!r}") from None
        if value < low or (high is not None and value > high):
            raise InvalidArgument(f"{name} must be between {low} and {high or 'any'}, got {value}")
        values.append(value)
    return values[0], values[1]


def _page_links(offset: int, limit: int, shown: int, more: bool, **args: str) -> dict:
    def url(new_offset: int) -> str:
        query = {k: v for k, v in args.items() if v}
        if new_offset:
            query["offset"] = str(new_offset)
        if limit != PAGE_SIZE:
            query["limit"] = str(limit)
        return request.path + ("?" + urlencode(query) if query else "")

    return {"prev_url": url(max(0, offset - limit)) if offset else None,
            "next_url": url(offset + limit) if more else None,
            "first": offset + 1, "last": offset + shown if shown else 0}


def create_ui_app(repo: LocalRepository, tokens: Optional[Tokens] = None,
                  api_url: Optional[str] = None) -> ServiceApp:
    """The WSGI app of the web UI (and ``/healthz``); ``tokens``: the login needs one of them.

    ``api_url``: the API's address, shown in the commands a member copies."""
    app = Flask("YataiServiceUI", static_folder=None)
    app.jinja_loader = DictLoader(TEMPLATES)
    request_ids = RequestIds()
    secret = secrets.token_bytes(32)  # per process: a restart logs nobody out, but renews CSRF

    def csrf_for(token: str) -> str:
        return hmac.new(secret, b"csrf\0" + token.encode(), hashlib.sha256).hexdigest()

    def page(template: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("role", g.get("role"))
        context.setdefault("logged_in", tokens is not None and g.get("role") is not None)
        context.setdefault("csrf", g.get("csrf", ""))
        return Response(render_template(template, **context), status=status, mimetype="text/html")

    def error_page(status: int, title: str, message: str) -> Response:
        return page("error.html", status, code=status, title=title, message=message)

    def check_csrf() -> Optional[Response]:
        sent = request.form.get("csrf", "")
        if not sent or not hmac.compare_digest(sent.encode(), g.csrf.encode()):
            return error_page(403, "Refused", "the form is stale or came from another site; "
                                              "reload the page and try again")
        return None

    @app.before_request
    def _who() -> Optional[Response]:
        g.role, g.csrf = None, ""
        if request.path in ("/healthz", "/login"):
            return None
        if tokens is None:
            g.role, g.csrf = WRITE, csrf_for("")
            return None
        token = request.cookies.get(COOKIE, "")
        g.role = tokens.role_of(token)
        if g.role is None:
            if request.method == "GET":
                return redirect("/login", 303)
            return error_page(401, "Log in first", "your login expired or the token is no longer known")
        g.csrf = csrf_for(token)
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = request_ids.next()
        for key, value in _HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.errorhandler(Exception)
    def _error(exc: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return error_page(exc.code or 500, exc.name, exc.description or exc.name)
        if isinstance(exc, NotFound):
            return error_page(404, "Not found", str(exc))
        if isinstance(exc, InvalidArgument):
            return error_page(400, "Bad request", str(exc))
        if isinstance(exc, BentoMLException):
            logger.error("web UI: %s %s failed: %s", request.method, request.path, exc)
            return error_page(500, "The repository failed", str(exc))
        logger.error("web UI: unhandled error on %s %s", request.method, request.path, exc_info=exc)
        return error_page(500, "Internal error", type(exc).__name__)

    @app.route("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        if tokens is None:
            return redirect("/", 303)
        if request.method == "GET":
            return page("login.html")
        token = request.form.get("token", "").strip()
        if tokens.role_of(token) is None:
            return page("login.html", 401, error="This token is not in the server's token file.")
        response = redirect("/", 303)
        response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict", path="/")
        return response

    @app.route("/logout", methods=["POST"])
    def logout() -> Response:
        refused = check_csrf()
        if refused is not None:
            return refused
        response = redirect("/login" if tokens is not None else "/", 303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
        return response

    @app.route("/")
    def repository() -> Response:
        offset, limit = _paging()
        q = request.args.get("q", "").strip()
        services = repo.services(q or None, limit + 1, offset)
        more = len(services) > limit
        services = services[:limit]
        return page("repository.html", services=services, q=q,
                    **_page_links(offset, limit, len(services), more, q=q))

    @app.route("/bundles/<name>")
    def service(name: str) -> Response:
        validate_name(name)
        offset, limit = _paging()
        records = repo.list(name=name, limit=limit + 1, offset=offset)
        more = len(records) > limit
        records = records[:limit]
        if not records and not offset and not request.args.get("deleted"):
            raise NotFound(f"no version of {name} is in the repository")
        deleted = request.args.get("deleted", "")
        return page("service.html", name=name, records=records,
                    deleted=deleted if deleted and _valid_version(deleted) else None,
                    **_page_links(offset, limit, len(records), more))

    def record_of(name: str, version: str):
        return repo.get(f"{validate_name(name)}:{validate_version(version)}")

    @app.route("/bundles/<name>/<version>")
    def detail(name: str, version: str) -> Response:
        record = record_of(name, version)
        config = record.config
        return page("detail.html", r=record, env=config.get("env") or {}, apis=config.get("apis") or [],
                    artifacts=config.get("artifacts") or [], size=_size(bundle_size(repo, record)),
                    api_url=api_url, can_delete=g.role == WRITE)

    @app.route("/bundles/<name>/<version>/delete", methods=["GET", "POST"])
    def delete(name: str, version: str) -> Response:
        record = record_of(name, version)
        if g.role != WRITE:
            return error_page(403, "Read-only token", "deleting needs a write token")
        if request.method == "GET":  # the confirmation step; only the POST deletes
            return page("confirm.html", r=record)
        refused = check_csrf()
        if refused is not None:
            return refused
        repo.delete(record.tag)
        logger.info("web UI deleted %s", record.tag)
        return redirect(f"/bundles/{record.name}?{urlencode({'deleted': record.version})}", 303)

    readiness = Readiness()
    readiness.mark_ready()
    return ServiceApp(app, {}, InFlight(), request_ids, readiness, ServerMetrics("YataiServiceUI"), None)


def _valid_version(version: str) -> bool:
    try:
        validate_version(version)
    except InvalidArgument:
        return False
    return True

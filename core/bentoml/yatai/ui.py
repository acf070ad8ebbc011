"""The page on ``--ui-port``: a plain HTML list of the bundles, newest first, a page at a time.

Part 2 of the team repository builds the real web UI here; until then this page
says what the server holds.  Every name shown is HTML-escaped.
"""
from __future__ import annotations

import html
from typing import Optional

from flask import Flask, Response, request

from bentoml.repository.local_repository import LocalRepository
from bentoml.server.app import InFlight, ServiceApp
from bentoml.server.metrics import ServerMetrics
from bentoml.server.readiness import Readiness
from bentoml.server.request_ids import RequestIds
from bentoml.yatai.protocol import DEFAULT_LIST_LIMIT
from bentoml.yatai.tokens import Forbidden, Tokens, Unauthorized, check_access

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>BentoML YataiService</title></head>
<body><h1>BentoML YataiService</h1>
<p>Bundles {first} to {last}, newest first. {pages}</p>
<table border="1" cellpadding="4"><tr><th>BENTO_SERVICE</th><th>CREATED_AT</th><th>APIS</th><th>ARTIFACTS</th></tr>
{rows}
</table></body></html>
"""


def create_ui_app(repo: LocalRepository, tokens: Optional[Tokens] = None) -> ServiceApp:
    """The WSGI app of the page (and ``/healthz``); with ``tokens`` it needs a bearer token."""
    app = Flask("YataiServiceUI", static_folder=None)
    request_ids = RequestIds()

    @app.before_request
    def _check() -> Optional[Response]:
        try:
            check_access(tokens, request.method, request.path, request.headers.get("Authorization", ""))
        except (Unauthorized, Forbidden) as exc:
            return Response(f"{exc}\n", status=401 if isinstance(exc, Unauthorized) else 403,
                            mimetype="text/plain")
        return None

    @app.route("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.route("/")
    def index() -> Response:
        try:
            offset = max(0, int(request.args.get("offset", "0")))
        except ValueError:
            return Response("offset must be an integer\n", status=400, mimetype="text/plain")
        records = repo.list(limit=DEFAULT_LIST_LIMIT + 1, offset=offset)
        more = len(records) > DEFAULT_LIST_LIMIT
        records = records[:DEFAULT_LIST_LIMIT]
        rows = "\n".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(r.tag), r.created_at.strftime("%Y-%m-%d %H:%M"),
                html.escape(", ".join(f"{a.get('name')}<{a.get('input_type')}>" for a in r.config.get("apis", []))),
                html.escape(", ".join(f"{a.get('name')}<{a.get('artifact_type')}>"
                                      for a in r.config.get("artifacts", []))))
            for r in records)
        pages = []
        if offset:
            pages.append(f'<a href="?offset={max(0, offset - DEFAULT_LIST_LIMIT)}">newer</a>')
        if more:
            pages.append(f'<a href="?offset={offset + DEFAULT_LIST_LIMIT}">older</a>')
        body = _PAGE.format(first=offset + 1 if records else 0, last=offset + len(records),
                            pages=" ".join(pages), rows=rows)
        return Response(body, mimetype="text/html")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = request_ids.next()
        return response

    readiness = Readiness()
    readiness.mark_ready()
    return ServiceApp(app, {}, InFlight(), request_ids, readiness, ServerMetrics("YataiServiceUI"), None)

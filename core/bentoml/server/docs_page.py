"""``GET /`` and ``/docs``: the service's docs page with an embedded Swagger UI that works offline.

The Swagger UI files come from the ``flask-swagger-ui`` package's own copy
(served under ``/docs/``), never from a CDN.  The page links them, and the
OpenAPI document, by relative URLs, so it also works behind a path prefix.
"""
from __future__ import annotations

import html
import inspect
import os
from typing import TYPE_CHECKING

from flask import Flask, Response, abort, send_from_directory

from bentoml.server.routes import DOCS_FILES, DOCS_JSON, DOCS_PAGE, INDEX

if TYPE_CHECKING:
    from bentoml.service import BentoService


def _swagger_dist() -> str:
    import flask_swagger_ui

    return os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{files}/swagger-ui.css">
  <style>body {{ margin: 0; font-family: sans-serif; }} header {{ padding: 1em 2em; }}
  header pre {{ white-space: pre-wrap; }}</style>
</head>
<body>
  <header>
    <h1>{title}</h1>
    <pre class="service-doc">{doc}</pre>
    <ul class="api-list">{apis}</ul>
  </header>
  <div id="swagger-ui"></div>
  <script src="{files}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{url: "{spec}", dom_id: "#swagger-ui", deepLinking: true}});
  </script>
</body>
</html>
"""


def register_docs_routes(app: Flask, service: "BentoService", at_index: bool = True) -> None:
    """Add the docs page (``GET /docs``, and ``GET /`` when ``at_index``) and the Swagger
    UI's files (``GET /docs/...``) to ``app``."""
    dist = _swagger_dist()
    apis = "".join(
        f"<li><code>POST {html.escape(api.path)}</code> ({html.escape(api.input_adapter.input_type)}): "
        f"{html.escape(api.doc)}</li>" for api in service.inference_apis)
    page = _PAGE.format(
        title=html.escape(f"{service.name} {service.version or ''}".strip()),
        doc=html.escape(inspect.cleandoc(type(service).__doc__ or "") or f"BentoService {service.name}"),
        apis=apis, files=DOCS_FILES.path.lstrip("/"), spec=DOCS_JSON.path.lstrip("/"))

    def docs_page() -> Response:
        return Response(page, mimetype="text/html")

    # Its links are relative: from /docs as from /, "docs/x" is /docs/x and "docs.json" /docs.json.
    app.add_url_rule(DOCS_PAGE.rule, "docs_page", docs_page, methods=DOCS_PAGE.methods)
    if at_index:
        app.add_url_rule(INDEX.rule, "index", docs_page, methods=INDEX.methods)

    @app.route(DOCS_FILES.rule, methods=DOCS_FILES.methods)
    def swagger_asset(filename: str) -> Response:
        if filename.endswith(".map"):
            abort(404)
        return send_from_directory(dist, filename, max_age=3600)

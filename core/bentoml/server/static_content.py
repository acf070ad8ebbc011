"""A service's web UI: the folder ``@bentoml.web_static_content`` bundled, served at ``/``.

``GET /`` answers the folder's ``index.html`` (the docs page moves to
``/docs``), ``GET /<path>`` the file at that path, a folder's ``index.html``
for ``/<dir>/`` (``/<dir>`` redirects there, so the page's relative links
work; ``/<dir>/index`` answers it too, as BentoML 0.8 did).  The APIs and the
server's own routes win over files of the same name.

Only files inside the folder are served: a path with ``..`` (also
percent-encoded, which the HTTP server decodes before routing), an absolute
path, a NUL byte, or a symlink whose target lies outside the folder is a 404,
as are hidden files (a segment starting with ``.``, except ``.well-known``).
Content types come from the file name (``mimetypes``), with
``X-Content-Type-Options: nosniff`` so that a browser never guesses another.
"""
from __future__ import annotations

import os
from typing import Collection, Optional

from flask import Flask, Response, abort, redirect, request, send_file
from werkzeug.security import safe_join

from bentoml.server.routes import INDEX, WEB_STATIC_CONTENT

INDEX_FILE = "index.html"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def resolve_static_file(folder: str, url_path: str) -> Optional[str]:
    """The real path of the file ``url_path`` names inside ``folder`` (its real path),
    or None when there is none there or the path is not allowed."""
    if "\0" in url_path or "\\" in url_path:
        return None
    segments = [s for s in url_path.split("/") if s]
    if any(s.startswith(".") and s != ".well-known" for s in segments):
        return None  # hidden files, and '..' (which safe_join refuses too)
    joined = safe_join(folder, *segments) if segments else folder
    if joined is None:
        return None
    try:
        real = os.path.realpath(joined)
        if not _inside(real, folder):
            return None  # a symlink leaving the folder
        if os.path.isdir(real):
            real = os.path.realpath(os.path.join(real, INDEX_FILE))
            if not _inside(real, folder):
                return None
        return real if os.path.isfile(real) else None
    except (OSError, ValueError):  # a name too long, and the like
        return None


def register_static_routes(app: Flask, folder: str, reserved: Collection[str]) -> None:
    """Serve ``folder`` at ``/`` on ``app``; ``reserved`` are the first path segments
    never answered from it (the API names and the names of the routes ``app`` serves)."""
    folder = os.path.realpath(folder)

    def send(url_path: str) -> Response:
        found = resolve_static_file(folder, url_path)
        if found is None and url_path.endswith("/index"):  # 0.8's /<dir>/index
            found = resolve_static_file(folder, url_path[: -len("index")])
        if found is None:
            abort(404)
        if not url_path.endswith("/") and url_path and os.path.basename(found) == INDEX_FILE \
                and os.path.isdir(os.path.join(folder, url_path)):
            return redirect(request.path + "/", code=308)  # so that the page's relative links resolve
        response = send_file(found, conditional=True, max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.route(INDEX.rule, methods=INDEX.methods)
    def index() -> Response:
        return send("")

    @app.route(WEB_STATIC_CONTENT.rule, methods=WEB_STATIC_CONTENT.methods)
    def web_static_content(filename: str) -> Response:
        if filename.split("/")[0] in reserved:
            # e.g. GET /predict: the API's route answers as it would without a web UI
            abort(405 if filename in reserved else 404)
        return send(filename)

"""The routes the API server answers itself, as data.

``app`` and ``docs_page`` register them from this table, ``bentoml.openapi``
describes them from it, and :data:`RESERVED_API_NAMES` (the names an API
cannot take, so that ``POST /<api>`` never shadows one) is derived from it.
This module imports nothing from ``bentoml``: the service layer imports it to
check API names.
"""
from __future__ import annotations

from typing import NamedTuple, Tuple


class Route(NamedTuple):
    """One route of the server's own, e.g. ``Route("healthz", "/healthz", ("GET",), "Health check")``.

    ``name`` is the first segment of ``path`` (``index`` for ``/``), the name
    it reserves; a route with ``files`` serves the files under ``path + "/"``.
    """

    name: str
    path: str
    methods: Tuple[str, ...]
    summary: str
    files: bool = False

    @property
    def rule(self) -> str:
        """The Flask URL rule."""
        return f"{self.path}/<path:filename>" if self.files else self.path


INDEX = Route("index", "/", ("GET",),
              "The service's docs page (works offline), or its web UI's index.html (@web_static_content)")
HEALTHZ = Route("healthz", "/healthz", ("GET",), "Health check")
LIVEZ = Route("livez", "/livez", ("GET",), "Liveness probe: the process is up")
READYZ = Route("readyz", "/readyz", ("GET",),
               "Readiness probe: 200 once the models are loaded, 503 while starting or draining")
METRICS = Route("metrics", "/metrics", ("GET",), "Prometheus metrics")
DOCS_JSON = Route("docs.json", "/docs.json", ("GET",), "The OpenAPI 3 document")
DOCS_PAGE = Route("docs", "/docs", ("GET",), "The service's docs page, also when / is its web UI")
DOCS_FILES = Route("docs", "/docs", ("GET",), "The Swagger UI's files (no CDN)", files=True)
FEEDBACK = Route("feedback", "/feedback", ("POST",), "Report feedback on a prediction")
SERVER_ROUTES: Tuple[Route, ...] = (INDEX, HEALTHZ, LIVEZ, READYZ, METRICS, DOCS_JSON, DOCS_PAGE, DOCS_FILES,
                                    FEEDBACK)

#: The files of a service's web UI (``@bentoml.web_static_content``), served only for
#: such a service.  Not in ``SERVER_ROUTES``: it reserves no name, since the APIs
#: and the routes above win over its files.
WEB_STATIC_CONTENT = Route("web_static_content", "", ("GET",), "The service's web UI files", files=True)

#: Names kept free for routes to come (static content, API listings), so that
#: adding one breaks no service.
RESERVED_FOR_LATER = frozenset({"static", "static_content", "swagger", "openapi", "api"})

#: Paths the API server answers itself, now or later; an API cannot take these names.
RESERVED_API_NAMES = frozenset(route.name for route in SERVER_ROUTES) | RESERVED_FOR_LATER

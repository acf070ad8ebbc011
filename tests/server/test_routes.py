"""The server's own routes are the table of ``bentoml.server.routes``: every route Flask
registers besides the APIs is in it, the reserved API names are derived from it, and the
module stays a leaf the service layer can import."""
from __future__ import annotations

import ast
import pathlib

import bentoml
from bentoml.adapters import JsonInput
from bentoml.server import routes
from bentoml.server.app import create_app
from bentoml.server.config import ServerConfig


class RoutesTestService(bentoml.BentoService):
    """A service with one API, to list the routes of its app."""

    @bentoml.api(input=JsonInput())
    def predict(self, docs):
        return docs


def test_every_non_api_route_flask_registers_is_in_the_table():
    app = create_app(RoutesTestService(), ServerConfig())
    api_rules = {f"/{name}" for name in app.handlers}
    table = {route.rule: route for route in routes.SERVER_ROUTES}
    registered = [rule for rule in app.flask.url_map.iter_rules() if rule.rule not in api_rules]
    missing = [rule.rule for rule in registered if rule.rule not in table]
    assert not missing, f"routes registered but not in bentoml.server.routes: {missing}"
    for rule in registered:
        assert set(table[rule.rule].methods) <= rule.methods, (rule.rule, rule.methods)
    # ... and every route of the table is served
    assert {rule.rule for rule in registered} == set(table)
    assert api_rules == {"/predict"}


def test_no_file_of_the_working_directory_is_served(tmp_path, monkeypatch):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "secret.txt").write_text("api-key=hunter2")
    monkeypatch.chdir(tmp_path)
    client = create_app(RoutesTestService(), ServerConfig()).flask.test_client()
    for path in ("/static/secret.txt", "/static/../static/secret.txt"):
        reply = client.get(path)
        assert reply.status_code == 404 and b"hunter2" not in reply.data
    assert client.get("/docs/swagger-ui.css").status_code == 200  # the docs page's own files still are


def test_reserved_api_names_come_from_the_table():
    assert routes.RESERVED_API_NAMES == frozenset({
        "healthz", "livez", "readyz", "metrics", "docs", "docs.json", "feedback",
        "static", "static_content", "swagger", "openapi", "index", "api",
    })
    assert {route.name for route in routes.SERVER_ROUTES} <= routes.RESERVED_API_NAMES
    assert not {route.name for route in routes.SERVER_ROUTES} & routes.RESERVED_FOR_LATER


def test_routes_module_imports_nothing_from_bentoml():
    tree = ast.parse(pathlib.Path(routes.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name == "bentoml" or name.startswith("bentoml.")], imported

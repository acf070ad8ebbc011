"""``@bentoml.web_static_content('./static')``: a web UI bundled with the service, served at ``/``.

From the 0.8 API reference: the decorator takes the "path to directory containing
index.html and static dir"; the Bento carries the folder and its API server
serves it at ``/`` (the Swagger docs stay at ``/docs``).  Here over real HTTP,
from a bundle saved by a real ``python save.py`` in the project folder, with
the hostile paths a web server must refuse: ``..`` plain and percent-encoded,
absolute paths, NUL bytes, symlinks that leave the folder, hidden files.
"""
from __future__ import annotations

import http.client
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest
import yaml

from bentoml.testing.server import Server
from bentoml.testing.venvs import run_checked as _run
from bentoml.testing.venvs import venv_with

pytestmark = pytest.mark.slow

SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import JsonInput


    @bentoml.web_static_content("./static")
    class UiService(bentoml.BentoService):
        """A service with a web UI."""

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return [{"echo": doc} for doc in docs]
    ''')

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"

FILES = {
    "ui_service.py": SERVICE,
    "save.py": "import sys\nfrom ui_service import UiService\nprint(UiService().save_to_dir(sys.argv[1]))\n",
    "static/index.html": '<!DOCTYPE html><html><head><link rel="stylesheet" href="style.css"></head>'
                         '<body><h1>Iris UI 5c1e</h1><script src="static/app.js"></script></body></html>\n',
    "static/style.css": "h1 { color: teal; }\n",
    "static/static/app.js": "fetch('predict', {method: 'POST', body: '{}'});\n",
    "static/data/classes.json": '["setosa", "versicolor", "virginica"]\n',
    "static/sub/index.html": "<p>sub page 9d2a</p>\n",
    "static/predict": "a file named like the API\n",
    "static/.env": "API_KEY=hunter2\n",
    "static/.well-known/security.txt": "Contact: mailto:security@example.com\n",
}


def _project(root: pathlib.Path) -> pathlib.Path:
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "static" / "img").mkdir()
    (root / "static" / "img" / "logo.png").write_bytes(PNG)
    return root


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> pathlib.Path:
    """Files next to, but outside, every web UI folder."""
    root = tmp_path_factory.mktemp("outside")
    (root / "secret.txt").write_text("outside secret 77f0\n")
    (root / "dir").mkdir()
    (root / "dir" / "secret.txt").write_text("outside secret 77f0\n")
    return root


@pytest.fixture(scope="module")
def ui_bundle(tmp_path_factory, outside) -> pathlib.Path:
    project = _project(tmp_path_factory.mktemp("ui_project"))
    # A link the user made inside the folder: saved as the file it points to.
    os.symlink(outside / "secret.txt", project / "static" / "linked.txt")
    bundle = tmp_path_factory.mktemp("ui_bundles") / "UiService"
    _run([sys.executable, "save.py", bundle], cwd=project)
    copy = bundle / "UiService" / "web_static_content"
    # A bundle copied with links kept (rsync -l, tar): links leaving the folder are never followed.
    os.symlink(outside / "secret.txt", copy / "leak.txt")
    os.symlink(outside / "dir", copy / "escape")
    os.symlink(copy / "style.css", copy / "alias.css")  # a link inside the folder is fine
    return bundle


@pytest.fixture(scope="module")
def ui_server(ui_bundle, tmp_path_factory):
    # The working directory holds a static/ of its own: only the bundle's copy is served.
    cwd = tmp_path_factory.mktemp("ui_cwd")
    (cwd / "static").mkdir()
    (cwd / "static" / "index.html").write_text("<p>the working directory's</p>")
    server = Server(["serve", str(ui_bundle), "--port", "0"], cwd=str(cwd))
    yield server
    server.stop()


def _raw_get(server: Server, target: bytes) -> int:
    """The status of ``GET target`` sent byte for byte (no client normalizes it)."""
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert b"77f0" not in data and b"hunter2" not in data, data[:500]
    return int(data.split(b" ", 2)[1])


def test_bundle_carries_the_folder_and_records_it(ui_bundle):
    copy = ui_bundle / "UiService" / "web_static_content"
    assert (copy / "index.html").read_text() == FILES["static/index.html"]
    assert (copy / "img" / "logo.png").read_bytes() == PNG
    assert not os.path.islink(copy / "linked.txt") and "77f0" in (copy / "linked.txt").read_text()
    config = yaml.safe_load((ui_bundle / "bentoml.yml").read_text())
    assert config["web_static_content"] == "./static"


def test_index_is_the_web_ui_and_the_docs_move_to_docs(ui_server):
    reply = ui_server.get("/")
    assert reply.status == 200 and "Iris UI 5c1e" in reply.text
    assert reply.headers["content-type"].startswith("text/html")
    docs = ui_server.get("/docs")
    assert docs.status == 200 and "swagger-ui" in docs.text and "UiService" in docs.text
    assert ui_server.get("/docs/swagger-ui.css").status == 200  # the page's relative links still resolve
    assert ui_server.get("/docs.json").json()["paths"]["/predict"]


@pytest.mark.parametrize("path, content_type, body", [
    ("/style.css", "text/css", FILES["static/style.css"].encode()),
    ("/static/app.js", "javascript", FILES["static/static/app.js"].encode()),
    ("/data/classes.json", "application/json", FILES["static/data/classes.json"].encode()),
    ("/img/logo.png", "image/png", PNG),
    ("/sub/", "text/html", FILES["static/sub/index.html"].encode()),
    ("/sub/index", "text/html", FILES["static/sub/index.html"].encode()),  # 0.8's /<dir>/index
    ("/alias.css", "text/css", FILES["static/style.css"].encode()),
    ("/.well-known/security.txt", "text/plain", FILES["static/.well-known/security.txt"].encode()),
])
def test_files_with_their_content_types(ui_server, path, content_type, body):
    reply = ui_server.get(path)
    assert reply.status == 200, (path, reply)
    assert content_type in reply.headers["content-type"]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.body == body


def test_a_folder_without_slash_redirects_so_relative_links_work(ui_server):
    reply = ui_server.get("/sub")
    assert reply.status in (301, 308) and reply.headers["location"].endswith("/sub/")


def test_missing_files_are_404(ui_server):
    for path in ("/nope.js", "/img/nope.png", "/sub/nope/", "/style.css/x"):
        reply = ui_server.get(path)
        assert reply.status == 404, (path, reply)
        assert reply.headers["content-type"] == "application/json"


def test_apis_and_server_routes_win_over_files(ui_server):
    assert ui_server.post("/predict", {"x": 1}).json() == {"echo": {"x": 1}}
    assert ui_server.get("/predict").status == 405  # not the file named predict
    assert ui_server.get("/healthz").text == "ok\n"
    assert ui_server.get("/metrics").status == 200


@pytest.mark.parametrize("target", [
    b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/%2E%2E/secret.txt", b"/sub/../../secret.txt",
    b"/sub/%2e%2e/%2e%2e/secret.txt", b"/%2e%2e%2fsecret.txt", b"/..%2f..%2fsecret.txt",
    b"//etc/passwd", b"/%2fetc%2fpasswd", b"/..%5csecret.txt", b"/index.html%00.png",
    b"/leak.txt", b"/escape/secret.txt", b"/.env", b"/%2eenv", b"/sub/%2e%2e/.env",
    b"/" + b"a" * 5000,
])
def test_hostile_paths_are_refused(ui_server, target):
    assert _raw_get(ui_server, target) in (400, 404), target


def test_head_and_conditional_get(ui_server):
    conn = http.client.HTTPConnection(ui_server.host, ui_server.port, timeout=30)
    try:
        conn.request("HEAD", "/style.css")
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b""
        etag = head.getheader("ETag")
        conn.request("GET", "/style.css", headers={"If-None-Match": etag})
        again = conn.getresponse()
        assert again.status == 304 and again.read() == b""
    finally:
        conn.close()


def test_save_names_a_missing_folder(tmp_path):
    project = _project(tmp_path / "project")
    shutil.rmtree(project / "static")
    proc = subprocess.run([sys.executable, "save.py", tmp_path / "bundle"], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "@web_static_content('./static') names no folder" in proc.stderr
    assert not (tmp_path / "bundle").exists()


def test_save_names_a_dangling_link_and_leaves_nothing(tmp_path):
    project = _project(tmp_path / "project")
    os.symlink(tmp_path / "gone.js", project / "static" / "gone.js")
    proc = subprocess.run([sys.executable, "save.py", tmp_path / "bundle"], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "cannot copy" in proc.stderr and "gone.js" in proc.stderr
    assert not (tmp_path / "bundle").exists() and not list(tmp_path.glob(".bundle.partial-*"))


def test_the_pip_installed_package_carries_the_web_ui(tmp_path):
    project = _project(tmp_path / "project")
    bundle = tmp_path / "bundle"
    _run([sys.executable, "save.py", bundle], cwd=project)
    venv = tmp_path / "venv"
    venv_with(bundle, venv)
    try:
        code = ("import json, os, UiService; folder = UiService.load().get_web_static_content_path(); "
                "print(json.dumps([folder, open(os.path.join(folder, 'img', 'logo.png'), 'rb').read().hex()]))")
        folder, logo = json.loads(_run([venv / "bin" / "python", "-c", code], cwd=tmp_path).stdout)
        assert pathlib.Path(folder).is_relative_to(venv) and bytes.fromhex(logo) == PNG
    finally:
        shutil.rmtree(venv, ignore_errors=True)

"""The YataiService API over real HTTP: upload sessions, their checks, expiry, listing, the UI page.

Bundles here are uploaded by hand, file by file, as a client does; the bundle is
one a real save wrote (``saved_bundle``), so the server registers real ones.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import time

import pytest
import urllib3
import yaml

from bentoml.bundle.config import BundleConfig
from bentoml.bundle.manifest import file_manifest
from bentoml.yatai.protocol import API_PREFIX, SHA256_HEADER

from .conftest import TEXT_SERVICE

pytestmark = pytest.mark.slow

http = urllib3.PoolManager(retries=False, timeout=30)


@pytest.fixture(scope="module", autouse=True)
def _close_connections():
    """Keep-alive connections closed once the module is done: a stopping server waits for them."""
    yield
    http.clear()


def call(server, method, path, body=None, headers=None, expect=None):
    if isinstance(body, (dict, list)):
        body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
    answer = http.request(method, server.url + path, body=body, headers=headers)
    data = json.loads(answer.data) if answer.headers.get("Content-Type", "").startswith("application/json") else answer.data
    if expect is not None:
        assert answer.status == expect, (answer.status, data)
    return answer.status, data


@pytest.fixture(scope="module")
def saved_bundle(tmp_path_factory, service_src):
    """A real TeamText bundle written to a folder (the version is rewritten per upload)."""
    from bentoml.testing.services import service_module

    target = tmp_path_factory.mktemp("api-bundle") / "bundle"
    with service_module(TEXT_SERVICE, "team_text_api", tmp_path_factory.mktemp("api-src")) as loaded:
        svc = loaded.TeamText()
        svc.pack("clf", {"hello": "greeting"})
        svc.save_to_dir(str(target), version="1")
    return target


def bundle_as(saved_bundle: pathlib.Path, tmp_path: pathlib.Path, version: str) -> pathlib.Path:
    """A copy of the saved bundle whose bentoml.yml says ``version``."""
    import shutil

    copy = tmp_path / f"bundle-{version}"
    shutil.copytree(saved_bundle, copy)
    data = yaml.safe_load((copy / "bentoml.yml").read_text())
    data["version"] = version
    (copy / "bentoml.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert BundleConfig.load(str(copy)).version == version
    return copy


def open_session(server, version, expect=201):
    status, data = call(server, "POST", f"{API_PREFIX}/uploads", {"name": "TeamText", "version": version},
                        expect=expect)
    return data.get("session") if status == 201 else data


def put_file(server, session, rel, content: bytes, sha=None, expect=201):
    return call(server, "PUT", f"{API_PREFIX}/uploads/{session}/files/{rel}", content,
                {SHA256_HEADER: sha or hashlib.sha256(content).hexdigest()}, expect=expect)


def upload(server, bundle: pathlib.Path, version: str, skip=()):
    session = open_session(server, version)
    manifest = file_manifest(str(bundle))
    for rel in manifest:
        if rel not in skip:
            put_file(server, session, rel, (bundle / rel).read_bytes())
    return session, manifest


def test_an_upload_is_listed_only_once_committed(yatai, saved_bundle, tmp_path):
    bundle = bundle_as(saved_bundle, tmp_path, "committed-1")
    session, manifest = upload(yatai, bundle, "committed-1")
    _, page = call(yatai, "GET", f"{API_PREFIX}/bundles?name=TeamText", expect=200)
    assert "committed-1" not in [b["version"] for b in page["bundles"]]
    status, record = call(yatai, "POST", f"{API_PREFIX}/uploads/{session}/commit", {"files": manifest}, expect=201)
    assert (record["name"], record["version"], record["uri"]["type"]) == ("TeamText", "committed-1", "LOCAL")
    assert record["uri"]["uri"] == str(yatai.home / "repository" / "TeamText" / "committed-1")
    _, page = call(yatai, "GET", f"{API_PREFIX}/bundles?name=TeamText", expect=200)
    assert "committed-1" in [b["version"] for b in page["bundles"]]
    assert not list((yatai.home / "tmp").glob("upload-*")), "the session's files are removed once committed"
    # the 409, before any byte is sent and at the commit of a session opened before it existed
    status, error = call(yatai, "POST", f"{API_PREFIX}/uploads", {"name": "TeamText", "version": "committed-1"})
    assert status == 409 and error == {"error": "TeamText:committed-1 already exists in the repository"}


def test_a_second_commit_of_one_version_is_409(yatai, saved_bundle, tmp_path):
    bundle = bundle_as(saved_bundle, tmp_path, "raced-1")
    first, manifest = upload(yatai, bundle, "raced-1")
    second, _ = upload(yatai, bundle, "raced-1")
    call(yatai, "POST", f"{API_PREFIX}/uploads/{first}/commit", {"files": manifest}, expect=201)
    status, error = call(yatai, "POST", f"{API_PREFIX}/uploads/{second}/commit", {"files": manifest})
    assert status == 409 and "\n" not in error["error"] and "TeamText:raced-1 already exists" in error["error"]


def test_every_file_is_checked(yatai, saved_bundle, tmp_path):
    bundle = bundle_as(saved_bundle, tmp_path, "checked-1")
    session = open_session(yatai, "checked-1")
    status, error = put_file(yatai, session, "bentoml.yml", b"not what was hashed",
                             sha=hashlib.sha256(b"something else").hexdigest(), expect=400)
    assert "do not match their sha256" in error["error"]
    status, error = put_file(yatai, session, "x", b"a", sha="nothex", expect=400)
    assert "X-Content-SHA256" in error["error"]
    manifest = file_manifest(str(bundle))
    rel = next(iter(manifest))
    for other in list(manifest)[1:]:
        put_file(yatai, session, other, (bundle / other).read_bytes())
    status, error = call(yatai, "POST", f"{API_PREFIX}/uploads/{session}/commit", {"files": manifest}, expect=400)
    assert f"never arrived, e.g. {rel}" in error["error"]
    put_file(yatai, session, rel, (bundle / rel).read_bytes())
    wrong = dict(manifest, **{rel: "0" * 64})
    status, error = call(yatai, "POST", f"{API_PREFIX}/uploads/{session}/commit", {"files": wrong}, expect=400)
    assert "the manifest says" in error["error"]
    _, page = call(yatai, "GET", f"{API_PREFIX}/bundles?name=TeamText", expect=200)
    assert "checked-1" not in [b["version"] for b in page["bundles"]]
    call(yatai, "POST", f"{API_PREFIX}/uploads/{session}/commit", {"files": manifest}, expect=201)


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../escape.txt", "%2e%2e/escape.txt", "a/%2e%2e/%2e%2e/x",
                                  "/etc/passwd", "a%5c..%5cb", "a%00b"])
def test_paths_from_the_network_are_refused(yatai, path):
    session = open_session(yatai, "paths-1")
    status, error = call(yatai, "PUT", f"{API_PREFIX}/uploads/{session}/files/{path}", b"x",
                         {SHA256_HEADER: hashlib.sha256(b"x").hexdigest()})
    assert status in (400, 404), (status, error)
    if status == 400:
        assert "unsafe path" in error["error"]
    assert not (yatai.home / "escape.txt").exists() and not (yatai.home / "tmp" / "escape.txt").exists()
    call(yatai, "DELETE", f"{API_PREFIX}/uploads/{session}", expect=200)


def test_bad_requests_are_one_line_400s(yatai):
    for method, path, body in [("POST", f"{API_PREFIX}/uploads", b"not json"),
                               ("POST", f"{API_PREFIX}/uploads", {"name": "Bad Name", "version": "1"}),
                               ("GET", f"{API_PREFIX}/bundles?limit=0", None),
                               ("GET", f"{API_PREFIX}/bundles?limit=abc", None),
                               ("GET", f"{API_PREFIX}/bundles?order_by=size", None),
                               ("GET", f"{API_PREFIX}/bundles/TeamText/..%2fx", None)]:
        status, error = call(yatai, method, path, body)
        assert status in (400, 404) and isinstance(error, dict) and "\n" not in error["error"], (path, status, error)
    status, error = call(yatai, "GET", f"{API_PREFIX}/bundles/NoSuchBundle/latest")
    assert status == 404 and "NoSuchBundle" in error["error"]
    status, error = call(yatai, "PUT", f"{API_PREFIX}/uploads/nosuchsession/files/a", b"x", {SHA256_HEADER: "0" * 64})
    assert status == 404 and "no upload session" in error["error"]


def test_an_idle_session_expires_with_its_files(start_yatai, tmp_path, saved_bundle):
    server = start_yatai(tmp_path / "home", "--upload-timeout", "0.5", "--no-ui")
    session = open_session(server, "idle-1")
    put_file(server, session, "bentoml.yml", (saved_bundle / "bentoml.yml").read_bytes())
    assert len(list((server.home / "tmp").glob("upload-*"))) == 1
    deadline = time.monotonic() + 10
    while list((server.home / "tmp").glob("upload-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list((server.home / "tmp").glob("upload-*")), "an expired session's files are removed"
    status, error = put_file(server, session, "src/x.py", b"x", expect=404)
    assert "start the upload again" in error["error"]
    assert "expired after 0.5 s idle" in server.text


def test_pages_and_docs(yatai):
    _, page = call(yatai, "GET", f"{API_PREFIX}/bundles?limit=1", expect=200)
    assert page["limit"] == 1 and len(page["bundles"]) <= 1
    _, docs = call(yatai, "GET", "/docs.json", expect=200)
    assert docs["openapi"].startswith("3.") and f"{API_PREFIX}/uploads" in docs["paths"]
    assert "gRPC clients are not supported" in docs["info"]["description"]
    status, body = call(yatai, "GET", "/", None)
    ui = http.request("GET", yatai.ui_url + "/")
    assert ui.status == 200 and b"BentoML YataiService" in ui.data


def test_startup_lines(yatai):
    lines = yatai.text
    assert f"* Starting BentoML YataiService HTTP API on {yatai.hostport}\n" in lines
    assert "0.x gRPC clients are not supported" in lines
    assert f"* Usage: `bentoml config set yatai_service.url={yatai.hostport}`" in lines
    assert f"* Web UI: running on {yatai.ui_url}" in lines


def test_sigterm_drains_and_removes_open_sessions(start_yatai, tmp_path, saved_bundle):
    import signal

    server = start_yatai(tmp_path / "home", "--no-ui")
    session = open_session(server, "drained-1")
    put_file(server, session, "bentoml.yml", (saved_bundle / "bentoml.yml").read_bytes())
    http.clear()  # no keep-alive connection left for the drain to wait on
    assert list((server.home / "tmp").glob("upload-*"))
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    assert not list((server.home / "tmp").glob("upload-*")), "a graceful stop drops its sessions' files"
    assert "stopping (signal 15)" in server.text


def test_uploads_beyond_the_open_session_limit_are_refused(yatai):
    from bentoml.yatai.sessions import MAX_OPEN_SESSIONS

    opened = [open_session(yatai, "many-1") for _ in range(MAX_OPEN_SESSIONS)]
    status, error = call(yatai, "POST", f"{API_PREFIX}/uploads", {"name": "TeamText", "version": "many-1"})
    assert status == 503 and "uploads are in progress" in error["error"]
    for session in opened:
        call(yatai, "DELETE", f"{API_PREFIX}/uploads/{session}", expect=200)
    open_session(yatai, "many-1")


def test_every_request_is_in_the_access_log(yatai):
    call(yatai, "GET", f"{API_PREFIX}/bundles?limit=3", expect=200)
    line = "INFO bentoml.access: 127.0.0.1 GET /api/v1/bundles 200"
    deadline = time.monotonic() + 5  # the log is written off the request thread
    while line not in yatai.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert line in yatai.text


@pytest.mark.parametrize("args, env, said", [
    # where the S3 plugin is installed, tests/yatai/test_s3_storage.py checks its own errors
    (["--repo-base-url", "s3://team-bucket/bentos"], {"BENTOML_DISABLE_PLUGINS": "bentoml-storage-s3"},
     "bentoml-storage-s3"),
    (["--db-url", "nosuchdb://x"], {}, "cannot use the metadata database nosuchdb://x"),
])
def test_a_server_that_cannot_work_says_why_before_serving(tmp_path, args, env, said):
    import subprocess
    import sys

    from .conftest import clean_env

    proc = subprocess.run([sys.executable, "-m", "bentoml", "yatai-service-start", "--api-port", "0", "--no-ui",
                           *args], env=clean_env(BENTOML_HOME=str(tmp_path / "home"), **env), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and said in proc.stderr, proc.stderr
    assert "Running on" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

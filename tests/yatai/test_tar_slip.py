"""A server that sends what it should not: a tar member leaving the target, a link, a name
that is a path.  The client refuses each before anything is written outside its folders.

The server here is a small hostile HTTP server on loopback (what a user would never
run), answering the protocol's reads with crafted bodies.
"""
from __future__ import annotations

import http.server
import io
import json
import tarfile
import threading

import pytest

from bentoml.exceptions import InvalidArgument, RepositoryError
from bentoml.repository.cache import BundleCache
from bentoml.yatai.client import RemoteRepository

RECORD = {"seq": 1, "name": "Evil", "version": "1", "uri": {"type": "LOCAL", "uri": "/srv/Evil/1"},
          "created_at": "2026-01-01T00:00:00+00:00", "config": {}}


def _tar(member: str, link: bool = False) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("bentoml.yml")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
        info = tarfile.TarInfo(member)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    return out.getvalue()


@pytest.fixture
def hostile(tmp_path):
    answers = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version, sys_version = "bentoml YataiService", ""  # it pretends to be one

        def do_GET(self):
            body, kind = answers.get(self.path.split("?")[0], (json.dumps({"error": "no"}).encode(), "json"))
            self.send_response(200 if self.path.split("?")[0] in answers else 404)
            self.send_header("Content-Type", "application/json" if kind == "json" else "application/x-tar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "/api/v1/bundles/Evil"
    answers[f"{base}/1"] = answers[f"{base}/latest"] = (json.dumps(RECORD).encode(), "json")
    answers[f"{base}/1/checksum"] = (json.dumps({"seq": 1, "checksum": "0" * 64}).encode(), "json")
    repo = RemoteRepository(f"http://127.0.0.1:{server.server_address[1]}",
                            cache=BundleCache(str(tmp_path / "cache"), 1 << 30))
    yield repo, answers, base
    repo.close()
    server.shutdown()


@pytest.mark.parametrize("member, link", [("../escape.txt", False), ("a/../../escape.txt", False),
                                          ("/tmp/escape.txt", False), ("link", True)])
def test_tar_slip_is_refused(hostile, tmp_path, member, link):
    repo, answers, base = hostile
    answers[f"{base}/1/archive"] = (_tar(member, link), "tar")
    target = tmp_path / "out" / "bundle"
    with pytest.raises(InvalidArgument, match="unsafe"):
        repo.retrieve("Evil:1", str(target))
    with pytest.raises(InvalidArgument, match="unsafe"):
        repo.local_path("Evil:latest")
    assert not target.exists()
    assert not (tmp_path / "out" / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and "escape" in p.name]


def test_a_record_naming_a_path_is_refused(hostile):
    repo, answers, base = hostile
    answers[f"{base}/latest"] = (json.dumps(dict(RECORD, name="../../etc")).encode(), "json")
    with pytest.raises(RepositoryError, match="malformed bundle record"):
        repo.get("Evil")


def test_files_that_do_not_match_the_checksum_are_not_kept(hostile, tmp_path):
    repo, answers, base = hostile
    answers[f"{base}/1/archive"] = (_tar("model.pkl"), "tar")
    with pytest.raises(RepositoryError):
        repo.local_path("Evil:1")
    target = tmp_path / "copy"
    with pytest.raises(RepositoryError, match="checksum mismatch"):
        repo.retrieve("Evil:1", str(target))
    assert not target.exists()


def test_another_program_is_not_taken_for_a_yatai_service(tmp_path):
    """A 404 from a web server that is no YataiService is not "no such bundle"."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    repo = RemoteRepository(f"http://127.0.0.1:{server.server_address[1]}",
                            cache=BundleCache(str(tmp_path / "cache"), 1 << 30))
    try:
        with pytest.raises(RepositoryError, match="does not answer as a YataiService .*check yatai_service.url"):
            repo.get("IrisClassifier:latest")
    finally:
        repo.close()
        server.shutdown()

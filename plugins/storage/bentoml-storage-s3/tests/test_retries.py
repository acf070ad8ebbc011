"""Transient S3 errors are retried with backoff: a real HTTP proxy in front of moto answers
503 SlowDown, drops the connection and answers 500 before it lets a request through."""
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from bentoml.exceptions import RepositoryError
from bentoml_storage_s3 import S3Storage

_SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
              b'<Message>Please reduce your request rate.</Message></Error>')
_INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
             b'<Message>We encountered an internal error.</Message></Error>')
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _FlakyProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str):
        self.upstream = urlparse(upstream)
        self.faults: list = []  # what the next requests get, in order, before one goes through
        self.faulted = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            fault = self.server.faults.pop(0) if self.server.faults else None
            self.server.faulted += fault is not None
        if fault == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault in (503, 500):
            payload = _SLOW_DOWN if fault == 503 else _INTERNAL
            self.send_response(fault)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True
            return
        upstream = http.client.HTTPConnection(self.server.upstream.hostname, self.server.upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any


@pytest.fixture(scope="module")
def proxy(moto):
    server = _FlakyProxy(moto.endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def through_proxy(proxy, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{proxy.server_address[1]}")
    proxy.faults.clear()
    proxy.faulted = 0
    return proxy


def _bundle(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "bentoml.yml").write_text("name: Svc\n")
    (src / "model.bin").write_bytes(b"m" * 100_000)
    return src


def test_throttling_resets_and_5xx_are_retried(through_proxy, bucket, tmp_path):
    backend = S3Storage(f"s3://{bucket}/team")
    src = _bundle(tmp_path)
    through_proxy.faults[:] = [503, "reset", 500]
    backend.check_writable()
    through_proxy.faults[:] = [503, "reset", 500]
    uri = backend.put_dir(str(src), "Svc", "1")
    through_proxy.faults[:] = [503, "reset", 500]
    backend.get_dir(uri, str(tmp_path / "out"))
    assert (tmp_path / "out" / "model.bin").read_bytes() == b"m" * 100_000
    assert through_proxy.faulted == 9


def test_with_retries_switched_off_the_first_fault_fails(through_proxy, bucket, monkeypatch):
    """The converse: with AWS_MAX_ATTEMPTS=1 (the user's say) a 500 fails, in one line."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    through_proxy.faults[:] = [500]
    with pytest.raises(RepositoryError, match="InternalError|internal error") as err:
        S3Storage(f"s3://{bucket}/team").check_writable()
    assert "\n" not in str(err.value)

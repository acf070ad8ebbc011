"""An ``https://`` YataiService signed by a private CA: trusted with ``yatai_service.ca_bundle``,
refused in one line without it; a bearer token crosses the proxy to a server with
``--token-file``.  TLS is terminated by a small proxy in front of the real
server (waitress serves plain HTTP; a team puts TLS in front of it the same way)."""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from .conftest import READ_TOKEN, WRITE_TOKEN, cli, save

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")]


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=Team test CA", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    return d


def tls_proxy(upstream_hostport, certificates):
    """A TLS-terminating proxy to ``upstream_hostport``: (its https URL, its listener)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = upstream_hostport.rsplit(":", 1)

    def pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve():
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                tls = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            upstream = socket.create_connection((host, int(port)))
            threading.Thread(target=pump, args=(tls, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"https://127.0.0.1:{listener.getsockname()[1]}", listener


@pytest.fixture(scope="module")
def tls_url(yatai, certificates):
    url, listener = tls_proxy(yatai.hostport, certificates)
    yield url
    listener.close()


@pytest.fixture(scope="module")
def secured_tls_url(secured, certificates):
    url, listener = tls_proxy(secured.hostport, certificates)
    yield url
    listener.close()


def test_a_private_ca_is_trusted_through_ca_bundle(tls_url, certificates, tmp_path, service_src):
    ca = {"BENTOML__YATAI_SERVICE__CA_BUNDLE": str(certificates / "ca.pem")}
    save(service_src, tmp_path / "writer", tls_url, version="tls-1", **ca)
    out = cli(tmp_path / "reader", tls_url, "run", "TeamText:tls-1", "predict", "--input", '"hello"', **ca)
    assert out.stdout.strip() == '"greeting"'
    out = cli(tmp_path / "reader", tls_url, "list", ok=False)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"cannot reach the YataiService at {tls_url}: TLS failed" in out.stderr
    assert "yatai_service.ca_bundle" in out.stderr


def test_a_token_travels_through_the_tls_proxy(secured_tls_url, certificates, tmp_path, service_src):
    ca = {"BENTOML__YATAI_SERVICE__CA_BUNDLE": str(certificates / "ca.pem")}
    save(service_src, tmp_path / "writer", secured_tls_url, version="tls-tok-1",
         BENTOML__YATAI_SERVICE__TOKEN=WRITE_TOKEN, **ca)
    out = cli(tmp_path / "reader", secured_tls_url, "list", BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN, **ca)
    assert "TeamText:tls-tok-1" in out.stdout
    out = cli(tmp_path / "nobody", secured_tls_url, "list", ok=False, **ca)
    assert "refused the request" in out.stderr and len(out.stderr.strip().splitlines()) == 1

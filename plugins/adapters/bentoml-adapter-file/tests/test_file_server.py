"""Files over real HTTP: ``serve-gunicorn --enable-microbatch --workers 2``, and ``bentoml run --input-file``."""
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from bentoml.multipart import Part, encode_multipart
from bentoml.testing.server import save_service_source

SERVICE_SOURCE = textwrap.dedent('''\
    """Fingerprints uploaded files."""
    import hashlib

    import bentoml
    from bentoml.adapters import FileInput


    class FileDigest(bentoml.BentoService):
        """Length and SHA-256 of files."""

        @bentoml.api(input=FileInput())
        def digest(self, files):
            """Name, length and SHA-256 of each file."""
            out = []
            for f in files:
                data = f.read()
                out.append({"name": getattr(f, "name", None), "length": len(data),
                            "sha256": hashlib.sha256(data).hexdigest()})
            return out
    ''')


def digest(data, name=None):
    return {"name": name, "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("file_bundle") / "FileDigest"
    return save_service_source(SERVICE_SOURCE, "file_digest_service", "FileDigest", target)


@pytest.fixture(scope="module")
def server(start_server, bundle):
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch", "--workers", "2")


@pytest.fixture(scope="module")
def cli_run(bundle, tmp_path_factory):
    path = tmp_path_factory.mktemp("file_cli") / "payload.bin"
    path.write_bytes(os.urandom(5000))
    proc = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), "digest", "--input-file", str(path)],
                          capture_output=True, text=True, timeout=120)
    return proc, path.read_bytes()


def test_multipart_and_raw_uploads(server):
    data = os.urandom(100_000) + b"\r\n--not-a-boundary\r\n"
    content_type, body = encode_multipart([Part("attachment", data, "blob.bin", "application/octet-stream")])
    reply = server.post("/digest", body, content_type=content_type)
    assert reply.status == 200, reply
    assert reply.json() == digest(data, "blob.bin")
    raw = server.post("/digest", data, content_type="application/octet-stream")
    assert raw.status == 200 and raw.json() == digest(data)


def test_a_bad_upload_among_concurrent_good_ones_fails_alone(server):
    payloads = [os.urandom(1000 + i) for i in range(12)]
    two_files = encode_multipart([Part("a", b"1", "a.txt"), Part("b", b"2", "b.txt")])

    def send(i):
        if i == 5:
            return server.post("/digest", two_files[1], content_type=two_files[0])
        content_type, body = encode_multipart([Part("file", payloads[i], f"f{i}.bin")])
        return server.post("/digest", body, content_type=content_type)

    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(send, range(12)))
    for i, reply in enumerate(replies):
        if i == 5:
            assert reply.status == 400 and "expected one file per request" in reply.json()["error"], reply
        else:
            assert reply.status == 200, (i, reply)
            assert reply.json() == digest(payloads[i], f"f{i}.bin")


def test_docs_show_a_file_picker(server):
    content = server.get("/docs.json").json()["paths"]["/digest"]["post"]["requestBody"]["content"]
    assert content["application/octet-stream"]["schema"]["format"] == "binary"
    assert content["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"


def test_bentoml_run_input_file(cli_run):
    proc, data = cli_run
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == digest(data, "payload.bin")

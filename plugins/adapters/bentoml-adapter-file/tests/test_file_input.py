"""FileInput: one file per request (raw or multipart), a fresh BytesIO per API call."""
import io

from bentoml.adapters import HTTPRequest
from bentoml.multipart import Part, encode_multipart
from bentoml.testing import InputAdapterContract
from bentoml_adapter_file import FileInput

BINARY = bytes(range(256)) * 3


def multipart(*parts):
    content_type, body = encode_multipart(parts)
    return HTTPRequest(body, {"Content-Type": content_type})


class TestFileInput(InputAdapterContract):
    adapter = FileInput()
    distribution = "bentoml-adapter-file"
    good_requests = [
        (HTTPRequest(BINARY, {"Content-Type": "application/octet-stream"}), None),
        (HTTPRequest(b"%PDF-1.7 ...", {"Content-Type": "application/pdf"}, filename="/tmp/report.pdf"), None),
        (HTTPRequest(b"no content type", {}), None),
        (multipart(Part("upload", BINARY, "data.bin", "application/octet-stream")), None),
        (multipart(Part("note", b"a field"), Part("doc", b"text file", "notes.txt", "text/plain")), None),
        (multipart(Part("only_field", b"a lone field counts as the file")), None),
    ]
    bad_requests = [
        multipart(Part("a", b"1", "a.txt"), Part("b", b"2", "b.txt")),
        multipart(),
        HTTPRequest(b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ncut off",
                    {"Content-Type": "multipart/form-data; boundary=XyZ"}),
        HTTPRequest(b"body", {"Content-Type": "multipart/form-data"}),
    ]

    def check_batch(self, batch_value, tasks):
        assert all(isinstance(f, io.BytesIO) for f in batch_value)
        assert [f.read() for f in batch_value] == [BINARY, b"%PDF-1.7 ...", b"no content type", BINARY,
                                                   b"text file", b"a lone field counts as the file"]
        names = [getattr(f, "name", None) for f in batch_value]
        assert names == [None, "report.pdf", None, "data.bin", "notes.txt", None]


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import FileInput as resolved

    assert resolved is FileInput


def test_every_batch_gets_fresh_streams():
    """A batch that fails is retried task by task: each try must read the file from its start."""
    adapter = FileInput()
    tasks = [adapter.from_http_request(HTTPRequest(BINARY, {}))]
    first = adapter.batch(tasks)
    assert first[0].read() == BINARY
    assert adapter.batch(tasks)[0].read() == BINARY


def test_two_files_are_refused_naming_both():
    task = FileInput().from_http_request(multipart(Part("a", b"1", "a.txt"), Part("b", b"2", "b.txt")))
    assert task.error.status == 400
    assert "expected one file per request, got 2 parts: 'a' ('a.txt'), 'b' ('b.txt')" in task.error.message


def test_cli_files(tmp_path):
    path = tmp_path / "blob.dat"
    path.write_bytes(BINARY)
    adapter = FileInput()
    (single,) = adapter.batch([adapter.from_cli_files([(None, str(path))])])
    assert single.read() == BINARY and single.name == "blob.dat"
    (named,) = adapter.batch([adapter.from_cli_files([("attachment", str(path))])])
    assert named.read() == BINARY and named.name == "blob.dat"

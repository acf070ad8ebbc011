"""StringInput: bodies decoded by their charset (UTF-8 by default); undecodable or unknown charsets are 400."""
from bentoml.adapters import HTTPRequest
from bentoml.multipart import Part, encode_multipart
from bentoml.testing import InputAdapterContract
from bentoml_adapter_string import StringInput


def text(body, content_type="text/plain"):
    return HTTPRequest(body, {"Content-Type": content_type} if content_type else {})


def multipart(*parts):
    content_type, body = encode_multipart(parts)
    return HTTPRequest(body, {"Content-Type": content_type})


class TestStringInput(InputAdapterContract):
    adapter = StringInput()
    distribution = "bentoml-adapter-string"
    good_requests = [
        (text("best movie ever".encode()), None),
        (text("naïve café".encode("utf-8"), "text/plain; charset=UTF-8"), None),
        (text("naïve café".encode("latin-1"), "text/plain; charset=latin-1"), None),
        (text("日本語".encode("shift_jis"), 'text/plain; charset="shift_jis"'), None),
        (text(b'{"a": 1}', "application/json"), None),  # text whatever the media type
        (text(b"no content type", None), None),
        (multipart(Part("review", "über gut".encode("utf-8"), "r.txt", "text/plain")), None),
        (multipart(Part("review", "très bien".encode("latin-1"), None, "text/plain; charset=latin-1")), None),
    ]
    bad_requests = [
        text(b"\xff\xfe\xfa not utf-8"),
        text("日本語".encode("shift_jis"), "text/plain; charset=utf-8"),
        text(b"hello", "text/plain; charset=no-such-charset"),
        multipart(Part("a", b"\xff", "a.txt")),
        multipart(Part("a", b"one", "a.txt"), Part("b", b"two", "b.txt")),
        HTTPRequest(b"x", {"Content-Type": "multipart/form-data"}),
    ]

    def check_batch(self, batch_value, tasks):
        assert batch_value == ["best movie ever", "naïve café", "naïve café", "日本語", '{"a": 1}',
                               "no content type", "über gut", "très bien"]


def error(request):
    task = StringInput().from_http_request(request)
    assert task.error is not None and task.error.status == 400
    return task.error.message


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import StringInput as resolved

    assert resolved is StringInput


def test_errors_name_the_charset():
    assert "not valid utf-8 text" in error(text(b"\xff"))
    assert "unknown charset 'no-such-charset'" in error(text(b"x", "text/plain; charset=no-such-charset"))
    assert "not valid ascii text" in error(text("é".encode(), "text/plain; charset=ascii"))


def test_cli_literal_and_file(tmp_path):
    adapter = StringInput()
    assert adapter.from_cli_input("best movie ever").data == "best movie ever"
    path = tmp_path / "review.txt"
    path.write_text("from a file ✓", encoding="utf-8")
    assert adapter.from_cli_input(str(path)).data == "from a file ✓"
    assert adapter.from_cli_files([(None, str(path))]).data == "from a file ✓"

"""Binary, multipart and text request schemas: rendered JSON-safe in OpenAPI, and sendable by the contract."""
import json

import pytest

from bentoml.multipart import parse_multipart
from bentoml.openapi import openapi_spec, request_content
from bentoml.testing.contracts import example_request

UPLOAD_SERVICE = '''
from bentoml.multipart import is_multipart, parse_multipart


class UploadInput(InputAdapter):
    """Raw bytes or one multipart file; documents both with binary examples."""

    def _parse_http(self, request):
        if is_multipart(request):
            return InferenceTask(data=parse_multipart(request).single_upload().data)
        return InferenceTask(data=request.body)

    def _batch(self, tasks):
        return [t.data for t in tasks]

    def request_schema(self):
        binary = {"type": "string", "format": "binary"}
        return {
            "application/octet-stream": {"schema": binary, "example": b"\\x00\\xffraw"},
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": binary,
                                                                                 "note": {"type": "string"}}},
                                    "example": {"file": b"\\x89PNG", "note": "kept"}},
            "text/plain": {"schema": {"type": "string"}, "example": "plain text"},
        }


class Uploads(bentoml.BentoService):
    """Takes uploads."""

    @bentoml.api(input=UploadInput())
    def upload(self, blobs):
        return [len(b) for b in blobs]
'''


@pytest.fixture
def uploads(service_module):
    return service_module(UPLOAD_SERVICE, prefix="uploads").Uploads()


def test_openapi_drops_bytes_examples_and_keeps_binary_schemas(uploads):
    spec = openapi_spec(uploads)
    json.dumps(spec)  # serializable: /docs.json can be served
    content = spec["paths"]["/upload"]["post"]["requestBody"]["content"]
    raw = content["application/octet-stream"]
    assert raw == {"schema": {"type": "string", "format": "binary"}}  # Swagger UI: a file picker
    form = content["multipart/form-data"]
    assert form["schema"]["properties"]["file"]["format"] == "binary"
    assert form["example"] == {"note": "kept"}
    assert content["text/plain"]["example"] == "plain text"


def test_request_content_leaves_the_adapter_schema_alone(uploads):
    adapter = uploads.get_inference_api("upload").input_adapter
    request_content(adapter)
    assert adapter.request_schema()["application/octet-stream"]["example"] == b"\x00\xffraw"


def test_a_multipart_example_with_only_bytes_has_no_example(tiny):
    class Adapter(tiny.EchoInput):
        def request_schema(self):
            return {"multipart/form-data": {"schema": {}, "example": {"a": b"1", "b": b"2"}},
                    "application/json": {"schema": {}, "example": {}}}

    content = request_content(Adapter())
    assert "example" not in content["multipart/form-data"]
    assert content["application/json"]["example"] == {}  # an empty JSON example is still an example


# -- the contract's example -> request ---------------------------------------------------------------------
def test_example_request_bytes_are_the_body():
    req = example_request("image/*", b"\x89PNG")
    assert (req.body, req.headers["content-type"]) == (b"\x89PNG", "image/*")


def test_example_request_multipart_dict_is_encoded():
    req = example_request("multipart/form-data", {"file": b"\x00bin", "note": "text", "n": 3})
    form = parse_multipart(req)
    assert [(p.name, p.filename, p.data) for p in form.parts] == [
        ("file", "file", b"\x00bin"), ("note", None, b"text"), ("n", None, b"3")]


@pytest.mark.parametrize("media_type,example,body", [
    ("text/plain", "héllo", "héllo".encode()),
    ("text/csv", "a,b\n1,2\n", b"a,b\n1,2\n"),
    ("application/json", "a string", b'"a string"'),
    ("application/vnd.api+json", {"a": 1}, b'{"a": 1}'),
    ("application/json", [[1, 2]], b"[[1, 2]]"),
])
def test_example_request_text_and_json(media_type, example, body):
    assert example_request(media_type, example).body == body


def test_the_contract_sends_every_example_of_an_upload_adapter(uploads):
    adapter = uploads.get_inference_api("upload").input_adapter
    for media_type, entry in adapter.request_schema().items():
        task = adapter.from_http_request(example_request(media_type, entry["example"]))
        assert task.error is None, (media_type, task.error)

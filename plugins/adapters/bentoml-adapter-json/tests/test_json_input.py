import json

from bentoml.adapters import HTTPRequest
from bentoml.testing import InputAdapterContract
from bentoml_adapter_json import JsonInput

JSON = {"Content-Type": "application/json"}


def req(body, headers=JSON):
    return HTTPRequest(body.encode(), headers)


class TestJsonInput(InputAdapterContract):
    adapter = JsonInput()
    distribution = "bentoml-adapter-json"
    good_requests = [
        (req('{"text": "hello"}'), None),
        (req("[1, 2, 3]"), None),
        (req('"just a string"'), None),
        (req("null"), None),
        (req('{"a": 1}', {}), None),
    ]
    bad_requests = [req("{"), req("{'single': 'quotes'}"), req("[1, 2,]"), HTTPRequest(b"\xff", JSON)]

    def check_batch(self, batch_value, tasks):
        assert batch_value == [{"text": "hello"}, [1, 2, 3], "just a string", None, {"a": 1}]


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import JsonInput as resolved

    assert resolved is JsonInput


def test_list_request_is_one_input_answered_with_one_result():
    adapter = JsonInput()
    tasks = [adapter.from_http_request(req("[1, 2, 3]")), adapter.from_http_request(req('{"x": 1}'))]
    assert adapter.split(["first", "second"], tasks) == ["first", "second"]


def test_error_message_points_at_the_problem():
    task = JsonInput().from_http_request(req('{"a": 1,}'))
    assert task.error.status == 400 and "line 1 column 9" in task.error.message


def test_cli_input_is_parsed_as_json(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"from": "file"}))
    assert JsonInput().from_cli_input(str(path)).data == {"from": "file"}
    assert JsonInput().from_cli_input('{"from": "literal"}').data == {"from": "literal"}

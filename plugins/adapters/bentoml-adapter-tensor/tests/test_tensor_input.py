"""TfTensorInput: TF Serving's REST request formats, parsed and batched into real tf.Tensors."""
import base64
import json

import pytest

import bentoml
from bentoml.adapters import HTTPRequest
from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.testing import InputAdapterContract
from bentoml_adapter_tensor import TfTensorInput

JSON = {"Content-Type": "application/json"}


def req(body, headers=JSON):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return HTTPRequest(body.encode() if isinstance(body, str) else body, headers)


def parse(adapter, body):
    task = adapter.from_http_request(req(body))
    assert task.error is None, task.error
    return task


def error_of(adapter, body):
    task = adapter.from_http_request(req(body))
    assert task.error is not None, task.data
    assert task.error.status == 400
    return task.error.message


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


class TestTfTensorInput(InputAdapterContract):
    adapter = TfTensorInput()
    distribution = "bentoml-adapter-tensor"
    framework_module = "tensorflow"
    good_requests = [
        (req({"instances": [[5.1, 3.5, 1.4, 0.2]]}), 1),
        (req({"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]}), 2),
        (req({"instances": [{"a": [1, 2], "b": "x"}, {"a": [3, 4], "b": b64(b"\x00\xff")}]}), 2),
        (req({"inputs": [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [0.0, 0.0, 0.0, 0.0]]}), 3),
        (req({"inputs": {"a": [[1], [2]], "b": [b64(b"p"), b64(b"q")]}}), 2),
        (req({"instances": ["just text", "more text"]}), 2),
        (req({"instances": [7]}, {}), 1),  # no content type: read as JSON anyway
    ]
    bad_requests = [
        req("{"),
        req([[1.0, 2.0]]),
        req({"instances": [[1.0, 2.0], [3.0]]}),
        req({"instances": [[1, "a"]]}),
        req({"instances": [[True, 1]]}),
        req({"instances": [[1.0, None]]}),
        req({"instances": [{"a": 1, "b": 2}, {"a": 3}]}),
        req({"instances": [[1.0]], "inputs": [[1.0]]}),
        req({"instances": []}),
        req({"instances": [[1.0]], "signature_name": "serving_default"}),
        req({"inputs": 3.0}),
        req({"inputs": {"a": [1, 2], "b": [1]}}),
        req({"instances": [{"b64": "not base64!"}]}),
        req({"instances": [{"x": 1}, 2]}),
        req({"rows": [[1.0]]}),
    ]
    batch_requests = [
        req({"instances": [[1.0, 2.0, 3.0, 4.0]]}),
        req({"inputs": [[5, 6, 7, 8], [9, 10, 11, 12]]}),  # ints join the floats as float32
        req({"instances": [[0.5, 0.5, 0.5, 0.5]]}),
    ]

    def check_batch(self, batch_value, tasks):
        import tensorflow as tf

        assert isinstance(batch_value, tf.Tensor) and batch_value.dtype == tf.float32
        assert batch_value.numpy().tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [0.5] * 4]
        assert [t.count for t in tasks] == [1, 2, 1]


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import TfTensorInput as resolved

    assert resolved is TfTensorInput


def test_values_are_typed_like_tf_constant(tf):
    adapter = TfTensorInput()
    for value in ([[1.5, 2.0]], [[1, 2]], [[True, False]], [["a", "b"]], [[2 ** 40]]):
        batch = adapter.batch([parse(adapter, {"instances": value})])
        assert batch.dtype == tf.constant(value).dtype, value
        assert batch.numpy().tolist() == tf.constant(value).numpy().tolist()


def test_named_inputs_become_a_dict_of_tensors(tf):
    adapter = TfTensorInput()
    tasks = [parse(adapter, {"instances": [{"ids": [1, 2], "text": "hi"}]}),
             parse(adapter, {"inputs": {"ids": [[3, 4], [5, 6]], "text": ["a", "b"]}})]
    batch = adapter.batch(tasks)
    assert set(batch) == {"ids", "text"}
    assert batch["ids"].dtype == tf.int32 and batch["ids"].numpy().tolist() == [[1, 2], [3, 4], [5, 6]]
    assert batch["text"].dtype == tf.string and batch["text"].numpy().tolist() == [b"hi", b"a", b"b"]


def test_b64_values_are_bytes_anywhere(tf):
    adapter = TfTensorInput()
    raw = bytes(range(256))
    task = parse(adapter, {"instances": [[b64(raw), b64(b"")]], })
    batch = adapter.batch([task])
    assert batch.dtype == tf.string and batch.numpy().tolist() == [[raw, b""]]
    named = adapter.batch([parse(adapter, {"instances": [{"image": b64(raw)}]})])
    assert named["image"].numpy().tolist() == [raw]


@pytest.mark.parametrize("body, message", [
    ({"instances": [[1.0, 2.0], [3.0]]}, r"instance 1 has shape \(1,\) but instance 0 has \(2,\)"),
    ({"instances": [[1, "a"]]}, "mixes number and string values"),
    ({"instances": [{"a": 1, "b": 2}, {"a": 3}]}, "instance 1 is missing input 'b'"),
    ({"instances": [{"a": 1}, {"a": 3, "c": 4}]}, "instance 1 has input 'c'"),
    ({"instances": [[1.0]], "inputs": [[1.0]]}, "not both"),
    ({"instances": [[1.0, None]]}, "null"),
    ({"inputs": {"a": [1, 2], "b": [1]}}, "share their first"),
    ({"instances": [{"b64": "%%%"}]}, "not valid base64"),
    ({"instances": [{"a": [1, 2]}, {"a": [1]}]}, r"instance 1, input 'a' has shape \(1,\)"),
    ({"instances": [[{"x": 1}]]}, r"b64"),
    ({"inputs": []}, "empty"),
])
def test_errors_name_the_problem(body, message):
    import re

    assert re.search(message, error_of(TfTensorInput(), body))


def test_a_batch_of_incompatible_requests_fails_as_bad_input():
    adapter = TfTensorInput()
    for bodies, message in [
        ([{"instances": [[1.0, 2.0]]}, {"instances": [[1.0, 2.0, 3.0]]}], "different shapes"),
        ([{"instances": [["a"]]}, {"instances": [[1.0]]}], "different types"),
        ([{"instances": [{"a": 1}]}, {"instances": [{"b": 1}]}], "name different inputs"),
        ([{"instances": [{"a": 1}]}, {"instances": [1]}], "mix named and unnamed"),
    ]:
        with pytest.raises(BadInput, match=message):
            adapter.batch([parse(adapter, b) for b in bodies])


def test_in_a_service_an_odd_request_fails_alone_and_results_split_per_instance():
    """handle_batch: the batch with a 3-wide request fails, then each request runs alone."""
    calls = []

    class Doubler(bentoml.BentoService):
        @bentoml.api(input=TfTensorInput())
        def double(self, tensor):
            calls.append(tuple(tensor.shape))
            return tensor * 2

        @bentoml.api(input=TfTensorInput())
        def outputs(self, tensor):
            return {"sum": bentoml_sum(tensor), "first": tensor[:, 0]}

    def bentoml_sum(tensor):
        import tensorflow as tf

        return tf.reduce_sum(tensor, axis=1)

    svc = Doubler()
    api = svc.get_inference_api("double")
    bodies = [{"instances": [[1.0, 2.0]]}, {"instances": [[1.0, 2.0, 3.0]]}, {"inputs": [[3, 4], [5, 6]]}]
    results = api.handle_batch([api.input_adapter.from_http_request(req(b)) for b in bodies])
    assert [r.status for r in results] == [200, 200, 200]
    assert [json.loads(r.body) for r in results] == [[[2.0, 4.0]], [[2.0, 4.0, 6.0]], [[6, 8], [10, 12]]]
    # joining them failed in batch(), before the API was called: it ran once per request
    assert sorted(calls) == [(1, 2), (1, 3), (2, 2)]

    api = svc.get_inference_api("outputs")
    tasks = [api.input_adapter.from_http_request(req({"instances": [[1.0, 2.0], [3.0, 4.0]]})),
             api.input_adapter.from_http_request(req({"instances": [[5.0, 6.0]]}))]
    results = api.handle_batch(tasks)
    assert [json.loads(r.body) for r in results] == [
        [{"sum": 3.0, "first": 1.0}, {"sum": 7.0, "first": 3.0}], [{"sum": 11.0, "first": 5.0}]]


def test_string_results_serialize_as_text():
    class Echo(bentoml.BentoService):
        @bentoml.api(input=TfTensorInput())
        def echo(self, tensor):
            return tensor

    api = Echo().get_inference_api("echo")
    (result,) = api.handle_batch([api.input_adapter.from_http_request(req({"instances": ["héllo", "wörld"]}))])
    assert result.status == 200 and json.loads(result.body) == ["héllo", "wörld"]


def test_dtype_option_casts_without_changing_values(tf):
    adapter = TfTensorInput(dtype="int64")
    batch = adapter.batch([parse(adapter, {"instances": [[1, 2.0]]})])
    assert batch.dtype == tf.int64 and batch.numpy().tolist() == [[1, 2]]
    assert "non-integer values (e.g. 3.7)" in error_of(adapter, {"instances": [[1, 3.7]]})
    assert "holds strings (e.g. 'a') but float16 is expected" in error_of(TfTensorInput(dtype="float16"),
                                                                          {"instances": [["a"]]})
    assert "holds int64 numbers (e.g. 1) but strings are expected" in error_of(TfTensorInput(dtype="string"),
                                                                               {"instances": [[1]]})
    assert "outside the uint8 range [0, 255] (e.g. 300)" in error_of(TfTensorInput(dtype="uint8"),
                                                                     {"instances": [[300]]})
    assert "too large for float16 (e.g. 1000000.0)" in error_of(TfTensorInput(dtype="float16"),
                                                                {"instances": [[1e6]]})
    # large integers are cast from full precision, not through float32
    big = 2 ** 53 + 1
    assert adapter.batch([parse(adapter, {"instances": [[big]]})]).numpy().tolist() == [[big]]


def test_dtype_per_named_input(tf):
    adapter = TfTensorInput(dtype={"ids": "int64", "weight": "float64"})
    batch = adapter.batch([parse(adapter, {"instances": [{"ids": 3, "weight": 1, "note": "x"}]})])
    assert batch["ids"].dtype == tf.int64 and batch["weight"].dtype == tf.float64
    assert batch["note"].dtype == tf.string
    assert "input 'weight' is missing" in error_of(adapter, {"instances": [{"ids": 3}]})
    assert "expects named inputs" in error_of(adapter, {"instances": [[1]]})


@pytest.mark.parametrize("dtype", [None, "float32", "int32", "bool", "string", {"a": "int64", "b": "string"}])
def test_schema_example_parses_for_each_dtype(dtype):
    adapter = TfTensorInput(dtype=dtype)
    (entry,) = adapter.request_schema().values()
    parse(adapter, entry["example"])
    assert json.loads(json.dumps(adapter.config)) == {"dtype": dtype, "is_batch_input": True}


@pytest.mark.parametrize("dtype", ["float", "datetime64", "str", 3, {"a": "nope"}, {}, {1: "int32"}])
def test_bad_dtype_options(dtype):
    if dtype == "float":  # numpy's alias: accepted, named canonically
        assert TfTensorInput(dtype=dtype).dtype == "float64"
        return
    with pytest.raises(InvalidArgument, match="TfTensorInput"):
        TfTensorInput(dtype=dtype)


def test_tf_dtype_objects_are_accepted(tf):
    assert TfTensorInput(dtype=tf.float32).dtype == "float32"
    assert TfTensorInput(dtype=tf.string).dtype == "string"


def test_cli_input_is_the_same_json():
    task = TfTensorInput().from_cli_input('{"instances": [[1.0, 2.0]]}')
    assert task.error is None and task.count == 1 and task.data.tolist() == [[1.0, 2.0]]


def test_parsing_needs_no_tensorflow():
    """Requests are parsed in the server's request threads with numpy alone."""
    import subprocess
    import sys

    code = ("import sys, json; from bentoml.adapters import HTTPRequest; "
            "from bentoml_adapter_tensor import TfTensorInput; "
            "t = TfTensorInput().from_http_request(HTTPRequest(b'{\"instances\": [[1, 2]]}')); "
            "print(t.count, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "False"]

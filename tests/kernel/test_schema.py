"""Input schemas recorded from ``pack(..., input_example=...)``: inference, bentoml.yml, binding to APIs.

The kernel alone (no numpy, no pandas): examples here are lists of rows.
"""
import json

import pytest
import yaml

import bentoml
from bentoml.adapters import HTTPRequest
from bentoml.bundle.config import BundleConfig
from bentoml.exceptions import BundleError, InvalidArgument
from bentoml.schema import ColumnSpec, InputSchema

SCHEMA_SERVICE = '''
from bentoml.exceptions import BadInput


class WidthCheckingInput(EchoInput):
    """EchoInput that, bound to a schema, refuses rows of another width."""

    schema = None

    def with_schema(self, schema):
        bound = WidthCheckingInput()
        bound.schema = schema
        return bound

    def _parse_http(self, request):
        task = super()._parse_http(request)
        if self.schema is not None and len(task.data) != self.schema.width:
            raise BadInput(f"{len(task.data)} values for {self.schema.describe()}")
        return task

    def request_schema(self):
        if self.schema is None:
            return {"application/json": {"schema": {"type": "array"}}}
        return {"application/json": {"schema": {"type": "array"}, "example": self.schema.example}}


@bentoml.artifacts([TextArtifact("model"), TextArtifact("other")])
class Scorer(bentoml.BentoService):
    @bentoml.api(input=WidthCheckingInput())
    def score(self, rows):
        return [len(r) for r in rows]

    @bentoml.api(input=EchoInput())
    def echo(self, rows):
        return rows
'''

ROWS = [{"age": 42, "income": 1.5, "city": "Oslo", "member": True},
        {"age": 7, "income": 2, "city": "Rome", "member": False}]


@pytest.fixture
def scorer(service_module):
    return service_module(SCHEMA_SERVICE, prefix="scorer")


def test_infer_from_records_and_lists():
    schema = InputSchema.infer(ROWS)
    assert schema.names == ["age", "income", "city", "member"]
    assert [c.type for c in schema.columns] == ["long", "double", "string", "boolean"]
    assert schema.example == [42, 1.5, "Oslo", True]
    assert schema.describe() == "age (long), income (double), city (string), member (boolean)"
    unnamed = InputSchema.infer([[5.1, 3, "a"], [6.2, 4, None]])
    assert unnamed.names is None and [c.type for c in unnamed.columns] == ["double", "long", "string"]
    assert unnamed.describe() == "3 columns (double, long, string)"


@pytest.mark.parametrize("example, needle", [
    ([], "empty list"),
    ([[1, 2], [3]], "same number of values"),
    ([[1], {"a": 1}], "all lists, or all dicts"),
    ([[None], [None]], "only missing values"),
    ([["a"], [1]], "mixes values of types int, str"),
    ({"a": [1]}, "must be a pandas DataFrame, a 2-D numpy array or a list of rows"),
    ("text", "must be a pandas DataFrame"),
])
def test_infer_refuses_what_is_not_a_table(example, needle):
    with pytest.raises(InvalidArgument, match=needle):
        InputSchema.infer(example)


def test_schema_checks_itself():
    with pytest.raises(InvalidArgument, match="all named, or none"):
        InputSchema([ColumnSpec(name="a", type="double"), ColumnSpec(type="double")])
    with pytest.raises(InvalidArgument, match="not one of"):
        ColumnSpec(name="a", type="float64")
    with pytest.raises(InvalidArgument, match="once"):
        InputSchema([ColumnSpec(name="a"), ColumnSpec(name="a")])
    untyped = InputSchema([ColumnSpec(name="a"), ColumnSpec(name="b", type="long")])
    assert untyped.example_row() is None  # no value to show for a column of unknown type
    typed = InputSchema([ColumnSpec(name="a", type="double"), ColumnSpec(name="b", type="string")])
    assert typed.example_row() == [0.0, ""]


def test_pack_records_the_schema_and_bentoml_yml_keeps_it(scorer, tmp_path):
    svc = scorer.Scorer().pack("model", "weights", input_example=ROWS).pack("other", "x")
    assert svc.artifacts["model"].input_schema == InputSchema.infer(ROWS)
    assert svc.artifacts["other"].input_schema is None
    path = svc.save_to_dir(str(tmp_path / "bundle"))
    written = yaml.safe_load(open(f"{path}/bentoml.yml"))
    model, other = written["artifacts"]
    assert model["input_schema"]["columns"][0] == {"name": "age", "type": "long"}
    assert model["input_schema"]["example"] == [42, 1.5, "Oslo", True]
    assert "input_schema" not in other  # optional: absent rather than null
    assert written["schema_version"] == 1
    loaded = bentoml.load_from_dir(path)
    assert loaded.artifacts["model"].input_schema == svc.artifacts["model"].input_schema
    assert loaded.artifacts["other"].input_schema is None


def test_bundles_without_schemas_still_load(tmp_path):
    data = {"schema_version": 1, "kind": "BentoService", "name": "Svc", "version": "v1",
            "created_at": "2020-01-01T00:00:00+00:00", "bentoml_version": "2.0.0",
            "service": {"module": "svc", "class_name": "Svc"}, "env": {"python_version": "3.11.0"},
            "artifacts": [{"name": "m", "artifact_type": "TextArtifact", "provider": {"distribution": "local"}}]}
    assert BundleConfig.from_dict(data).artifacts[0].input_schema is None
    data["artifacts"][0]["input_schema"] = {"columns": [{"name": "a", "type": "float64"}]}
    with pytest.raises(BundleError, match="corrupt"):
        BundleConfig.from_dict(data)


def test_packing_again_without_an_example_forgets_the_schema(scorer):
    svc = scorer.Scorer().pack("model", "w", input_example=ROWS)
    svc.pack("model", "w2")
    assert svc.artifacts["model"].input_schema is None
    with pytest.raises(InvalidArgument, match="input_example of artifact 'model'"):
        svc.pack("model", "w3", input_example=[[None]])
    assert svc.artifacts["model"].get() == "w2"  # a bad example leaves the artifact as it was


def _answer(svc, api, body):
    api = svc.get_inference_api(api)
    (result,) = api.handle_batch([api.input_adapter.from_http_request(HTTPRequest(json.dumps(body).encode()))])
    return result.status, json.loads(result.body)


def test_the_one_schema_of_a_service_binds_its_apis_adapters(scorer):
    svc = scorer.Scorer().pack("model", "w", input_example=[[1.0, 2.0, 3.0]]).pack("other", "x")
    api = svc.get_inference_api("score")
    assert api.input_adapter is not api.spec.input_adapter
    assert api.input_adapter is api.input_adapter  # bound once, not per request
    assert _answer(svc, "score", [1, 2, 3]) == (200, 3)
    status, body = _answer(svc, "score", [1, 2])
    assert status == 400 and body["error"] == "WidthCheckingInput: 2 values for 3 columns (double, double, double)"
    assert svc.get_inference_api("echo").input_adapter is svc.get_inference_api("echo").spec.input_adapter
    from bentoml.openapi import openapi_spec

    content = openapi_spec(svc)["paths"]["/score"]["post"]["requestBody"]["content"]
    assert content["application/json"]["example"] == [1.0, 2.0, 3.0]


def test_no_schema_or_several_bind_nothing(scorer):
    svc = scorer.Scorer().pack("model", "w").pack("other", "x")
    assert svc.get_inference_api("score").input_adapter is svc.get_inference_api("score").spec.input_adapter
    assert _answer(svc, "score", [1, 2]) == (200, 2)
    svc.pack("model", "w", input_example=[[1.0, 2.0, 3.0]]).pack("other", "x", input_example=[[1]])
    # which model an API feeds is up to its function: with two schemas, none is imposed
    assert svc.get_inference_api("score").input_adapter is svc.get_inference_api("score").spec.input_adapter


def test_fresh_instances_do_not_share_schemas(scorer):
    first = scorer.Scorer().pack("model", "w", input_example=ROWS)
    assert scorer.Scorer().artifacts["model"].input_schema is None
    assert first.artifacts["model"].input_schema is not None

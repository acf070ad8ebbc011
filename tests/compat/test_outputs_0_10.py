"""BentoML 0.10-0.13 services: output adapters, ``bentoml.types`` and ``@api(route=...)``.

0.10 made the output an adapter of its own (``output=DefaultOutput()``,
``DataframeOutput(output_orient=...)``, ``TfTensorOutput()``,
``JsonSerializableOutput``, renamed ``JsonOutput(ensure_ascii=...)`` in 0.11),
moved type names to ``bentoml.types``, and 0.13 added ``route=`` to serve an
API at a path other than its name.  A service written that way is saved,
served over real HTTP and run from the CLI here.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import bentoml
from bentoml.exceptions import InvalidArgument
from bentoml.testing.server import Server, save_service_source

SOURCE = textwrap.dedent('''\
    from typing import List

    import pandas as pd

    import bentoml
    from bentoml.adapters import DataframeInput, DataframeOutput, DefaultOutput, JsonInput, JsonOutput
    from bentoml.adapters.json_output import JsonSerializableOutput
    from bentoml.types import JsonSerializable


    class Outputs010(bentoml.BentoService):

        @bentoml.api(input=DataframeInput(), output=DefaultOutput(), batch=True)
        def default(self, df: pd.DataFrame):
            return df * 2

        @bentoml.api(input=DataframeInput(), output=DataframeOutput(output_orient="columns"), batch=True)
        def columns(self, df):
            return df * 2

        @bentoml.api(input=DataframeInput(), output=DataframeOutput(output_orient="values", cors=None),
                     batch=True)
        def values(self, df):
            return df["a"] + df["b"]

        @bentoml.api(input=JsonInput(), output=JsonOutput(ensure_ascii=False), batch=False)
        def greet(self, doc: JsonSerializable) -> JsonSerializable:
            return {"greeting": "h\\u00e9llo " + doc["name"]}

        @bentoml.api(input=JsonInput(), output=JsonSerializableOutput(), batch=True)
        def count(self, docs: List[JsonSerializable]):
            return [len(doc) for doc in docs]

        @bentoml.api(input=JsonInput(), route="v2/models/outputs/predict", batch=True)
        def routed(self, docs):
            return [doc["x"] + 1 for doc in docs]
    ''')


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return save_service_source(SOURCE, "outputs_0_10_service", "Outputs010",
                               tmp_path_factory.mktemp("outputs010") / "Outputs010")


@pytest.fixture(scope="module")
def server(bundle):
    running = Server(["serve", str(bundle), "--port", "0", "--enable-microbatch"])
    yield running
    running.stop()


ROWS = [{"a": 1, "b": 10}, {"a": 2, "b": 20}]


@pytest.mark.parametrize("path, body, expected", [
    ("/default", ROWS, [{"a": 2, "b": 20}, {"a": 4, "b": 40}]),
    ("/columns", ROWS, {"a": {"0": 2, "1": 4}, "b": {"0": 20, "1": 40}}),
    ("/values", ROWS, [[11], [22]]),
    ("/count", {"x": 1, "y": 2}, 2),
    ("/v2/models/outputs/predict", {"x": 41}, 42),
])
def test_0_10_outputs_answer_as_0_10_did(server, path, body, expected):
    reply = server.post(path, body)
    assert reply.status == 200, reply
    assert reply.json() == expected


def test_json_output_without_ensure_ascii_writes_utf_8(server):
    reply = server.post("/greet", {"name": "w\u00f6rld"})
    assert reply.status == 200, reply
    assert reply.body == '{"greeting": "h\u00e9llo w\u00f6rld"}'.encode("utf-8")


def test_a_routed_api_is_not_also_served_at_its_name(server):
    assert server.post("/routed", {"x": 1}).status == 404
    spec = json.loads(server.get("/docs.json").body)
    assert "/v2/models/outputs/predict" in spec["paths"] and "/routed" not in spec["paths"]


def test_route_and_output_options_are_kept_in_the_bundle_and_after_load(bundle):
    import yaml

    apis = {api["name"]: api for api in yaml.safe_load((bundle / "bentoml.yml").read_text())["apis"]}
    assert apis["routed"]["route"] == "v2/models/outputs/predict"
    assert apis["columns"]["output_config"] == {"output_orient": "columns"}
    assert apis["greet"]["output_config"] == {"ensure_ascii": False}
    loaded = bentoml.load(str(bundle))
    by_name = {api.name: api for api in loaded.inference_apis}
    assert by_name["routed"].path == "/v2/models/outputs/predict"
    assert by_name["columns"].output_adapter.output_orient == "columns"
    assert loaded.count([{"x": 1}]) == [1]


def test_bentoml_run_takes_the_api_name_of_a_routed_api(bundle):
    proc = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), "routed", "--input", '{"x": 1}'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == 2


# -- declarations refused with a message naming what is wrong ------------------------------
def _predict(self, docs):
    return docs


@pytest.mark.parametrize("route, message", [
    ("v1/predict?x=1", "is not a URL path"),
    ("v1/../docs", "is not a URL path"),
    ("v1//predict", "is not a URL path"),
    ("<int:x>", "is not a URL path"),
    ("", "is not a URL path"),
    ("docs/predict", "starts with 'docs', which the API server answers itself"),
    ("/healthz", "starts with 'healthz'"),
    (7, "must be a string"),
])
def test_bad_routes_are_refused(route, message):
    from bentoml.adapters import JsonInput

    with pytest.raises(InvalidArgument, match=message.replace("?", r"\?")):
        bentoml.api(input=JsonInput(), route=route)(_predict)


def test_two_apis_at_one_path_are_refused():
    from bentoml.adapters import JsonInput

    with pytest.raises(InvalidArgument, match="APIs 'a' and 'b' are both served at /a"):
        class Clash(bentoml.BentoService):
            @bentoml.api(input=JsonInput())
            def a(self, docs):
                return docs

            @bentoml.api(input=JsonInput(), route="/a")
            def b(self, docs):
                return docs


def test_a_leading_slash_is_the_same_route():
    from bentoml.adapters import JsonInput

    func = bentoml.api(input=JsonInput(), route="/v1/predict")(_predict)
    assert func._bento_api_spec.path == "/v1/predict"


@pytest.mark.parametrize("make, message", [
    (lambda: bentoml.adapters.DataframeOutput(output_orient="rows"), r"output_orient=...\) must be one of"),
    (lambda: bentoml.adapters.JsonOutput(ensure_ascii="no"), r"ensure_ascii=...\) must be True or False"),
    (lambda: bentoml.adapters.DefaultOutput(cors=1), r"cors=...\) must be a string or None"),
])
def test_bad_output_options_are_refused(make, message):
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_0_10_output_names_are_one_implementation():
    from bentoml.adapters import DefaultOutput, JsonOutput, JsonSerializableOutput, TfTensorOutput
    from bentoml.adapters.dataframe_output import DataframeOutput
    from bentoml.adapters.default_output import DefaultOutput as default_from_module
    from bentoml.adapters.tensorflow_tensor_output import TfTensorOutput as tensor_from_module

    assert DefaultOutput is JsonOutput is JsonSerializableOutput is default_from_module
    assert issubclass(DataframeOutput, JsonOutput) and issubclass(TfTensorOutput, JsonOutput)
    assert tensor_from_module is TfTensorOutput


def test_bentoml_types_names_what_apis_receive():
    import io

    from bentoml.types import FileLike, HTTPRequest, InferenceTask, JsonSerializable

    assert FileLike is io.BytesIO
    assert str in JsonSerializable.__args__ and InferenceTask is bentoml.adapters.InferenceTask
    assert HTTPRequest is bentoml.adapters.HTTPRequest
    with pytest.raises(ImportError, match="custom adapter interface, which this version replaced"):
        from bentoml.types import HTTPResponse  # noqa: F401

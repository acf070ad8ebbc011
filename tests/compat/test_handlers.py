"""BentoML 0.7-0.8's ``bentoml.handlers``: each ``*Handler`` is the real adapter, and the old
decorator form ``@bentoml.api(DataframeHandler, typ="series", ...)`` builds it.

From the 0.8 API reference ("API InputAdapters (former Handlers)": DataframeHandler,
JsonHandler, TensorflowTensorHandler, ImageHandler, LegacyImageHandler,
FastaiImageHandler, the Clipper handlers) and the 0.4-0.8 README
(``@bentoml.api(DataframeHandler)``).
"""
from __future__ import annotations

import importlib
import json

import pytest

import bentoml
from bentoml.adapters import HTTPRequest
from bentoml.exceptions import InvalidArgument, MissingPlugin

HANDLERS = [
    ("DataframeHandler", "DataframeInput"),
    ("JsonHandler", "JsonInput"),
    ("ImageHandler", "ImageInput"),
    ("TensorflowTensorHandler", "TfTensorInput"),
]


@pytest.mark.parametrize("handler,adapter", HANDLERS)
def test_each_handler_is_the_adapter_itself(handler, adapter):
    import bentoml.adapters
    import bentoml.handlers

    assert getattr(bentoml.handlers, handler) is getattr(bentoml.adapters, adapter)


@pytest.mark.parametrize("module,handler,adapter", [
    ("bentoml.handlers.dataframe_handler", "DataframeHandler", "DataframeInput"),
    ("bentoml.handlers.json_handler", "JsonHandler", "JsonInput"),
    ("bentoml.handlers.image_handler", "ImageHandler", "ImageInput"),
    ("bentoml.handlers.tensorflow_tensor_handler", "TensorflowTensorHandler", "TfTensorInput"),
])
def test_the_handler_modules_of_0_7_give_the_same_class(module, handler, adapter):
    import bentoml.adapters

    assert getattr(importlib.import_module(module), handler) is getattr(bentoml.adapters, adapter)


@pytest.mark.parametrize("handler,names", [
    ("FastaiImageHandler", ["FastaiImageInput", "fastai", "ImageInput"]),
    ("LegacyImageHandler", ["LegacyImageInput", "MultiImageInput", "batch=False"]),
    ("ClipperBytesHandler", ["ClipperBytesInput", "Clipper"]),
    ("ClipperStringsHandler", ["ClipperStringsInput", "Clipper"]),
])
def test_handlers_without_a_plugin_say_why_and_what_to_use(handler, names):
    with pytest.raises(MissingPlugin) as info:
        exec(f"from bentoml.handlers import {handler}", {})
    message = str(info.value)
    assert f"bentoml.handlers.{handler}" in message and "\n" not in message
    for name in names:
        assert name in message


def test_a_missing_adapter_plugin_names_its_distribution(python):
    proc = python("-c", "from bentoml.handlers import DataframeHandler", ok=False,
                  env={"BENTOML_DISABLE_PLUGINS": "bentoml-adapter-dataframe"})
    last = proc.stderr.strip().splitlines()[-1]
    assert "MissingPlugin" in last and "bentoml-adapter-dataframe" in last and "pip install" in last


def test_old_decorator_form_builds_the_adapter_with_its_options(write_service):
    module = write_service('''\
        import bentoml
        from bentoml.handlers import DataframeHandler, JsonHandler

        class Legacy(bentoml.BentoService):
            @bentoml.api(DataframeHandler, typ='series', input_dtypes="int64")
            def sums(self, series):
                return (series * 2).tolist()

            @bentoml.api(JsonHandler)
            def echo(self, docs):
                return docs
        ''', "legacy_handlers_service")
    svc = module.Legacy()
    sums = svc.get_inference_api("sums")
    assert sums.input_adapter.input_type == "DataframeInput"
    assert sums.input_adapter.config["typ"] == "series"
    assert sums.input_adapter.config["input_dtypes"] == "int64"
    task = sums.input_adapter.from_http_request(HTTPRequest(b"[1, 2.0, 3]", {"Content-Type": "application/json"}))
    result = sums.handle_batch([task])[0]
    assert (result.status, json.loads(result.body)) == (200, [2, 4, 6])
    assert svc.get_inference_api("echo").input_adapter.input_type == "JsonInput"


def test_old_decorator_form_records_the_options_in_the_bundle(write_service, tmp_path):
    import yaml

    module = write_service('''\
        import bentoml
        from bentoml.handlers import DataframeHandler

        class LegacySaved(bentoml.BentoService):
            @bentoml.api(DataframeHandler, orient="records")
            def predict(self, df):
                return df.sum(axis=1).tolist()
        ''', "legacy_saved_service")
    path = module.LegacySaved().save_to_dir(str(tmp_path / "bundle"))
    api = yaml.safe_load(open(f"{path}/bentoml.yml"))["apis"][0]
    assert (api["input_type"], api["input_config"]["orient"]) == ("DataframeInput", "records")
    loaded = bentoml.load_from_dir(path)
    request = HTTPRequest(b'[{"a": 1, "b": 2}]', {"Content-Type": "application/json"})
    api = loaded.get_inference_api("predict")
    assert json.loads(api.handle_batch([api.input_adapter.from_http_request(request)])[0].body) == [3]


@pytest.mark.parametrize("options,message", [
    ({"input_dtype": {"a": "int"}}, "unexpected option 'input_dtype'; did you mean 'input_dtypes'?"),
    ({"typ": "series", "orinet": "records"}, "unexpected option 'orinet'; did you mean 'orient'?"),
    ({"mb_max_latancy": 10}, "unexpected option 'mb_max_latancy'; did you mean 'mb_max_latency'?"),
])
def test_a_misspelled_adapter_option_suggests_the_right_one(options, message):
    from bentoml.handlers import DataframeHandler

    with pytest.raises(InvalidArgument) as info:
        bentoml.api(DataframeHandler, **options)
    assert message in str(info.value) and str(info.value).startswith("@api(DataframeInput, ...)")


def test_the_old_form_passes_api_options_to_the_api_and_the_rest_to_the_adapter():
    from bentoml.handlers import DataframeHandler

    def predict(self, df):
        """docstring"""
        return df

    bentoml.api(DataframeHandler, typ="series", api_name="sums", mb_max_batch_size=7)(predict)
    spec = predict._bento_api_spec
    assert (spec.name, spec.mb_max_batch_size, spec.input_adapter.config["typ"]) == ("sums", 7, "series")

"""Spellings of BentoML 0.8.3-0.13 that the iris and gallery services do not use.

- ``LegacyJsonInput`` (0.8.3-0.13): the API function takes one parsed JSON
  document and returns its one result, as JSON APIs did before 0.8;
- ``DataframeInput(dtype=...)`` (0.9-0.13's name of ``input_dtypes``), also in
  the 0.7-0.8 form ``@api(DataframeHandler, dtype=...)``;
- ``from bentoml.service.artifacts.pickle import PickleArtifact`` (where 0.9's own
  example service imported it from).

The service is saved, served with micro-batching over real HTTP and run with
``bentoml run``.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import bentoml
from bentoml.exceptions import InvalidArgument

SOURCE = '''\
    import time

    import bentoml
    from bentoml.adapters import DataframeInput, LegacyJsonInput
    from bentoml.handlers import DataframeHandler
    from bentoml.service.artifacts.pickle import PickleArtifact


    @bentoml.artifacts([PickleArtifact("scale")])
    class Example09(bentoml.BentoService):

        @bentoml.api(input=LegacyJsonInput())
        def predict_legacy_json(self, input_data):
            time.sleep(0.02)  # slow enough that concurrent requests share a batch
            return {"doubled": input_data["x"] * self.artifacts.scale, "type": type(input_data).__name__}

        @bentoml.api(input=DataframeInput(dtype={"col1": "int"}))
        def predict_dataframe(self, df):
            return [str(df["col1"].dtype)] * len(df)

        @bentoml.api(DataframeHandler, dtype={"col1": "int"})
        def predict_dataframe_v1(self, df):
            return [str(df["col1"].dtype)] * len(df)
    '''


@pytest.fixture
def saved(write_service):
    svc = write_service(SOURCE, "example_0_9_service").Example09()
    svc.pack("scale", 2)
    return svc.save()


def test_the_0_9_example_service_serves_and_runs(saved, python, start_server):
    server = start_server("serve", "Example09:latest", "--port", "0", "--enable-microbatch")
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda x: server.post("/predict_legacy_json", {"x": x}), range(8)))
        assert [(r.status, r.json()) for r in replies] == [(200, {"doubled": 2 * x, "type": "dict"})
                                                           for x in range(8)]
        for api in ("predict_dataframe", "predict_dataframe_v1"):
            reply = server.post(f"/{api}", [{"col1": "3"}, {"col1": 4.0}])
            assert (reply.status, reply.json()) == (200, ["int64", "int64"]), api
            assert server.post(f"/{api}", [{"col1": "three"}]).status == 400
    finally:
        server.stop()
    run = python("-m", "bentoml", "run", "Example09:latest", "predict_legacy_json", "--input", '{"x": 21}')
    assert json.loads(run.stdout) == {"doubled": 42, "type": "dict"}


def test_legacy_json_input_refuses_batch_true():
    from bentoml.adapters import LegacyJsonInput

    with pytest.raises(InvalidArgument, match="LegacyJsonInput passes one input per call: @api\\(batch=True\\)"):
        bentoml.api(input=LegacyJsonInput(), batch=True)(_predict)
    assert bentoml.api(input=LegacyJsonInput())(_predict)._bento_api_spec.batch is False


def test_dtype_and_input_dtypes_together_are_refused():
    from bentoml.adapters import DataframeInput

    with pytest.raises(InvalidArgument, match="takes dtype= or input_dtypes= .*not both"):
        DataframeInput(dtype={"a": "int"}, input_dtypes={"a": "float"})
    assert DataframeInput(dtype="float32").config["input_dtypes"] == "float32"


def _predict(self, doc):
    return doc

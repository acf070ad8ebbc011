"""End to end: an iris service as BentoML 0.8 users wrote it and one as 0.10-0.13 users wrote
it, each unchanged: import, pack, save, load in a fresh process, ``bentoml run``, and serve
over real HTTP, with the answers 0.x gave (``[0]`` for a setosa row).

The sources follow the 0.4-0.8 README (``bentoml.handlers``, ``@bentoml.api(DataframeHandler)``,
``@bentoml.ver``) and the 0.10-0.13 quickstart (``bentoml.frameworks.sklearn``,
``@env(infer_pip_packages=True)``, ``@api(input=DataframeInput(), batch=True)``).
"""
from __future__ import annotations

import json
import re

import pytest

SETOSA, VERSICOLOR, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]

SOURCE_0_8 = '''\
    import bentoml
    from bentoml.handlers import DataframeHandler, JsonHandler
    from bentoml.artifact import SklearnModelArtifact


    @bentoml.ver(major=1, minor=0)
    @bentoml.env(pip_dependencies=["scikit-learn"])
    @bentoml.artifacts([SklearnModelArtifact('model')])
    class IrisClassifier(bentoml.BentoService):

        @bentoml.api(DataframeHandler)
        def predict(self, df):
            return self.artifacts.model.predict(df)

        @bentoml.api(JsonHandler)
        def predict_json(self, parsed_json_list):
            return self.artifacts.model.predict([doc["features"] for doc in parsed_json_list])
    '''

SOURCE_0_10 = '''\
    import pandas as pd

    from bentoml import env, artifacts, api, BentoService
    from bentoml.adapters import DataframeInput, JsonInput
    from bentoml.frameworks.sklearn import SklearnModelArtifact


    @env(infer_pip_packages=True)
    @artifacts([SklearnModelArtifact('model')])
    class IrisClassifier(BentoService):

        @api(input=DataframeInput(), batch=True)
        def predict(self, df: pd.DataFrame):
            return self.artifacts.model.predict(df)

        @api(input=JsonInput(), batch=False)
        def predict_json(self, parsed_json):
            return self.artifacts.model.predict([parsed_json["features"]])[0]
    '''

STYLES = {
    "0.8": (SOURCE_0_8, "iris_classifier_08", r"1\.0\.\d{14}_[0-9A-F]{6}"),
    "0.10": (SOURCE_0_10, "iris_classifier_010", r"\d{14}_[0-9A-F]{6}"),
}


@pytest.mark.parametrize("style", list(STYLES))
def test_a_0x_iris_service_runs_unchanged(style, write_service, iris_model, python, start_server):
    source, module_name, version_pattern = STYLES[style]
    module = write_service(source, module_name)

    svc = module.IrisClassifier()
    svc.pack("model", iris_model)
    assert svc.predict([SETOSA]).tolist() == [0]
    saved_path = svc.save()
    assert re.fullmatch(version_pattern, svc.version), svc.version
    assert saved_path.endswith(svc.version)

    loaded = python("-c", "import bentoml\n"
                          "svc = bentoml.load('IrisClassifier:latest')\n"
                          f"print(svc.version, svc.predict([{SETOSA}, {VIRGINICA}]).tolist())")
    assert loaded.stdout.split() == [svc.version, "[0,", "2]"]

    run = python("-m", "bentoml", "run", "IrisClassifier:latest", "predict", f"--input={json.dumps([SETOSA])}")
    assert run.stdout.strip() == "[0]"
    run = python("-m", "bentoml", "run", "IrisClassifier:latest", "predict_json",
                 f"--input={json.dumps({'features': VERSICOLOR})}")
    assert run.stdout.strip() == "1"

    server = start_server("serve-gunicorn", "IrisClassifier:latest", "--port", "0", "--workers", "2",
                          "--enable-microbatch")
    try:
        assert f"IrisClassifier:{svc.version}" in server.serving_line
        reply = server.post("/predict", [SETOSA])
        assert (reply.status, reply.json()) == (200, [0])
        reply = server.post("/predict", [SETOSA, VERSICOLOR, VIRGINICA])
        assert (reply.status, reply.json()) == (200, [0, 1, 2])
        csv = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.3,3.3,6.0,2.5\n"
        reply = server.post("/predict", csv, content_type="text/csv")
        assert (reply.status, reply.json()) == (200, [0, 2])
        reply = server.post("/predict_json", {"features": VIRGINICA})
        assert (reply.status, reply.json()) == (200, 2)
    finally:
        server.stop()

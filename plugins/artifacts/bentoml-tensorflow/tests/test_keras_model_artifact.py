"""``KerasModelArtifact``, as BentoML 0.x services declared Keras models, with the Keras 3 models of today.

After the 0.8-0.13 documentation: ``from bentoml.artifact import
KerasModelArtifact`` (0.9+: ``bentoml.frameworks.keras``), ``custom_objects``
for a layer of the user's own, ``pack({"model": ..., "custom_objects": ...})``,
and ``self.artifacts.model.predict_classes(x)`` (Keras 2's, gone from Keras 3).
The service is saved, loaded in a fresh process, run with ``bentoml run`` and
served over HTTP; the answers are the packed model's.
"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bentoml.exceptions import InvalidArgument
from bentoml.testing.services import service_module
from bentoml_tensorflow import KerasModelArtifact

pytest.importorskip("bentoml_adapter_json", reason="the service takes JsonInput (bentoml-adapter-json)")

SERVICE = textwrap.dedent('''\
    import keras
    import numpy as np

    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import KerasModelArtifact


    class Doubling(keras.layers.Layer):
        """A layer of the user's own: Keras finds it only through custom_objects."""

        def call(self, x):
            return x * 2.0


    @bentoml.env(pip_dependencies=["tensorflow"])
    @bentoml.artifacts([KerasModelArtifact("classifier", custom_objects={"Doubling": Doubling})])
    class KerasService(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            inputs = np.array([doc["features"] for doc in docs], dtype="float32")
            return self.artifacts.classifier.predict_classes(inputs).tolist()
    ''')

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 4.2, 1.5]]


@pytest.fixture(scope="module")
def saved(keras, tmp_path_factory):
    with service_module(SERVICE, "keras_0x_service", tmp_path_factory.mktemp("keras_service_src")) as module:
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), module.Doubling(), keras.layers.Dense(3, activation="softmax")])
        svc = module.KerasService()
        svc.pack("classifier", {"model": model, "custom_objects": {"Doubling": module.Doubling}})
        expected = svc.predict([{"features": row} for row in ROWS])
        target = tmp_path_factory.mktemp("keras_bundle") / "KerasService"
        svc.save_to_dir(str(target))
    return target, expected


def test_a_0x_keras_service_runs_unchanged(saved, start_server):
    bundle, expected = saved
    assert len(expected) == 3 and set(expected) <= {0, 1, 2}
    loaded = subprocess.run(
        [sys.executable, "-c", "import bentoml, json, sys\n"
                               f"svc = bentoml.load({str(bundle)!r})\n"
                               "print(json.dumps([type(svc.artifacts.classifier).__name__,\n"
                               f"                  svc.predict([{{'features': r}} for r in {ROWS!r}])]))"],
        capture_output=True, text=True, timeout=180)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == ["Sequential", expected]

    run = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), "predict",
                          "--input", json.dumps({"features": ROWS[1]})], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected[1]

    server = start_server("serve", str(bundle), "--port", "0")
    try:
        replies = [server.post("/predict", {"features": row}) for row in ROWS]
        assert [(r.status, r.json()) for r in replies] == [(200, e) for e in expected]
        assert server.post("/predict", {"features": [1.0, 2.0]}).status == 400  # the model takes 4 features
    finally:
        server.stop()


def test_predict_classes_is_keras_2s(keras):
    keras.utils.set_random_seed(5)
    multi = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    single = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    x = np.array([[0.5, -1.0], [2.0, 3.0], [-4.0, 0.25]], dtype="float32")
    packed_multi = KerasModelArtifact("m").pack(multi).get()
    packed_single = KerasModelArtifact("s").pack(single).get()
    assert packed_multi.predict_classes(x).tolist() == multi.predict(x, verbose=0).argmax(axis=-1).tolist()
    assert packed_single.predict_classes(x).tolist() == (single.predict(x, verbose=0) > 0.5).astype("int32").tolist()


@pytest.mark.parametrize("make, message", [
    (lambda: KerasModelArtifact("m", custom_objects=["Doubling"]), "custom_objects=...\\) must be a dict"),
    (lambda: KerasModelArtifact("m", model_extension=".pb"), "model_extension=...\\) must be one of"),
    (lambda: KerasModelArtifact("m", store_as_json_and_weights="yes"), "must be True or False"),
    (lambda: KerasModelArtifact("m").pack(object()), "packs a Keras model; got builtins.object"),
    (lambda: KerasModelArtifact("m").pack({"model": None, "weights": 1}), "got the keys \\['weights'\\]"),
])
def test_bad_declarations_and_packs_are_named(make, message):
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_0x_options_are_accepted(keras):
    artifact = KerasModelArtifact("m", model_extension=".keras", store_as_json_and_weights=True)
    assert (artifact.model_extension, artifact.store_as_json_and_weights) == (".keras", True)

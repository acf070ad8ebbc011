"""Keras models the way BentoML 0.8 users packed them into TensorflowSavedModelArtifact.

After the 0.8 documentation's TensorFlow 2 example (fashion-mnist): a
subclassed ``tf.keras.Model``, defined in the training code and not in the
service, whose ``@tf.function predict_image`` decodes PNG bytes; the service
takes ``{"instances": [{"b64": ...}]}`` through TfTensorInput and answers class
names.  0.8 loaded it with ``tf.saved_model.load``, where ``predict_image``
and ``__call__`` work without the Python class.  Also a model with a
``Lambda`` layer, and a registered subclass whose class the bundle carries.

Every bundle is loaded in fresh processes: one ``bentoml.load`` script for
all of them, ``bentoml run`` and a real server.
"""
import base64
import json
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bentoml.exceptions import BadInput, BundleError
from bentoml.testing.server import save_service_source
from bentoml.testing.services import service_module
from bentoml_tensorflow import TensorflowSavedModelArtifact

pytest.importorskip("bentoml_adapter_tensor", reason="the services take TfTensorInput (bentoml-adapter-tensor)")

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]

FASHION_SERVICE = textwrap.dedent(f'''\
    import bentoml
    import tensorflow as tf
    from bentoml.adapters import TfTensorInput
    from bentoml.artifact import TensorflowSavedModelArtifact

    FASHION_MNIST_CLASSES = {CLASSES!r}


    @bentoml.artifacts([TensorflowSavedModelArtifact("model")])
    class FashionMnistTensorflow(bentoml.BentoService):
        @bentoml.api(input=TfTensorInput())
        def predict(self, inputs):
            outputs = self.artifacts.model.predict_image(inputs)
            output_classes = tf.math.argmax(outputs, axis=1)
            return [FASHION_MNIST_CLASSES[c] for c in output_classes]
    ''')

LAMBDA_SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import TfTensorInput
    from bentoml.artifact import TensorflowSavedModelArtifact


    @bentoml.artifacts([TensorflowSavedModelArtifact("model")])
    class Rescaled(bentoml.BentoService):
        @bentoml.api(input=TfTensorInput())
        def predict(self, tensor):
            return self.artifacts.model(tensor)
    ''')

#: The model class lives in the service module, registered with Keras: the bundle carries it.
REGISTERED_SERVICE = textwrap.dedent('''\
    import bentoml
    import keras
    from bentoml.adapters import TfTensorInput
    from bentoml.artifact import TensorflowSavedModelArtifact


    @keras.saving.register_keras_serializable(package="zoo")
    class Scaled(keras.Model):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x) * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}


    @bentoml.artifacts([TensorflowSavedModelArtifact("model")])
    class ScaledService(bentoml.BentoService):
        @bentoml.api(input=TfTensorInput())
        def predict(self, tensor):
            return self.artifacts.model.predict(tensor)
    ''')

#: Loads each bundle given on the command line and prints what its model answers, as JSON.
LOAD_SCRIPT = textwrap.dedent('''\
    import json, sys
    import numpy as np
    import bentoml
    from bentoml.exceptions import BadInput, BundleError

    fashion, rescaled, scaled, pngs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    import base64, tensorflow as tf
    out = {}

    def report(key, fn):
        try:
            out[key] = fn()
        except Exception as exc:
            out[key] = {"error": f"{type(exc).__name__}: {exc}"}

    def fashion_answers():
        model = bentoml.load(fashion).artifacts.model
        images = tf.constant([base64.b64decode(p) for p in pngs])
        try:
            model([[0.0] * 28])
            bad = None
        except BadInput as exc:
            bad = str(exc)
        return {"type": type(model).__name__,
                "predict_image": model.predict_image(images).numpy().tolist(),
                "call": model(np.linspace(0, 1, 2 * 28 * 28).reshape(2, 28, 28).tolist()).numpy().tolist(),
                "bad_input": bad}

    def rescaled_answers():
        model = bentoml.load(rescaled).artifacts.model
        return {"type": type(model).__name__, "call": model([[1, 2, 3, 4]]).numpy().tolist()}

    def scaled_answers():
        model = bentoml.load(scaled).artifacts.model
        return {"type": f"{type(model).__module__}.{type(model).__name__}",
                "predict": model.predict([[1, 2, 3, 4]]).tolist()}

    report("fashion", fashion_answers)
    report("rescaled", rescaled_answers)
    report("scaled", scaled_answers)
    print(json.dumps(out))
    ''')


# -- the models, in this process -----------------------------------------------------------
@pytest.fixture(scope="module")
def fashion_model(tf, keras):
    """0.8's example model, smaller: a Keras subclass Keras cannot find in another process."""
    keras.utils.set_random_seed(3)

    class FashionMnist(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.cnn = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(32, activation="relu"),
                                            tf.keras.layers.Dense(10, activation="softmax")])

        @staticmethod
        def image_bytes2tensor(inputs):
            inputs = tf.map_fn(lambda i: tf.io.decode_png(i, channels=1), inputs, fn_output_signature=tf.uint8)
            inputs = tf.cast(inputs, tf.float32)
            inputs = (255.0 - inputs) / 255.0
            return tf.reshape(inputs, [-1, 28, 28])

        @tf.function(input_signature=[tf.TensorSpec(shape=(None,), dtype=tf.string)])
        def predict_image(self, inputs):
            return self(self.image_bytes2tensor(inputs))

        def call(self, inputs):
            return self.cnn(inputs)

    model = FashionMnist()
    model(np.zeros((1, 28, 28), np.float32))  # built, as after training
    return model


@pytest.fixture(scope="module")
def pngs(tf):
    """Four 28x28 grayscale PNGs, as a client reads them from files."""
    rng = np.random.default_rng(11)
    return [tf.io.encode_png(rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)).numpy() for _ in range(4)]


@pytest.fixture(scope="module")
def expected_classes(fashion_model, pngs, tf):
    scores = fashion_model.predict_image(tf.constant(pngs)).numpy()
    return [CLASSES[i] for i in scores.argmax(axis=1)]


@pytest.fixture(scope="module")
def rescale_model(keras):
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input(shape=(4,), name="features"), keras.layers.Lambda(lambda x: x * 2.0 + 1.0),
                             keras.layers.Dense(2)])


# -- the bundles ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fashion_bundle(fashion_model, tmp_path_factory):
    target = tmp_path_factory.mktemp("fashion") / "FashionMnistTensorflow"
    return save_service_source(FASHION_SERVICE, "fashion_mnist_0x_service", "FashionMnistTensorflow", target,
                               {"model": fashion_model})


@pytest.fixture(scope="module")
def rescaled_bundle(rescale_model, tmp_path_factory):
    target = tmp_path_factory.mktemp("rescaled") / "Rescaled"
    return save_service_source(LAMBDA_SERVICE, "rescaled_0x_service", "Rescaled", target, {"model": rescale_model})


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """The registered subclass: packed (and called with a list) in this process, then saved."""
    base = tmp_path_factory.mktemp("scaled")
    with service_module(REGISTERED_SERVICE, "zoo_scaled_0x_service", base / "src") as module:
        model = module.Scaled()
        model(np.ones((1, 4), np.float32))
        service = module.ScaledService()
        service.pack("model", model)
        try:  # before saving: a list, as after loading
            packed = service.artifacts.model.predict([[1, 2, 3, 4]])
        except Exception as exc:  # reported by the test; the bundle is saved all the same
            packed = exc
        service.save_to_dir(str(base / "ScaledService"))
    return {"bundle": base / "ScaledService", "packed": packed, "model": model}


@pytest.fixture(scope="module")
def fresh(fashion_bundle, rescaled_bundle, scaled, pngs):
    """What each bundle's model answers after ``bentoml.load`` in a new Python process."""
    out = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(fashion_bundle), str(rescaled_bundle),
                          str(scaled["bundle"]), json.dumps([base64.b64encode(p).decode() for p in pngs])],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def wrapped_b64(data: bytes) -> str:
    """Base64 in 76-column lines, as ``base64 file.png`` prints it (and Python's encodebytes)."""
    return base64.encodebytes(data).decode()


# -- the subclassed model ----------------------------------------------------------------------
def test_subclassed_model_comes_back_as_a_saved_model_with_its_functions(fresh, fashion_model, pngs, tf):
    answers = fresh["fashion"]
    assert "error" not in answers, answers
    assert answers["type"] == "LoadedSavedModel"
    np.testing.assert_allclose(answers["predict_image"], fashion_model.predict_image(tf.constant(pngs)).numpy(),
                               rtol=1e-5, atol=1e-6)
    x = np.linspace(0, 1, 2 * 28 * 28).reshape(2, 28, 28).astype(np.float32)
    np.testing.assert_allclose(answers["call"], fashion_model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert answers["bad_input"].startswith("input 'inputs' has shape (1, 28) but the model expects (None, 28, 28)")


def test_subclassed_bundle_holds_both_formats(fashion_bundle):
    (artifact,) = (fashion_bundle / "FashionMnistTensorflow" / "artifacts").iterdir()
    assert sorted(p.name for p in artifact.iterdir()) == ["model.keras", "saved_model"]


def test_bentoml_run_answers_wrapped_b64_images(fashion_bundle, pngs, expected_classes):
    request = {"instances": [{"b64": wrapped_b64(p)} for p in pngs]}
    assert "\n" in request["instances"][0]["b64"][:-1]
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(fashion_bundle), "predict",
                          "--input", json.dumps(request)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == expected_classes
    assert "Traceback" not in out.stderr


def test_served_subclassed_model(start_server, fashion_bundle, pngs, expected_classes):
    server = start_server("serve", str(fashion_bundle), "--port", "0")
    reply = server.post("/predict", {"instances": [{"b64": wrapped_b64(p)} for p in pngs[:2]]})
    assert reply.status == 200, reply
    assert reply.json() == expected_classes[:2]
    reply = server.post("/predict", {"instances": [{"b64": base64.b64encode(p).decode()} for p in pngs]})
    assert reply.status == 200 and reply.json() == expected_classes, reply
    bad = server.post("/predict", {"instances": [{"b64": "iVBORw0K%%GgoAAAA"}]})
    assert bad.status == 400 and "is not valid base64" in bad.json()["error"], bad
    assert server.proc.poll() is None and "Traceback" not in server.log


# -- Lambda layers, registered classes, packed models ------------------------------------------
def test_lambda_layer_model_loads(fresh, rescale_model):
    answers = fresh["rescaled"]
    assert "error" not in answers, answers
    assert answers["type"] == "Sequential"  # Keras's own: a Lambda layer needs no SavedModel
    np.testing.assert_allclose(answers["call"], rescale_model(np.array([[1, 2, 3, 4]], np.float32)).numpy(),
                               rtol=1e-6)


def test_registered_subclass_takes_lists_when_packed_and_loads_as_its_class(fresh, scaled):
    expected = scaled["model"](np.array([[1, 2, 3, 4]], np.float32)).numpy()
    assert not isinstance(scaled["packed"], Exception), scaled["packed"]
    np.testing.assert_allclose(scaled["packed"], expected, rtol=1e-6)
    answers = fresh["scaled"]
    assert "error" not in answers, answers
    assert answers["type"] == "zoo_scaled_0x_service.Scaled"  # from model.keras: Keras finds the class
    np.testing.assert_allclose(answers["predict"], expected, rtol=1e-6)
    # a user's class: the SavedModel is written too, for a process where Keras cannot find the class
    assert (scaled["bundle"] / "ScaledService" / "artifacts" / "model" / "saved_model").is_dir()


def test_packed_keras_model_takes_lists_as_a_loaded_one(keras_model, tmp_path):
    rows = [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]
    packed = TensorflowSavedModelArtifact("model").pack(keras_model).get()
    TensorflowSavedModelArtifact("model").pack(keras_model).save(str(tmp_path))
    loaded = TensorflowSavedModelArtifact("model").load(str(tmp_path)).get()
    np.testing.assert_allclose(packed(rows).numpy(), loaded(rows).numpy(), rtol=1e-6)
    np.testing.assert_allclose(packed.predict(rows), loaded.predict(rows), rtol=1e-6)
    for model in (packed, loaded):
        with pytest.raises(BadInput, match=r"input 'features' has shape \(1, 3\)"):
            model([[1.0, 2.0, 3.0]])


def test_packed_subclassed_model_takes_lists(fashion_model):
    packed = TensorflowSavedModelArtifact("model").pack(fashion_model).get()
    x = np.linspace(0, 1, 28 * 28).reshape(1, 28, 28)
    np.testing.assert_allclose(packed(x.tolist()).numpy(), packed(x.astype(np.float32)).numpy(), rtol=1e-6)
    with pytest.raises(BadInput, match=r"input 'inputs' has shape \(28, 28\) but the model expects"):
        packed(x[0].tolist())


def test_keras_file_alone_without_its_class_is_one_bundle_error(fashion_bundle, tmp_path):
    """A bundle holding only model.keras (as saved before the SavedModel was added) names what is missing."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(fashion_bundle / "FashionMnistTensorflow" / "artifacts", artifacts)
    shutil.rmtree(artifacts / "model" / "saved_model")
    with pytest.raises(BundleError, match=r"^TensorflowSavedModelArtifact 'model': Keras cannot rebuild \S+"
                                          r"model\.keras: Could not locate class 'FashionMnist'$"):
        TensorflowSavedModelArtifact("model").load(str(artifacts))


def test_a_model_tensorflow_cannot_trace_is_saved_as_keras_alone_with_a_warning(keras, tmp_path, caplog):
    """An eager-only ``call`` cannot become a SavedModel: the save still succeeds, and says where it loads."""

    class EagerOnly(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x) * float(np.asarray(x.numpy()).size > 0)  # .numpy(): eager tensors only

    model = EagerOnly()
    model(np.ones((1, 3), np.float32))
    with caplog.at_level("WARNING", logger="bentoml.tensorflow"):
        TensorflowSavedModelArtifact("model").pack(model).save(str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["model.keras"]
    (record,) = [r for r in caplog.records if r.name == "bentoml.tensorflow"]
    assert re.fullmatch(r"artifact 'model': could not also save the Keras model as a SavedModel \(AttributeError: "
                        r"[^\n]*EagerOnly[^\n]*\); it loads only where Keras finds \S+\.EagerOnly", record.getMessage()), \
        record.getMessage()

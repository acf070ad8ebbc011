"""TensorflowSavedModelArtifact with real TensorFlow: tf.Module, SavedModel paths and Keras models."""
import os
import pathlib

import numpy as np
import pytest

from bentoml.exceptions import BadInput, InvalidArgument, NotFound
from bentoml.testing import ArtifactContract
from bentoml_tensorflow import TensorflowSavedModelArtifact
from bentoml_tensorflow.keras_model import is_guarded
from bentoml_tensorflow.saved_model import LoadedSavedModel

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 4.2, 1.5]]


def save_and_load(model, tmp_path, name="model"):
    TensorflowSavedModelArtifact(name).pack(model).save(str(tmp_path))
    return TensorflowSavedModelArtifact(name).load(str(tmp_path)).get()


class TestTfModuleArtifact(ArtifactContract):
    artifact_class = TensorflowSavedModelArtifact
    distribution = "bentoml-tensorflow"
    framework_module = "tensorflow"
    expected_type = "tf.Module"

    @pytest.fixture(autouse=True)
    def _model(self, linear_module):
        self.model = linear_module

    def make_model(self):
        return self.model

    def sample_input(self):
        return np.array(ROWS, dtype=np.float32)

    def predict(self, model, x):
        return model(x).numpy()

    def test_save_load_round_trip(self, tmp_path: pathlib.Path) -> None:
        """pack -> save -> load gives the same predictions; the type differs by design.

        ``tf.saved_model.load`` never returns the saved class (it restores a
        generic trackable object), so the contract's ``type(loaded) is
        type(model)`` cannot hold for any SavedModel.  The artifact hands out a
        LoadedSavedModel around that object instead (input conversion, BadInput);
        everything else the contract checks is checked here unchanged.
        """
        model = self.make_model()
        self.make_artifact().pack(model).save(str(tmp_path))
        assert any((tmp_path / "model").iterdir()), "save wrote no files"
        loaded = self.make_artifact().load(str(tmp_path)).get()
        assert isinstance(loaded, LoadedSavedModel) and loaded.path == str(tmp_path / "model" / "saved_model")
        x = self.sample_input()
        self.assert_same_predictions(self.predict(model, x), self.predict(loaded, x))


class TestKerasArtifact(ArtifactContract):
    artifact_class = TensorflowSavedModelArtifact
    distribution = "bentoml-tensorflow"
    framework_module = "tensorflow"
    expected_type = "Keras model"

    @pytest.fixture(autouse=True)
    def _model(self, keras_model):
        self.model = keras_model

    def make_model(self):
        return self.model

    def sample_input(self):
        return np.array(ROWS, dtype=np.float32)

    def predict(self, model, x):
        return model.predict(x, verbose=0)

    def test_save_load_round_trip(self, tmp_path: pathlib.Path) -> None:
        """pack -> save -> load gives a model of the saved Keras class with the same predictions.

        The loaded model's class is a subclass of the saved class (same name and
        module) that adds the input checks (see ``bentoml_tensorflow.keras_model``),
        so the contract's ``type(loaded) is type(model)`` is asserted as
        ``isinstance`` plus the class name; the rest of the contract is unchanged.
        """
        model = self.make_model()
        self.make_artifact().pack(model).save(str(tmp_path))
        assert any((tmp_path / "model").iterdir()), "save wrote no files"
        loaded = self.make_artifact().load(str(tmp_path)).get()
        assert isinstance(loaded, type(model)) and type(loaded).__name__ == type(model).__name__
        assert type(loaded).__module__ == type(model).__module__
        x = self.sample_input()
        self.assert_same_predictions(self.predict(model, x), self.predict(loaded, x))


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.artifact import TensorflowSavedModelArtifact as resolved

    assert resolved is TensorflowSavedModelArtifact


def test_not_fork_safe_and_pins_tensorflow_and_keras():
    assert TensorflowSavedModelArtifact.fork_safe is False
    assert set(TensorflowSavedModelArtifact.requirement_imports) == {"tensorflow", "keras"}


# -- tf.Module / SavedModel ---------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded_module(linear_module, tmp_path_factory):
    return save_and_load(linear_module, tmp_path_factory.mktemp("tf_module"))


def test_module_saved_as_saved_model(linear_module, tmp_path):
    TensorflowSavedModelArtifact("scores").pack(linear_module).save(str(tmp_path))
    assert (tmp_path / "scores" / "saved_model" / "saved_model.pb").is_file()
    assert sorted(p.name for p in (tmp_path / "scores").iterdir()) == ["saved_model"]


def test_lists_and_arrays_convert_to_the_signature_dtype(loaded_module, expected_scores, tf):
    expected = expected_scores(ROWS)
    for x in (ROWS, np.array(ROWS), np.array(ROWS, dtype=np.float32), tf.constant(ROWS, dtype=tf.float64)):
        out = loaded_module(x)
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    # ints into float32 keep their values
    np.testing.assert_allclose(loaded_module([[1, 2, 3, 4]]).numpy(), expected_scores([[1, 2, 3, 4]]), rtol=1e-6)
    np.testing.assert_allclose(loaded_module(tf.constant([[1, 2, 3, 4]])).numpy(),
                               expected_scores([[1, 2, 3, 4]]), rtol=1e-6)


def test_packed_module_behaves_as_loaded(linear_module, expected_scores):
    """Before saving, ``self.artifacts.model`` converts and checks inputs the same way."""
    packed = TensorflowSavedModelArtifact("model").pack(linear_module).get()
    assert isinstance(packed, LoadedSavedModel) and packed.wrapped is linear_module and packed.path is None
    np.testing.assert_allclose(packed([[1, 2, 3, 4]]).numpy(), expected_scores([[1, 2, 3, 4]]), rtol=1e-6)
    with pytest.raises(BadInput, match=r"\(1, 3\)"):
        packed([[1.0, 2.0, 3.0]])


def test_float_into_int32_is_refused_not_truncated(loaded_module):
    assert loaded_module.count_up([1, 2]).numpy().tolist() == [2, 3]
    assert loaded_module.count_up([3.0]).numpy().tolist() == [4]  # integral floats are exact
    with pytest.raises(BadInput, match=r"input 'n' holds non-integer values \(e.g. 3.7\).*int32"):
        loaded_module.count_up([1, 3.7])
    with pytest.raises(BadInput, match="outside the int32 range"):
        loaded_module.count_up([2 ** 40])
    with pytest.raises(BadInput, match="non-integer"):
        loaded_module.count_up(np.array([0.5], dtype=np.float32))


@pytest.mark.parametrize("bad, message", [
    ([[1.0, 2.0, 3.0]], r"input 'x' has shape \(1, 3\) but the model expects \(None, 4\)"),
    ([1.0, 2.0, 3.0, 4.0], r"shape \(4,\).*wrap a single example in a list"),
    ([[[1.0, 2.0, 3.0, 4.0]]], r"shape \(1, 1, 4\)"),
    ([["a", "b", "c", "d"]], r"input 'x' holds strings \(e.g. 'a'\) but float32 is expected"),
    ([[1.0, 2.0, 3.0, 4.0], [1.0]], "ragged"),
    ([[1.0, None, 3.0, 4.0]], "holds None"),
])
def test_bad_input_is_bad_input_naming_the_problem(loaded_module, bad, message):
    with pytest.raises(BadInput, match=message):
        loaded_module(bad)


def test_other_functions_and_attributes_stay_reachable(loaded_module, linear_module):
    expected = linear_module.classify(np.array(ROWS, np.float32)).numpy().tolist()
    assert loaded_module.classify(ROWS).numpy().tolist() == expected
    with pytest.raises(BadInput, match=r"\(1, 2\)"):
        loaded_module.classify([[1.0, 2.0]])
    np.testing.assert_array_equal(loaded_module.weights.numpy(), linear_module.weights.numpy())
    assert hasattr(loaded_module, "signatures") and loaded_module.wrapped is not None
    assert "classify" in dir(loaded_module)
    with pytest.raises(AttributeError):
        loaded_module.no_such_attribute


def test_named_inputs_bind_by_parameter_name(loaded_module, expected_scores):
    np.testing.assert_allclose(loaded_module(x=[[1, 2, 3, 4]]).numpy(), expected_scores([[1, 2, 3, 4]]), rtol=1e-6)


def test_pack_existing_saved_model_directory(linear_module, expected_scores, tmp_path, tf):
    export = tmp_path / "export" / "1"
    tf.saved_model.save(linear_module, str(export))
    (export / "assets" / "labels.txt").write_text("setosa\nversicolor\nvirginica\n")
    packed = TensorflowSavedModelArtifact("model").pack(str(export)).get()
    assert packed.path == str(export)
    np.testing.assert_allclose(packed(ROWS).numpy(), expected_scores(ROWS), rtol=1e-6)

    TensorflowSavedModelArtifact("model").pack(export).save(str(tmp_path / "bundle"))  # a PathLike works too
    saved = tmp_path / "bundle" / "model" / "saved_model"
    assert (saved / "assets" / "labels.txt").read_text().startswith("setosa")  # copied as is
    loaded = TensorflowSavedModelArtifact("model").load(str(tmp_path / "bundle")).get()
    np.testing.assert_allclose(loaded(ROWS).numpy(), expected_scores(ROWS), rtol=1e-6)

    # what tf.saved_model.load returns (not a tf.Module) packs too, and is saved anew
    restored = tf.saved_model.load(str(export))
    again = save_and_load(restored, tmp_path / "again")
    np.testing.assert_allclose(again(ROWS).numpy(), expected_scores(ROWS), rtol=1e-6)


def test_pack_bad_paths_name_the_problem(tmp_path):
    with pytest.raises(InvalidArgument, match="does not exist"):
        TensorflowSavedModelArtifact("model").pack(str(tmp_path / "missing"))
    with pytest.raises(InvalidArgument, match="holds no saved_model.pb"):
        TensorflowSavedModelArtifact("model").pack(str(tmp_path))


def test_pack_refuses_a_class_and_other_objects(linear_module):
    with pytest.raises(InvalidArgument, match="tf.Module"):
        TensorflowSavedModelArtifact("model").pack(type(linear_module))
    with pytest.raises(InvalidArgument, match="builtins.dict"):
        TensorflowSavedModelArtifact("model").pack({"weights": [1, 2]})


def test_load_without_model_files_is_not_found(tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(NotFound, match="saved_model/ nor model.keras"):
        TensorflowSavedModelArtifact("model").load(str(tmp_path))


def test_keras_export_is_called_through_its_serving_signature(keras_model, tmp_path):
    """``model.export()`` writes a SavedModel without ``__call__``: ``model(x)`` uses serving_default."""
    export = tmp_path / "exported"
    keras_model.export(str(export), verbose=False)
    loaded = TensorflowSavedModelArtifact("model").pack(str(export)).get()
    expected = keras_model.predict(np.array(ROWS, np.float32), verbose=0)
    np.testing.assert_allclose(np.asarray(loaded(ROWS)), expected, rtol=1e-5)
    with pytest.raises(BadInput, match=r"\(1, 3\)"):
        loaded([[1.0, 2.0, 3.0]])
    assert "serving_default" in loaded.signatures


# -- Keras --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded_keras(keras_model, tmp_path_factory):
    return save_and_load(keras_model, tmp_path_factory.mktemp("keras"))


def test_keras_saved_in_keras_format_and_loaded_as_keras(keras_model, loaded_keras, keras, tmp_path):
    TensorflowSavedModelArtifact("clf").pack(keras_model).save(str(tmp_path))
    assert [p.name for p in (tmp_path / "clf").iterdir()] == ["model.keras"]
    assert isinstance(loaded_keras, keras.Sequential) and is_guarded(loaded_keras)
    # packing gives the user's model the same input checks, in place: it stays the same object
    assert TensorflowSavedModelArtifact("clf").pack(keras_model).get() is keras_model and is_guarded(keras_model)
    assert [layer.name for layer in loaded_keras.layers] == [layer.name for layer in keras_model.layers]


def test_keras_call_and_predict_accept_lists(keras_model, loaded_keras):
    expected = keras_model.predict(np.array(ROWS, np.float32), verbose=0)
    np.testing.assert_allclose(loaded_keras.predict(ROWS), expected, rtol=1e-5)
    np.testing.assert_allclose(loaded_keras(ROWS).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(loaded_keras.predict_on_batch([[1, 2, 3, 4]]),
                               keras_model.predict_on_batch(np.array([[1, 2, 3, 4]], np.float32)), rtol=1e-5)


def test_keras_wrong_shape_is_bad_input(loaded_keras):
    for call in (loaded_keras, loaded_keras.predict, loaded_keras.predict_on_batch):
        with pytest.raises(BadInput, match=r"input 'features' has shape \(1, 3\) but the model expects \(None, 4\)"):
            call([[1.0, 2.0, 3.0]])
    with pytest.raises(BadInput, match="holds strings"):
        loaded_keras.predict([["a", "b", "c", "d"]])


def test_keras_predict_prints_no_progress_bar(loaded_keras, capsys):
    loaded_keras.predict(ROWS)
    assert capsys.readouterr().out == ""


def test_loaded_keras_saves_again_as_plain_keras(loaded_keras, keras, tmp_path):
    """A loaded model saved by Keras itself loads back as the original class, without this plugin."""
    path = str(tmp_path / "again.keras")
    loaded_keras.save(path)
    assert type(keras.saving.load_model(path)) is keras.Sequential
    # and packing a loaded model into another service works too
    again = save_and_load(loaded_keras, tmp_path / "bundle")
    np.testing.assert_allclose(again.predict(ROWS), loaded_keras.predict(ROWS), rtol=1e-6)


def test_keras_named_inputs_and_int_dtype(keras, tmp_path):
    """A functional model with a float input and an int32 input, called with a dict."""
    features = keras.Input(shape=(2,), name="features")
    ids = keras.Input(shape=(1,), name="ids", dtype="int32")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(10, 2)(ids))
    model = keras.Model([features, ids], keras.layers.Concatenate()([features, embedded]))
    loaded = save_and_load(model, tmp_path)
    out = loaded.predict({"features": [[0.5, 1.5]], "ids": [[3]]})
    assert out.shape == (1, 4) and out[0, :2].tolist() == [0.5, 1.5]
    np.testing.assert_allclose(loaded([[[0.5, 1.5]], [[3]]]).numpy(), out, rtol=1e-6)
    with pytest.raises(BadInput, match=r"input 'ids' holds non-integer values \(e.g. 3.7\)"):
        loaded.predict({"features": [[0.5, 1.5]], "ids": [[3.7]]})


def test_pack_keras_file_path(keras_model, tmp_path):
    path = tmp_path / "clf.keras"
    keras_model.save(str(path))
    packed = TensorflowSavedModelArtifact("model").pack(str(path)).get()
    assert is_guarded(packed)
    np.testing.assert_allclose(packed.predict(ROWS), keras_model.predict(np.array(ROWS, np.float32), verbose=0),
                               rtol=1e-6)
    TensorflowSavedModelArtifact("model").pack(packed).save(str(tmp_path / "b"))
    assert os.path.isfile(tmp_path / "b" / "model" / "model.keras")

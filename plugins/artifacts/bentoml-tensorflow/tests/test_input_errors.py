"""Input a TensorFlow or Keras model refuses, when the API function calls the model itself, is a 400.

The artifact conforms its own calls to the model's inputs; these tests take the
paths around it: a Keras layer called directly, a SavedModel restored with
``tf.saved_model.load`` and called with the wrong shape.  The exceptions are
real, raised by TensorFlow and Keras; a ValueError from the user's own code
stays a 500.
"""
import json

import numpy as np
import pytest

import bentoml
from bentoml.adapters import HTTPRequest, JsonInput
from bentoml_tensorflow import TensorflowSavedModelArtifact


def _raised(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the exception is what the test inspects
        return exc
    pytest.fail("the call did not raise")


def test_a_keras_layer_refusing_a_shape_is_named_on_one_line(keras_model):
    exc = _raised(lambda: keras_model.layers[0](np.zeros((2, 3), dtype="float32")))
    message = TensorflowSavedModelArtifact.bad_input_message(exc)
    assert message is not None and "\n" not in message and "\x1b" not in message
    assert "expected axis -1 of input shape to have value 4" in message and "(2, 3)" in message


def test_a_restored_function_refusing_a_shape_names_both_shapes(tf, linear_module, tmp_path):
    tf.saved_model.save(linear_module, str(tmp_path / "sm"))
    restored = tf.saved_model.load(str(tmp_path / "sm"))
    exc = _raised(lambda: restored(np.zeros((1, 3), dtype="float32")))
    assert TensorflowSavedModelArtifact.bad_input_message(exc) == (
        "the model takes a float32 tensor of shape (None, 4), got a float32 tensor of shape (1, 3)")


def test_errors_of_the_users_own_code_are_not_claimed(keras_model):
    def users_code():
        keras_model.layers[0](np.zeros((1, 4), dtype="float32"))
        raise ValueError("expected axis -1 of input shape to have value 4")

    assert TensorflowSavedModelArtifact.bad_input_message(_raised(users_code)) is None
    assert TensorflowSavedModelArtifact.bad_input_message(TypeError("Can not cast TensorSpec")) is None


def test_the_api_answers_400_for_the_bad_request_and_200_for_its_neighbour(keras_model):
    @bentoml.artifacts([TensorflowSavedModelArtifact("model")])
    class FirstLayer(bentoml.BentoService):
        @bentoml.api(input=JsonInput(), batch=False)
        def hidden(self, rows):
            return self.artifacts.model.layers[0](np.asarray(rows, dtype="float32")).numpy()

    svc = FirstLayer()
    svc.pack("model", keras_model)
    api = svc.get_inference_api("hidden")
    good, bad = (api.input_adapter.from_http_request(HTTPRequest(json.dumps(b).encode()))
                 for b in ([[5.1, 3.5, 1.4, 0.2]], [[5.1, 3.5, 1.4]]))
    results = api.handle_batch([good, bad])
    assert results[0].status == 200 and len(json.loads(results[0].body)[0]) == 8
    assert results[1].status == 400
    assert "expected axis -1 of input shape to have value 4" in json.loads(results[1].body)["error"]

"""Real TensorFlow models for the tests, built once per session (``import tensorflow`` costs seconds)."""
from __future__ import annotations

import numpy as np
import pytest

#: Fixed weights: predictions are deterministic and can be computed with numpy.
WEIGHTS = np.array([[0.5, -1.0, 0.25], [1.5, 0.0, -0.5], [-2.0, 1.0, 0.75], [0.0, 2.0, -1.25]], dtype=np.float32)
BIAS = np.array([0.1, -0.2, 0.3], dtype=np.float32)
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 4.2, 1.5], [4.7, 3.2, 1.3, 0.2]]


@pytest.fixture(scope="session")
def tf():
    from bentoml_tensorflow._tensorflow import import_tensorflow

    return import_tensorflow()


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras


@pytest.fixture(scope="session")
def linear_module(tf):
    """A tf.Module: ``__call__`` scores [None, 4] float32 rows; ``classify`` and ``count_up`` are more tf.functions."""

    class LinearScores(tf.Module):
        def __init__(self):
            super().__init__()
            self.weights = tf.Variable(WEIGHTS)
            self.bias = tf.Variable(BIAS)

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def __call__(self, x):
            return tf.matmul(x, self.weights) + self.bias

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def classify(self, x):
            return tf.argmax(self(x), axis=1)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
        def count_up(self, n):
            return n + 1

    return LinearScores()


@pytest.fixture(scope="session")
def expected_scores():
    """What the linear module answers for ``rows``, computed without TensorFlow."""
    return lambda rows: np.asarray(rows, dtype=np.float32) @ WEIGHTS + BIAS


@pytest.fixture(scope="session")
def keras_model(keras):
    """A small Sequential classifier, trained one epoch on tiny data."""
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input(shape=(4,), name="features"),
                              keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.array(ROWS * 4, dtype=np.float32)
    model.fit(x, np.arange(len(x)) % 3, epochs=1, verbose=0)
    return model

"""Keras models loaded from a bundle: still Keras models, but bad input is a BadInput.

A loaded model's class is swapped for a subclass of its own class that fits
the first argument of ``model(x)``, ``model.predict(x)`` and
``model.predict_on_batch(x)`` to the model's declared inputs (dtype and shape,
see :mod:`bentoml_tensorflow._inputs`) before Keras sees it.  So a request of
the wrong shape is answered 400 naming the input, lists work where Keras wants
arrays, and ``isinstance(model, keras.Sequential)``, ``model.layers``,
``model.save(...)`` and everything else stay Keras's own.

Why a subclass and not a wrapper object: user code and Keras itself check
``isinstance(model, keras.Model)``, and a wrapper would fail those checks.
Why not patch instance attributes: Python looks ``__call__`` up on the class.
The subclass carries its base's module and name, so Keras serializes a loaded
model as the original class, and a model saved again loads without this plugin.
Only models this plugin loads are changed; a packed model is never touched.
"""
from __future__ import annotations

import numbers
import sys
from typing import Any

import numpy as np

from bentoml.artifact import with_mixin

from bentoml_tensorflow._inputs import conform
from bentoml_tensorflow._tensorflow import import_tensorflow

def _fit_one(value: Any, spec: Any) -> Any:
    return conform(value, list(spec.shape), str(spec.dtype), f"input {spec.name!r}")


def fit_keras_inputs(model: Any, x: Any) -> Any:
    """``x`` fitted to ``model.inputs``; unchanged when Keras should handle it itself.

    Datasets, generators, DataFrames and symbolic tensors pass through, as do
    inputs of models that declare none (subclassed models built on first call).
    """
    tf = import_tensorflow()
    keras = sys.modules["keras"]
    if isinstance(x, keras.KerasTensor) or not tf.executing_eagerly():
        return x
    if not (isinstance(x, (list, tuple, dict, np.ndarray, numbers.Number, str, bytes)) or tf.is_tensor(x)):
        return x
    try:
        specs = list(model.inputs or [])
    except (AttributeError, ValueError):
        specs = []
    if not specs:
        return x
    if isinstance(x, dict):
        by_name = {spec.name: spec for spec in specs}
        return {k: _fit_one(v, by_name[k]) if k in by_name else v for k, v in x.items()}
    if len(specs) == 1:
        return _fit_one(x, specs[0])
    if isinstance(x, (list, tuple)) and len(x) == len(specs):
        return type(x)(_fit_one(v, spec) for v, spec in zip(x, specs))
    return x


class KerasInputGuard:
    """Mixin placed before a Keras model class: fits inputs, then calls Keras.

    ``predict`` defaults to ``verbose=0``: a served model predicts once per
    batch, and a progress bar each time would flood the server log and the
    JSON that ``bentoml run`` prints to stdout.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            args = (fit_keras_inputs(self, args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)  # type: ignore[misc]

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) < 2:  # verbose is predict's third parameter
            kwargs.setdefault("verbose", 0)
        return super().predict(fit_keras_inputs(self, x), *args, **kwargs)  # type: ignore[misc]

    def predict_on_batch(self, x: Any) -> Any:
        return super().predict_on_batch(fit_keras_inputs(self, x))  # type: ignore[misc]


def guard_keras_model(model: Any) -> Any:
    """Give a Keras model this plugin loaded the input checks of :class:`KerasInputGuard`."""
    return with_mixin(model, KerasInputGuard)


def is_guarded(model: Any) -> bool:
    """Whether ``model`` was loaded by this plugin (its inputs are checked)."""
    return isinstance(model, KerasInputGuard)

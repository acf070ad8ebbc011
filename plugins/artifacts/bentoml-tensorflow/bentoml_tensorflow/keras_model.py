"""Keras models this plugin packs or loads: still Keras models, but bad input is a BadInput.

The model's class is swapped for a subclass of its own class that fits
the first argument of ``model(x)``, ``model.predict(x)`` and
``model.predict_on_batch(x)`` to the model's declared inputs (dtype and shape,
see :mod:`bentoml_tensorflow._inputs`; for a subclassed model, the rank and
dtype of its first call) before Keras sees it.  So a request of
the wrong shape is answered 400 naming the input, lists work where Keras wants
arrays, and ``isinstance(model, keras.Sequential)``, ``model.layers``,
``model.save(...)`` and everything else stay Keras's own.

Why a subclass and not a wrapper object: user code and Keras itself check
``isinstance(model, keras.Model)``, and a wrapper would fail those checks.
Why not patch instance attributes: Python looks ``__call__`` up on the class.
The subclass carries its base's module and name, and ``save`` runs as the
base class (Keras looks a registered class's name up by the class object), so a
model saved again loads without this plugin.  Packed models get the same checks
(in place, as loaded ones), so a service answers the same before and after it
is saved.
"""
from __future__ import annotations

import contextlib
import inspect
import numbers
import sys
from typing import Any, Iterator, List, NamedTuple, Optional, Tuple

import numpy as np

from bentoml.artifact import with_mixin

from bentoml_tensorflow._inputs import conform
from bentoml_tensorflow._tensorflow import import_tensorflow

class InputSpec(NamedTuple):
    """One input of a Keras model: its name, shape (None: any size) and dtype name.

    ``recorded``: the shape is the one of the model's first call, not a declared one.
    """

    name: str
    shape: Tuple[Optional[int], ...]
    dtype: str
    recorded: bool = False


def declared_inputs(model: Any) -> List[InputSpec]:
    """The inputs ``model`` declares (functional, Sequential), else those of its first call.

    A subclassed model declares no inputs; Keras records the shapes its call
    was first built for (``_build_shapes_dict``, which Keras's own
    ``model.export()`` reads too), one per positional argument of ``call``,
    typed ``model.input_dtype``.  The batch dimension is left free.  Empty
    when the model was never built.
    """
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):  # subclassed models have no declared inputs
        inputs = []
    if inputs:
        return [InputSpec(i.name, tuple(i.shape), str(i.dtype)) for i in inputs]
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    if not shapes or not all(isinstance(s, (tuple, list)) and s for s in shapes.values()):
        return []  # never built, or nested (dict, list) arguments: left to Keras
    names = list(inspect.signature(model.call).parameters)[: len(shapes)]
    dtype = str(getattr(model, "input_dtype", None) or "float32")
    return [InputSpec(name, (None,) + tuple(shape[1:]), dtype, recorded=True)
            for name, shape in zip(names, shapes.values())]


def _fit_one(value: Any, spec: InputSpec) -> Any:
    # Of a recorded (first-call) shape only the rank is kept: a subclassed model may take other sizes.
    shape = [None] * len(spec.shape) if spec.recorded else list(spec.shape)
    return conform(value, shape, spec.dtype, f"input {spec.name!r}")


def fit_keras_inputs(model: Any, x: Any) -> Any:
    """``x`` fitted to the model's inputs (:func:`declared_inputs`); unchanged when Keras should handle it.

    Datasets, generators, DataFrames and symbolic tensors pass through, as do
    inputs of models never built.  A subclassed model's inputs are fitted to
    the rank and dtype of its first call; the sizes are left to Keras.
    """
    tf = import_tensorflow()
    keras = sys.modules["keras"]
    if isinstance(x, keras.KerasTensor) or not tf.executing_eagerly():
        return x
    if not (isinstance(x, (list, tuple, dict, np.ndarray, numbers.Number, str, bytes)) or tf.is_tensor(x)):
        return x
    specs = declared_inputs(model)
    if not specs:
        return x
    if isinstance(x, dict):
        by_name = {spec.name: spec for spec in specs}
        return {k: _fit_one(v, by_name[k]) if k in by_name else v for k, v in x.items()}
    if len(specs) == 1:
        return _fit_one(x, specs[0])
    if isinstance(x, (list, tuple)) and len(x) == len(specs) and not specs[0].recorded:
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

    def predict_classes(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """Keras 2's ``Sequential.predict_classes``, which BentoML 0.x services called and
        Keras removed in TensorFlow 2.6: the index of the highest score per input, or, for
        one sigmoid output, 1 where the score is above 0.5.  A model class of the user's
        own that defines ``predict_classes`` keeps its own."""
        own = getattr(super(), "predict_classes", None)
        if own is not None:
            return own(x, *args, **kwargs)
        scores = np.asarray(self.predict(x, *args, **kwargs))
        if scores.shape[-1] > 1:
            return scores.argmax(axis=-1)
        return (scores > 0.5).astype("int32")

    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's own ``save``, as the model's own class (see :func:`as_own_class`)."""
        with as_own_class(self):
            return self.save(*args, **kwargs)


@contextlib.contextmanager
def as_own_class(model: Any) -> Iterator[Any]:
    """``model`` with its original class for the duration, e.g. while Keras serializes it.

    Keras records a registered class under the name it was registered with
    (``"zoo>Scaled"``), looked up by the class object: the guard's subclass is
    not in that registry, and a file saved through it would not load again.
    """
    guarded = type(model)
    if not isinstance(model, KerasInputGuard):
        yield model
        return
    object.__setattr__(model, "__class__", guarded.__bases__[-1])  # with_mixin's (mixin, own class)
    try:
        yield model
    finally:
        object.__setattr__(model, "__class__", guarded)


def guard_keras_model(model: Any) -> Any:
    """Give a Keras model this plugin packed or loaded the input checks of :class:`KerasInputGuard`."""
    return with_mixin(model, KerasInputGuard)


def is_guarded(model: Any) -> bool:
    """Whether ``model`` was packed or loaded by this plugin (its inputs are checked)."""
    return isinstance(model, KerasInputGuard)

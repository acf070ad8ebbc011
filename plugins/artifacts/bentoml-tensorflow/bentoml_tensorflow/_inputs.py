"""Fit a call's argument to the input a model declares: dtype and shape, or BadInput.

A conversion is allowed when it keeps every value: ints into float32, integral
floats (``3.0``) into int32, strings into a string input.  One that would change
a value (``3.7`` into int32, ``300`` into uint8, text into float32) is refused
with a :class:`~bentoml.exceptions.BadInput` naming the input, so the API
server answers 400 instead of predicting on silently altered data.  The cast
itself is the kernel's :func:`bentoml.casting.lossless_cast`, shared with
TfTensorInput.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from bentoml.casting import STRING, lossless_cast
from bentoml.exceptions import BadInput

from bentoml_tensorflow._tensorflow import import_tensorflow

Shape = Optional[Sequence[Optional[int]]]


def shape_text(shape: Shape) -> str:
    """``(None, 4)`` for a shape, ``any shape`` for an unknown rank."""
    return "any shape" if shape is None else str(tuple(shape))


def conform(value: Any, shape: Shape, dtype: str, what: str) -> Any:
    """``value`` as a tensor or array of ``dtype`` whose shape matches ``shape``.

    :param value: a tf.Tensor, numpy array, list or scalar.
    :param shape: the declared dimensions (None for any size), or None for any rank.
    :param dtype: the declared TensorFlow dtype name (``"float32"``, ``"string"``).
    :param what: how messages name the input (``"input 'x'"``).
    :raises BadInput: when no value-preserving conversion fits.

    A tensor that already fits is returned as is (it stays on its device);
    symbolic tensors (inside a ``tf.function`` or a Keras graph) are left alone.
    """
    tf = import_tensorflow()
    if tf.is_tensor(value):
        if not tf.executing_eagerly() or not hasattr(value, "numpy"):
            return value
        if value.dtype.name == dtype and _shape_fits(tuple(value.shape), shape):
            return value
        value = value.numpy()
    array = _as_array(value, what)
    if not _shape_fits(array.shape, shape):
        hint = ""
        if shape is not None and array.ndim == len(shape) - 1:
            hint = " (the first dimension is the batch: wrap a single example in a list)"
        raise BadInput(f"{what} has shape {shape_text(array.shape)} but the model expects "
                       f"{shape_text(shape)}{hint}")
    return lossless_cast(array, STRING if dtype == STRING else tf.as_dtype(dtype).as_numpy_dtype, what)


def _shape_fits(actual: Sequence[Optional[int]], declared: Shape) -> bool:
    if declared is None:
        return True
    if len(actual) != len(declared):
        return False
    return all(d is None or a is None or a == d for a, d in zip(actual, declared))


def _as_array(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError as exc:  # numpy >= 1.24 refuses ragged nesting
        raise BadInput(f"{what} is ragged (nested lists of different lengths): {exc}") from None
    if array.dtype == object:
        values = list(array.flat)
        if any(v is None for v in values):
            raise BadInput(f"{what} holds None (JSON null); a tensor has no missing values")
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
            raise BadInput(f"{what} is ragged (nested lists of different lengths)")
        if not all(isinstance(v, (str, bytes)) for v in values):
            kinds = sorted({type(v).__name__ for v in values})
            raise BadInput(f"{what} mixes values of types {', '.join(kinds)}; a tensor holds one type")
    return array

"""TF Serving REST request bodies -> arrays: the row (``instances``) and columnar (``inputs``) formats.

Row format: ``{"instances": [i0, i1, ...]}``, each instance a value (nested
lists of one shape) or an object of named inputs; stacked along a new first
axis, one result per instance.  Columnar format: ``{"inputs": t}`` or
``{"inputs": {"name": t, ...}}``; the tensors' first axis is the batch.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from bentoml.exceptions import BadInput

from bentoml_adapter_tensor._values import is_b64, to_array

Arrays = Union[np.ndarray, Dict[str, np.ndarray]]
#: None (TensorFlow's default types), one dtype name, or input name -> dtype name.
DType = Union[None, str, Dict[str, str]]
FORMATS = ("instances", "inputs")


def parse_body(text: str, dtype: DType = None) -> Tuple[Arrays, int]:
    """The arrays of one request body and its number of instances (the batch size it adds).

    :param dtype: what to cast the inputs to (see ``TfTensorInput(dtype=...)``).
    """
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = exc.msg.removesuffix(" at")  # json says "Invalid control character at"
        hint = ""
        if msg == "Invalid control character":  # e.g. "$(base64 image.png)" pasted into a JSON string
            hint = "; a line break inside a JSON string must be written \\n"
        raise BadInput(f"body is not valid JSON: {msg} at line {exc.lineno} column {exc.colno}{hint}") from None
    if not isinstance(body, dict):
        raise BadInput(f'expected a JSON object {{"instances": [...]}} or {{"inputs": ...}}, '
                       f"got a JSON {type(body).__name__}")
    present = [k for k in FORMATS if k in body]
    if len(present) == 2:
        raise BadInput("send either \"instances\" (row format) or \"inputs\" (columnar format), not both")
    if not present:
        raise BadInput(f'expected "instances" (row format) or "inputs" (columnar format); got keys {sorted(body)}')
    extra = sorted(set(body) - set(present))
    if extra:
        raise BadInput(f"unexpected key {extra[0]!r} next to {present[0]!r}"
                       + ("; the API function decides which signature to call" if extra[0] == "signature_name" else ""))
    if present[0] == "instances":
        return _rows(body["instances"], dtype)
    return _columns(body["inputs"], dtype)


def _unnamed_dtype(dtype: DType) -> Optional[str]:
    if isinstance(dtype, dict):
        raise BadInput(f"this API expects named inputs {sorted(dtype)}: "
                       'send objects in "instances" or an object as "inputs"')
    return dtype


def _named_dtypes(dtype: DType, names: List[str]) -> Callable[[str], Optional[str]]:
    """The dtype of each named input; every input a dtype dict names must be present."""
    if not isinstance(dtype, dict):
        return lambda name: dtype
    missing = [n for n in dtype if n not in names]
    if missing:
        raise BadInput(f"input {missing[0]!r} is missing; this API expects inputs {sorted(dtype)}")
    return dtype.get


def _rows(instances: Any, dtype: DType) -> Tuple[Arrays, int]:
    if not isinstance(instances, list):
        raise BadInput(f'"instances" must be a list (one item per instance), got {type(instances).__name__}')
    if not instances:
        raise BadInput('"instances" is empty; send at least one instance')
    named = [isinstance(i, dict) and not is_b64(i) for i in instances]
    if all(named):
        return _named_rows(instances, dtype), len(instances)
    if any(named):
        raise BadInput('"instances" mixes objects of named inputs with plain values')
    try:
        return to_array(instances, '"instances"', _unnamed_dtype(dtype)), len(instances)
    except BadInput:
        _explain_instance_shapes(instances, lambda i: f"instance {i}")
        raise


def _explain_instance_shapes(values: List[Any], where) -> None:
    """Raise a BadInput naming the first instance whose own shape differs from instance 0's."""
    shapes = []
    for i, value in enumerate(values):
        shapes.append(to_array(value, where(i)).shape)  # a bad value fails here, named
        if shapes[i] != shapes[0]:
            raise BadInput(f"{where(i)} has shape {shapes[i]} but {where(0)} has {shapes[0]}; "
                           "all instances must have the same shape")


def _named_rows(instances: List[Dict[str, Any]], dtype: DType) -> Dict[str, np.ndarray]:
    names = list(instances[0])
    if not names:
        raise BadInput("instance 0 is an empty object; name at least one input")
    for i, instance in enumerate(instances[1:], 1):
        missing = [n for n in names if n not in instance]
        if missing:
            raise BadInput(f"instance {i} is missing input {missing[0]!r} (instance 0 has {names})")
        extra = [n for n in instance if n not in names]
        if extra:
            raise BadInput(f"instance {i} has input {extra[0]!r}, which instance 0 does not have")
    dtype_of = _named_dtypes(dtype, names)
    arrays = {}
    for name in names:
        values = [instance[name] for instance in instances]
        try:
            arrays[name] = to_array(values, f"input {name!r}", dtype_of(name))
        except BadInput:
            _explain_instance_shapes(values, lambda i, name=name: f"instance {i}, input {name!r}")
            raise
    return arrays


def _columns(inputs: Any, dtype: DType) -> Tuple[Arrays, int]:
    if isinstance(inputs, dict) and not is_b64(inputs):
        if not inputs:
            raise BadInput('"inputs" is an empty object; name at least one input')
        dtype_of = _named_dtypes(dtype, list(inputs))
        arrays = {name: to_array(value, f"inputs[{name!r}]", dtype_of(name)) for name, value in inputs.items()}
        for name, array in arrays.items():
            if array.ndim == 0:
                raise BadInput(f"inputs[{name!r}] is a single value; columnar inputs need a first "
                               "(batch) dimension: wrap it in a list")
        sizes = {name: a.shape[0] for name, a in arrays.items()}
        if len(set(sizes.values())) > 1:
            raise BadInput(f"columnar inputs must share their first (batch) dimension, got sizes {sizes}")
        return arrays, _batch_size(next(iter(sizes.values())))
    array = to_array(inputs, '"inputs"', _unnamed_dtype(dtype))
    if array.ndim == 0:
        raise BadInput('"inputs" is a single value; columnar inputs need a first (batch) dimension: '
                       "wrap it in a list")
    return array, _batch_size(array.shape[0])


def _batch_size(size: int) -> int:
    if size == 0:
        raise BadInput('"inputs" has an empty first (batch) dimension; send at least one instance')
    return size

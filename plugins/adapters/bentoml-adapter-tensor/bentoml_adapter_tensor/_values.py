"""JSON values -> numpy arrays, typed the way TensorFlow types Python values.

``tf.constant`` makes Python floats float32, ints int32 (int64 when they do
not fit) and text tf.string; the arrays built here follow the same rules so
that a request means the same tensor here as in a notebook.  Nested lists must
be rectangular and hold one kind of value; ``{"b64": "..."}`` is a binary
value (TF Serving's REST convention).  Anything else is a BadInput naming where.
"""
from __future__ import annotations

import base64
import binascii
import string
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bentoml.casting import STRING, lossless_cast
from bentoml.exceptions import BadInput

_INT32 = np.iinfo(np.int32)
_INT64 = np.iinfo(np.int64)
_KIND_NAMES = {int: "number", float: "number", bool: "boolean", str: "string", dict: "object"}


#: Deleted before decoding: ``base64`` (the command) and Python's ``encodebytes`` wrap lines at 76 columns.
_WHITESPACE = str.maketrans("", "", string.whitespace)


def _decode_b64(obj: Dict[str, Any], where: str) -> bytes:
    """The bytes of a ``{"b64": ...}`` value; line breaks and spaces in the text are ignored.

    BentoML 0.x decoded leniently and so took wrapped base64; it also dropped
    any other character outside the alphabet, which silently corrupts data
    (URL-safe ``-`` and ``_``, a stray ``%``): those are refused here.
    """
    if set(obj) != {"b64"} or not isinstance(obj["b64"], str):
        raise BadInput(f"{where}: an object where a value belongs must be {{\"b64\": \"<base64 text>\"}} "
                       f"(a binary value), got keys {sorted(obj)}")
    text = obj["b64"].translate(_WHITESPACE)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        hint = " (URL-safe base64, with - and _, is not accepted: use + and /)" if set(text) & set("-_") else ""
        raise BadInput(f"{where}: \"b64\" is not valid base64: {exc}{hint}") from None


def is_b64(value: Any) -> bool:
    """Whether ``value`` is a ``{"b64": ...}`` binary value rather than an object of named inputs."""
    return isinstance(value, dict) and set(value) == {"b64"}


def _shape_and_leaves(value: Any, where: str) -> Tuple[List[int], List[Any]]:
    """Walk the nesting one level at a time: the rectangular shape and the flat leaves."""
    shape: List[int] = []
    level = [value]
    while level:
        lists = sum(type(v) is list for v in level)
        if lists == 0:
            break
        if lists != len(level):
            raise BadInput(f"{where} is ragged: lists and single values at the same depth {len(shape)}")
        width = len(level[0])
        if any(len(v) != width for v in level):
            lengths = sorted({len(v) for v in level})
            raise BadInput(f"{where} is ragged: lists of lengths {lengths} at depth {len(shape)}; "
                           "a tensor needs every list at one depth to have the same length")
        shape.append(width)
        level = [item for v in level for item in v]
    return shape, level


def to_array(value: Any, where: str, dtype: Optional[str] = None) -> np.ndarray:
    """One JSON value (a scalar or nested lists) as a numpy array.

    Typed as TensorFlow types Python values, or as ``dtype`` when given (built
    at full precision first, so that the cast can refuse exactly what would change).
    """
    shape, leaves = _shape_and_leaves(value, where)
    kinds = {type(v) for v in leaves}
    if not leaves or kinds <= {int, float}:
        if float in kinds or not leaves:
            array = np.array(leaves, dtype=np.float32 if dtype is None else np.float64)
        else:
            low, high = min(leaves), max(leaves)
            if low < _INT64.min or high > _INT64.max:
                raise BadInput(f"{where} holds integers beyond 64 bits (e.g. {high if high > _INT64.max else low})")
            fits32 = dtype is None and _INT32.min <= low and high <= _INT32.max
            array = np.array(leaves, dtype=np.int32 if fits32 else np.int64)
    elif kinds == {bool}:
        array = np.array(leaves, dtype=bool)
    elif kinds <= {str, dict}:
        array = np.empty(len(leaves), dtype=object)  # object array of bytes: TensorFlow's tf.string
        array[:] = [v.encode("utf-8") if type(v) is str else _decode_b64(v, where) for v in leaves]
    elif type(None) in kinds:
        raise BadInput(f"{where} holds null; a tensor has no missing values")
    else:
        names = sorted({_KIND_NAMES.get(k, k.__name__) for k in kinds})
        raise BadInput(f"{where} mixes {' and '.join(names)} values; a tensor holds one type")
    array = array.reshape(shape)
    return array if dtype is None else lossless_cast(array, dtype, where)


def dtype_name(array: np.ndarray) -> str:
    """The TensorFlow name of an array's dtype (``string`` for bytes)."""
    return STRING if array.dtype == object else array.dtype.name


def concat(arrays: Sequence[np.ndarray], where: str) -> np.ndarray:
    """Arrays of several requests joined along the batch axis.

    Inner shapes must agree.  ints and floats mix into the float type (a client
    may write ``1`` for ``1.0``); other mixes are a BadInput for the kernel to
    retry each request alone.
    """
    first = arrays[0]
    for other in arrays[1:]:
        if other.shape[1:] != first.shape[1:]:
            raise BadInput(f"requests in one batch have {where} of different shapes: "
                           f"{tuple(first.shape)} and {tuple(other.shape)}")
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1:
        kinds = {d.kind for d in dtypes}
        if not kinds <= set("iuf"):
            raise BadInput(f"requests in one batch have {where} of different types: "
                           f"{sorted(dtype_name(a) for a in arrays)}")
        floats = [d for d in dtypes if d.kind == "f"]
        target = max(floats, key=lambda d: d.itemsize) if floats else np.result_type(*dtypes)
        arrays = [a.astype(target, copy=False) for a in arrays]
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=0)

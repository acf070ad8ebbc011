"""``JsonOutput``, the default output adapter, and the JSON conversion it uses.

Results are answered as BentoML 0.8 answered them, so that its clients parse
ours: a DataFrame as a list of records (``[{"a": 1, "b": 2}, ...]``), a Series
as records keyed by its name (``[{"col1": 20}, {"col1": 40}]``, ``"0"`` when it
has none), pandas timestamps and time deltas (in DataFrames and Series) as
milliseconds, ``bytes`` as text when they are UTF-8 and as ``{"b64": "..."}``
when they are not.  Where 0.8 wrote invalid JSON we write valid JSON (NaN and
infinities are ``null``, not ``NaN``) and where it wrote a placeholder
(``{"unknown_obj": ...}``) we refuse, naming the type.
"""
from __future__ import annotations

import base64
import json
import math
from typing import Any, Mapping

from bentoml.adapters.output_adapter import OutputAdapter
from bentoml.inference import InferenceResult, InferenceTask

#: The key of a binary value in JSON, as in TensorFlow Serving's REST API and BentoML 0.8.
B64_KEY = "b64"


class JsonOutput(OutputAdapter):
    """The default output: JSON of DataFrame (records), Series, ndarray, tensors, lists."""

    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        return InferenceResult(200, to_json_bytes(share))


def to_json_bytes(share: Any) -> bytes:
    """``share`` as JSON text: through the C encoder when it holds plain JSON values
    (the common case, a list or an array of numbers), else via :func:`to_jsonable`."""
    if hasattr(share, "tolist") and not hasattr(share, "iloc"):  # an ndarray, a numpy scalar
        share = share.tolist()
    try:
        return json.dumps(share, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):  # numpy values, NaN, bytes, pandas, ...
        return json.dumps(to_jsonable(share), allow_nan=False).encode("utf-8")


def to_jsonable(obj: Any) -> Any:
    """Convert results to JSON types by duck typing; imports no framework.

    DataFrames become lists of records, Series records keyed by their name,
    ndarrays and tensors lists, numpy scalars Python scalars, NaN and
    infinities ``null``, bytes text or ``{"b64": ...}`` (see the module docs).
    """
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {_key(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        try:
            return obj.decode("utf-8")
        except UnicodeDecodeError:  # binary: never text with replacement characters
            return {B64_KEY: base64.b64encode(obj).decode("ascii")}
    if hasattr(obj, "columns") and hasattr(obj, "to_dict"):  # DataFrame
        return to_jsonable(obj.to_dict(orient="records"))
    if hasattr(obj, "iloc") and hasattr(obj, "to_frame"):  # Series: one column of records
        return to_jsonable(obj.to_frame(name=0 if obj.name is None else obj.name).to_dict(orient="records"))
    if hasattr(obj, "to_datetime64") or hasattr(obj, "to_timedelta64"):  # pandas Timestamp, Timedelta, NaT
        return None if obj != obj else obj.value // 1_000_000  # epoch ms, as pandas' to_json
    if hasattr(obj, "tolist"):  # ndarray, numpy scalar
        return to_jsonable(obj.tolist())
    if hasattr(obj, "numpy"):  # tf.Tensor, torch.Tensor
        return to_jsonable(obj.numpy())
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"cannot serialize a {type(obj).__name__} result to JSON")


def _key(key: Any) -> str:
    """A mapping key as ``json.dumps`` writes it (``True`` -> ``"true"``), other keys by ``str``."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)

"""``JsonOutput``, the default output adapter, and the JSON conversion it uses."""
from __future__ import annotations

import json
import math
from typing import Any, Mapping

from bentoml.adapters.output_adapter import OutputAdapter
from bentoml.inference import InferenceResult, InferenceTask


class JsonOutput(OutputAdapter):
    """The default output: JSON of DataFrame (records), Series, ndarray, tensors, lists."""

    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        return InferenceResult(200, json.dumps(to_jsonable(share)).encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert results to JSON types by duck typing; imports no framework.

    DataFrames become lists of records, Series/ndarrays/tensors lists, numpy
    scalars Python scalars, NaN and infinities ``null``.
    """
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "columns") and hasattr(obj, "to_dict"):  # DataFrame
        return to_jsonable(obj.to_dict(orient="records"))
    if hasattr(obj, "tolist"):  # ndarray, Series, numpy scalar
        return to_jsonable(obj.tolist())
    if hasattr(obj, "numpy"):  # tf.Tensor, torch.Tensor
        return to_jsonable(obj.numpy())
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode("utf-8", errors="replace")
    raise TypeError(f"cannot serialize a {type(obj).__name__} result to JSON")

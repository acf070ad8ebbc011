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
from typing import Any, Dict, Mapping, Optional

from bentoml.adapters.output_adapter import OutputAdapter
from bentoml.exceptions import InvalidArgument
from bentoml.inference import InferenceResult, InferenceTask

#: The key of a binary value in JSON, as in TensorFlow Serving's REST API and BentoML 0.8.
B64_KEY = "b64"


class JsonOutput(OutputAdapter):
    """The default output: JSON of DataFrame (records), Series, ndarray, tensors, lists.

    BentoML 0.10-0.13 spellings are this class too: ``DefaultOutput`` (which
    chose an output by the result's type, as this one does), and
    ``JsonSerializableOutput``; ``DataframeOutput`` and ``TfTensorOutput``
    come with the DataFrame and tensor adapter plugins.

    :param ensure_ascii: write non-ASCII characters as ``\\uXXXX`` escapes
        (the default, as BentoML 0.8 wrote them); False writes them as UTF-8,
        as 0.10-0.13's ``JsonOutput`` did by default.
    :param cors: accepted for 0.10-0.13 services, where it set the
        ``Access-Control-Allow-Origin`` header of AWS Lambda responses only;
        the HTTP server's CORS headers are its ``--enable-cors`` option.
    """

    def __init__(self, ensure_ascii: bool = True, cors: Optional[str] = "*") -> None:
        if not isinstance(ensure_ascii, bool):
            raise InvalidArgument(f"{type(self).__name__}(ensure_ascii=...) must be True or False, "
                                  f"got {ensure_ascii!r}")
        if cors is not None and not isinstance(cors, str):
            raise InvalidArgument(f"{type(self).__name__}(cors=...) must be a string or None, got {cors!r}")
        self.ensure_ascii = ensure_ascii
        self.cors = cors

    @property
    def config(self) -> Dict[str, Any]:
        return {} if self.ensure_ascii else {"ensure_ascii": False}

    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        return InferenceResult(200, to_json_bytes(share, self.ensure_ascii))

    def to_values(self, share: Any, task: InferenceTask) -> Any:
        """A numeric array as itself (no JSON text made and read back), anything else as ``to_result``'s JSON."""
        numbers = plain_number_array(share)
        return super().to_values(share, task) if numbers is None else numbers


def to_json_bytes(share: Any, ensure_ascii: bool = True) -> bytes:
    """``share`` as JSON text: through the C encoder when it holds plain JSON values
    (the common case, a list or an array of numbers), else via :func:`to_jsonable`."""
    if hasattr(share, "tolist") and not hasattr(share, "iloc"):  # an ndarray, a numpy scalar
        share = share.tolist()
    try:
        return json.dumps(share, allow_nan=False, ensure_ascii=ensure_ascii).encode("utf-8")
    except (TypeError, ValueError):  # numpy values, NaN, bytes, pandas, ...
        return json.dumps(to_jsonable(share), allow_nan=False, ensure_ascii=ensure_ascii).encode("utf-8")


#: numpy dtype kinds whose JSON is a plain number, and the dtype ``tolist`` + JSON reads back as
_NUMBER_KINDS = {"b": "bool", "i": "int64", "u": "int64", "f": "float64"}


def plain_number_array(share: Any) -> Any:
    """``share`` as a bool/int64/float64 array when it is a 1-D or 2-D numpy array whose
    JSON is plain numbers (finite floats, integers that fit int64), else None."""
    kind = getattr(getattr(share, "dtype", None), "kind", None)
    if kind not in _NUMBER_KINDS or type(share).__module__ != "numpy" or share.ndim not in (1, 2):
        return None
    import numpy as np

    if kind == "f" and not np.isfinite(share).all():  # NaN and infinities are JSON null
        return None
    if kind == "u" and share.dtype.itemsize == 8 and share.size and share.max() > np.iinfo(np.int64).max:
        return None
    return share.astype(_NUMBER_KINDS[kind], copy=False)


#: BentoML 0.10's name of this adapter (``from bentoml.adapters.json_output import JsonSerializableOutput``).
JsonSerializableOutput = JsonOutput


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

"""TfTensorInput: TF Serving REST requests become one ``tf.Tensor`` per batch.

``from bentoml.adapters import TfTensorInput`` resolves to the class below once
this distribution is installed.  Requests are parsed into numpy arrays (no
TensorFlow needed); TensorFlow is imported when the first batch is built,
which in the API server happens in each worker after the fork.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter, JsonOutput
from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.hookspecs import hookimpl
from bentoml.native_logs import import_with_log_level
from bentoml.plugins.install_hints import framework_install_hint

__all__ = ["TfTensorInput", "TfTensorOutput"]

DType = Union[None, str, Dict[str, str]]
_EXAMPLES = {"f": [[1.0, 2.0, 3.0, 4.0]], "i": [[1, 2, 3, 4]], "u": [[1, 2, 3, 4]], "b": [[True, False]],
             "string": ["a text"]}


def _tensorflow() -> Any:
    # TF reads its C++ log level once, on load: keep the INFO banners out of server logs and CLI output.
    try:
        return import_with_log_level("tensorflow", "TF_CPP_MIN_LOG_LEVEL")
    except ImportError as exc:
        raise ImportError("TfTensorInput hands the API tf.Tensor values and needs TensorFlow: "
                          f"{framework_install_hint('bentoml-adapter-tensor')} ({exc})") from exc


def _dtype_name(dtype: Any, option: str) -> str:
    """The canonical name of a dtype option (``"float32"``, ``"string"``); InvalidArgument otherwise."""
    import numpy as np

    if dtype in ("string", str, bytes):
        return "string"
    try:
        np_dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))  # tf.float32 works too
    except TypeError:
        np_dtype = None
    if np_dtype is None or np_dtype.kind not in "biuf":
        raise InvalidArgument(f"TfTensorInput({option}=...) must be a numeric or bool dtype name "
                              f"('float32', 'int64', 'bool') or 'string', got {dtype!r}")
    return np_dtype.name


class TfTensorInput(InputAdapter):
    """TF Serving's REST request formats; the API function receives a ``tf.Tensor`` per batch.

    A request body is JSON in one of TF Serving's two formats:

    - row format, one result per instance:
      ``{"instances": [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]}``, or with
      named inputs ``{"instances": [{"tokens": [1, 2], "mask": [1, 1]}, ...]}``;
    - columnar format, the first dimension being the batch:
      ``{"inputs": [[5.1, 3.5, 1.4, 0.2]]}`` or ``{"inputs": {"tokens": [[1, 2]], "mask": [[1, 1]]}}``.

    ``{"b64": "<base64>"}`` stands for a binary (tf.string) value wherever a
    value may appear.  Values are typed as ``tf.constant`` types them (floats
    float32, ints int32, text tf.string) unless ``dtype`` says otherwise.

    Each request counts as its number of instances.  Under micro-batching the
    requests of a batch are concatenated along the first axis, so the API
    function gets one ``tf.Tensor`` (or a dict of them, for named inputs) and
    returns one result per instance: a tensor, array or list whose first axis
    is the batch, or a dict of those (one output per name, as signatures
    return), which each request gets back as one object per instance::

        @bentoml.api(input=TfTensorInput())
        def predict(self, tensor):
            return self.artifacts.model(tensor)

    Why ``tf.Tensor`` rather than numpy: it is what TensorFlow models take and
    what BentoML 0.x passed.  Requests are still parsed into numpy arrays, so
    concatenating a batch is one ``np.concatenate`` and one conversion, and
    parsing needs no TensorFlow.  Requests whose inner shapes or types cannot
    be joined fail the batch, and the server then runs each request alone, so
    only the odd one out is refused.

    :param dtype: cast every input to this dtype (``"float32"``, ``"int64"``,
        ``"bool"``, ``"string"``), or per named input with a dict.  Casting
        refuses to change a value: ``3.7`` for an int32 input is a 400, ``3``
        for float32 is fine.  Use it when the model wants a type JSON cannot
        say (int64 ids, float16) or when requests should batch together
        whether clients write ``1`` or ``1.0``.
    """

    requirement_imports = ("tensorflow", "numpy")
    #: A dict of outputs (a signature's) becomes one object per instance.
    named_outputs = True
    #: A request may carry several inputs: the API always gets a batch (no @api(batch=False)).
    single_mode_supported = False

    def __init__(self, dtype: DType = None):
        if isinstance(dtype, Mapping):
            if not dtype or not all(isinstance(k, str) for k in dtype):
                raise InvalidArgument(f"TfTensorInput(dtype=...) as a dict maps input names to dtypes, got {dtype!r}")
            self.dtype: DType = {k: _dtype_name(v, f"dtype[{k!r}]") for k, v in dtype.items()}
        elif dtype is not None:
            self.dtype = _dtype_name(dtype, "dtype")
        else:
            self.dtype = None

    @property
    def config(self) -> Dict[str, Any]:
        return {"dtype": self.dtype, "is_batch_input": True}

    # -- request -> task -------------------------------------------------------------
    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        from bentoml_adapter_tensor._request import parse_body

        arrays, count = parse_body(request.text(), self.dtype)
        return InferenceTask(data=arrays, count=count)

    # -- tasks -> API argument -> per-task results ----------------------------------------
    def _batch(self, tasks: Sequence[InferenceTask]) -> Any:
        import numpy as np

        from bentoml_adapter_tensor._values import concat

        parts = [t.data for t in tasks]
        tf = _tensorflow()
        if all(isinstance(p, np.ndarray) for p in parts):
            return tf.convert_to_tensor(concat(parts, "inputs"))
        if all(isinstance(p, dict) for p in parts):
            names = list(parts[0])
            for part in parts[1:]:
                if set(part) != set(names):
                    raise BadInput(f"requests in one batch name different inputs: {sorted(names)} and {sorted(part)}")
            return {n: tf.convert_to_tensor(concat([p[n] for p in parts], f"input {n!r}")) for n in names}
        raise BadInput("requests in one batch mix named and unnamed inputs")

    def _result_value(self, value: Any) -> Any:
        """Tensors become host arrays before they are split per request."""
        return _to_host(value)

    # -- documentation ---------------------------------------------------------------------
    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        if isinstance(self.dtype, dict):
            example: Any = {"instances": [{n: _example(d)[0] for n, d in self.dtype.items()}]}
        else:
            example = {"instances": _example(self.dtype)}
        schema = {
            "type": "object",
            "description": 'TF Serving REST format; {"b64": "..."} stands for a binary value anywhere',
            "properties": {
                "instances": {"type": "array", "minItems": 1,
                              "description": "row format: one item (nested lists, or an object of "
                                             "named inputs) per instance; one result per instance"},
                "inputs": {"description": "columnar format: a tensor, or an object of named tensors, "
                                          "whose first dimension is the batch"},
            },
            "oneOf": [{"required": ["instances"]}, {"required": ["inputs"]}],
            "additionalProperties": False,
        }
        return {"application/json": {"schema": schema, "example": example}}


def _example(dtype: Optional[str]) -> List[Any]:
    import numpy as np

    if dtype in (None, "string"):
        return _EXAMPLES[dtype or "f"]
    return _EXAMPLES[np.dtype(dtype).kind]


def _to_host(value: Any) -> Any:
    """A tensor as a numpy array (one copy, then cheap slices per request); anything else unchanged."""
    if hasattr(value, "numpy") and not hasattr(value, "tolist"):
        return value.numpy()
    return value


@hookimpl
def register_input_adapters(register):
    """Provide ``TfTensorInput`` to ``bentoml.adapters``."""
    # Where BentoML 0.7-0.13 kept it (0.8 called it TensorflowTensorHandler).
    register(TfTensorInput, legacy_paths=("bentoml.adapters.tensorflow_tensor_input",
                                          "bentoml.handlers:TensorflowTensorHandler",
                                          "bentoml.handlers.tensorflow_tensor_handler:TensorflowTensorHandler"))


class TfTensorOutput(JsonOutput):
    """BentoML 0.10-0.13's output for TensorFlow results: the kernel's ``JsonOutput``,
    which already answers tensors as nested lists, under the name 0.x services import."""


@hookimpl
def register_output_adapters(register):
    """Provide ``TfTensorOutput`` to ``bentoml.adapters``."""
    register(TfTensorOutput, legacy_paths=("bentoml.adapters.tensorflow_tensor_output",))

"""The adapter contract: request -> task -> batch -> API -> per-task results.

Data flows one way:

1. An :class:`InputAdapter` parses one HTTP request (or one CLI ``--input`` or
   ``--input-file``) into one :class:`InferenceTask`.  Bad input becomes a task
   carrying an :class:`InferenceError` (HTTP 400), never an exception that could
   reach the other requests of a batch.
2. The adapter's ``batch(tasks)`` turns the good tasks of a batch into the one
   argument the API function receives (DataframeInput: one DataFrame of all
   rows; JsonInput: a list of one parsed object per request).
3. The API returns one result per input.  ``split(result, tasks)`` cuts it back
   per task by each task's ``count``: ``None`` means the task is answered with
   the single item at its position; ``n`` means it owns the next ``n`` items
   and is answered with that slice.  A length that differs from the sum is a
   :class:`ResultLengthMismatch`.
4. An :class:`OutputAdapter` serializes each task's share into a response body.

A direct Python call (``svc.predict([[5.1, 3.5, 1.4, 0.2]])``) bypasses all of
this: the value reaches the API function unchanged.

Concrete adapters come from plugins and are importable from this module by name:
``from bentoml.adapters import DataframeInput``.
"""
from __future__ import annotations

import abc
import json
import math
import mimetypes
import os
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Sequence, Tuple

import attrs

from bentoml.exceptions import BadInput, BentoMLException, InvalidArgument
from bentoml.plugins import module_getattr


class ResultLengthMismatch(BentoMLException):
    """The API returned a different number of results than it received inputs."""


@attrs.frozen
class InferenceError:
    """Why one task failed: an HTTP status and a short message for the client."""

    status: int
    message: str


def _lower_keys(headers: Mapping[str, str]) -> Dict[str, str]:
    return {k.lower(): v for k, v in dict(headers).items()}


@attrs.define
class HTTPRequest:
    """What an adapter sees of one request, independent of the web framework.

    The CLI builds the same object from ``--input`` (``source="cli"``), so an
    adapter parses both with one method.  Header names are lower-cased.
    """

    body: bytes
    headers: Dict[str, str] = attrs.field(factory=dict, converter=_lower_keys)
    query: Dict[str, str] = attrs.field(factory=dict)
    source: str = "http"
    filename: Optional[str] = None

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    def text(self) -> str:
        """The body decoded by its charset; undecodable bytes or an unknown charset are a BadInput."""
        try:
            return self.body.decode(self.charset)
        except LookupError:
            raise BadInput(f"unknown charset {self.charset!r} in Content-Type; send utf-8 text") from None
        except UnicodeDecodeError as exc:
            raise BadInput(f"request body is not valid {self.charset} text: {exc}") from None


@attrs.define
class InferenceTask:
    """One request's input on its way through a batch."""

    data: Any = None
    #: None: one result, answered as that item; n: n results, answered as a list.
    count: Optional[int] = None
    error: Optional[InferenceError] = None
    request: Optional[HTTPRequest] = None
    context: Dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def failed(cls, message: str, status: int = 400, request: Optional[HTTPRequest] = None) -> "InferenceTask":
        return cls(error=InferenceError(status, message), request=request)

    @property
    def expected_results(self) -> int:
        return 1 if self.count is None else self.count


@attrs.define
class InferenceResult:
    """One task's answer: HTTP status, body and content type (the CLI prints the body)."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_error(cls, error: InferenceError) -> "InferenceResult":
        return cls(error.status, json.dumps({"error": error.message}).encode())


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InvalidArgument(f"cannot read input file {path!r}: {exc.strerror or exc}") from None


def _file_request(path: str) -> HTTPRequest:
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return HTTPRequest(_read_file(path), {"Content-Type": content_type}, source="cli", filename=path)


def cli_request(value: str) -> HTTPRequest:
    """Build the request for a CLI ``--input``: an existing file path wins over literal text.

    The content type follows the file's extension (``.csv`` -> ``text/csv``);
    literal text is taken as JSON.
    """
    path = os.path.expanduser(value)
    if os.path.isfile(path):
        return _file_request(path)
    return HTTPRequest(value.encode("utf-8"), {"Content-Type": "application/json"}, source="cli")


def cli_files_request(files: Sequence[Tuple[Optional[str], str]]) -> HTTPRequest:
    """Build the request for CLI ``--input-file`` values, given as ``(field name or None, path)``.

    One unnamed file is sent as its raw bytes, typed by its extension, the way
    ``curl -H 'Content-Type: image/png' --data-binary @cat.png`` would.  Several
    files, or named ones, become one ``multipart/form-data`` body like
    ``curl -F imageX=@x.png -F imageY=@y.png``; unnamed files among them are
    the fields ``file``, ``file2``, ``file3``...
    """
    from bentoml.multipart import encode_multipart, file_part

    if not files:
        raise InvalidArgument("no input file given")
    if len(files) == 1 and files[0][0] is None:
        return _file_request(os.path.expanduser(files[0][1]))
    parts, unnamed = [], 0
    for name, path in files:
        if name is None:
            unnamed += 1
            name = "file" if unnamed == 1 else f"file{unnamed}"
        path = os.path.expanduser(path)
        parts.append(file_part(name, path, _read_file(path)))
    content_type, body = encode_multipart(parts)
    return HTTPRequest(body, {"Content-Type": content_type}, source="cli")


class InputAdapter(abc.ABC):
    """Base class of input adapters (``DataframeInput``, ``JsonInput``, ...).

    Subclasses implement ``_parse_http`` (may raise :class:`BadInput`),
    ``_batch`` and ``request_schema``, and report their constructor options in
    ``config`` (stored as the API's ``input_config`` in ``bentoml.yml``).
    """

    requirement_imports: ClassVar[Tuple[str, ...]] = ()

    @property
    def input_type(self) -> str:
        return type(self).__name__

    @property
    def config(self) -> Dict[str, Any]:
        """JSON-serializable constructor options, recorded in the bundle."""
        return {}

    # -- request -> task -----------------------------------------------------
    def from_http_request(self, request: HTTPRequest) -> InferenceTask:
        """Parse one request; bad input yields a failed task, never an exception."""
        if not request.body:
            return InferenceTask.failed(f"{self.input_type}: request body is empty", 400, request)
        try:
            task = self._parse_http(request)
        except BadInput as exc:
            return InferenceTask.failed(f"{self.input_type}: {exc}", exc.status, request)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            return InferenceTask.failed(f"{self.input_type} could not parse the input: {exc}", 400, request)
        task.request = request
        return task

    def from_cli_input(self, value: str) -> InferenceTask:
        """Parse one CLI ``--input`` (literal or file path) like a request."""
        return self.from_http_request(cli_request(value))

    def from_cli_files(self, files: Sequence[Tuple[Optional[str], str]]) -> InferenceTask:
        """Parse CLI ``--input-file`` values (``(field name or None, path)`` pairs) like a request.

        See :func:`cli_files_request` for how the files become one request body.
        """
        return self.from_http_request(cli_files_request(files))

    @abc.abstractmethod
    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        """Turn one request into one task; raise BadInput naming what is wrong."""

    # -- tasks -> API argument -> per-task results ------------------------------
    def batch(self, tasks: Sequence[InferenceTask]) -> Any:
        """The API function's argument for these (good) tasks."""
        return self._batch(tasks)

    @abc.abstractmethod
    def _batch(self, tasks: Sequence[InferenceTask]) -> Any:
        """Combine the tasks' data into one batch value."""

    def split(self, result: Any, tasks: Sequence[InferenceTask]) -> List[Any]:
        """Cut the API's return value back into one share per task."""
        return split_results(result, tasks)

    # -- documentation -----------------------------------------------------------
    @abc.abstractmethod
    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        """OpenAPI ``requestBody.content``: media type -> ``{"schema": ..., "example": ...}``."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.input_type}({args})"


class OutputAdapter(abc.ABC):
    """Base class of output adapters: one task's share of the result -> response."""

    requirement_imports: ClassVar[Tuple[str, ...]] = ()

    @property
    def output_type(self) -> str:
        return type(self).__name__

    @property
    def config(self) -> Dict[str, Any]:
        return {}

    @abc.abstractmethod
    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        """Serialize ``share`` (what ``split`` gave this task)."""

    def response_schema(self) -> Dict[str, Dict[str, Any]]:
        return {"application/json": {"schema": {}}}


class JsonOutput(OutputAdapter):
    """The default output: JSON of DataFrame (records), Series, ndarray, tensors, lists."""

    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        return InferenceResult(200, json.dumps(to_jsonable(share)).encode("utf-8"))


def _length(result: Any) -> int:
    try:
        return len(result)
    except TypeError:
        raise ResultLengthMismatch(
            f"the API returned a {type(result).__name__}, which has no length; "
            "an API must return one result per input (a list, array, Series or DataFrame)"
        ) from None


def _item(result: Any, i: int) -> Any:
    return result.iloc[i] if hasattr(result, "iloc") else result[i]


def _slice(result: Any, start: int, stop: int) -> Any:
    return result.iloc[start:stop] if hasattr(result, "iloc") else result[start:stop]


def split_results(result: Any, tasks: Sequence[InferenceTask]) -> List[Any]:
    """Split by ``task.count`` (see the module docstring); checks the total length."""
    expected = sum(t.expected_results for t in tasks)
    got = _length(result)
    if got != expected:
        raise ResultLengthMismatch(
            f"the API returned {got} results for {expected} inputs; "
            "it must return exactly one result per input, in order")
    shares, pos = [], 0
    for task in tasks:
        if task.count is None:
            shares.append(_item(result, pos))
        else:
            shares.append(_slice(result, pos, pos + task.count))
        pos += task.expected_results
    return shares


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


_base_getattr = module_getattr("input_adapters", __name__)


def __getattr__(name: str) -> Any:
    from bentoml.plugins import get_registry

    if not name.startswith("_") and name in get_registry().names("output_adapters"):
        return get_registry().get("output_adapters", name)
    return _base_getattr(name)

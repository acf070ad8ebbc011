"""The records one inference passes through: request -> task -> result.

An :class:`HTTPRequest` is what an input adapter parses (from the API server
or from the CLI's ``--input``), an :class:`InferenceTask` carries one
request's input through a batch, and an :class:`InferenceResult` is one
task's answer.  A task that failed carries an :class:`InferenceError`
instead of data; its answer is the JSON error body every error of the
kernel uses (:func:`error_body`).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

import attrs

from bentoml.exceptions import BadInput


@attrs.frozen
class InferenceError:
    """Why one task failed: an HTTP status and a short message for the client."""

    status: int
    message: str


def error_body(message: str) -> bytes:
    """The body of every error answer: ``{"error": message}`` as JSON."""
    return json.dumps({"error": message}).encode()


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
        return cls(error.status, error_body(error.message))

    @classmethod
    def failure(cls, status: int, message: str) -> "InferenceResult":
        """The error answer ``status`` with ``{"error": message}``."""
        return cls(status, error_body(message))

"""The one builder of the API server's answers: ``(status line, headers, body)``.

Every JSON error the server sends is an :class:`~bentoml.inference.InferenceResult`
(``InferenceResult.failure``, whose body is :func:`~bentoml.inference.error_body`)
answered through :func:`build_response`: the lean API path, Flask's error
handlers, the app's last-resort fallback and waitress's own error task.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import List, Tuple

from bentoml.inference import InferenceResult

Headers = List[Tuple[str, str]]

#: Sent on every answer with ``--enable-cors``, errors included (or a browser cannot read them).
CORS_HEADERS: Headers = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Request-Id"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
]

_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def status_line(status: int) -> str:
    """The WSGI status line of ``status``: ``status_line(404) == "404 Not Found"``."""
    return _STATUS_LINES.get(status) or f"{status} Unknown"


def build_response(result: InferenceResult, request_id: str, cors: bool) -> Tuple[str, Headers, bytes]:
    """The status line, headers and body answering ``result``, with ``X-Request-Id``
    (and the CORS headers when ``cors``)."""
    headers = [("Content-Type", result.content_type), ("Content-Length", str(len(result.body))),
               ("X-Request-Id", request_id)]
    headers.extend(result.headers.items())
    if cors:
        headers.extend(CORS_HEADERS)
    return status_line(result.status), headers, result.body

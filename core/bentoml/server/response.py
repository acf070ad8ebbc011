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

#: Sent with ``--enable-cors``, on error answers too (or a browser cannot read them).
CORS_HEADERS: Headers = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, X-Request-Id"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
]


class _StatusLines(dict):
    def __missing__(self, status: int) -> str:
        return f"{status} Unknown"


#: ``status_line(404) == "404 Not Found"``: the WSGI status line of a status, looked
#: up in a table made once (it runs for every request).
status_line = _StatusLines({status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}).__getitem__


def build_response(result: InferenceResult, request_id: str, cors: bool) -> Tuple[str, Headers, bytes]:
    """The status line, headers and body answering ``result``, with ``X-Request-Id``
    (and the CORS headers when ``cors``)."""
    headers = [("Content-Type", result.content_type), ("Content-Length", str(len(result.body))),
               ("X-Request-Id", request_id)]
    headers.extend(result.headers.items())
    if cors:
        headers.extend(CORS_HEADERS)
    return status_line(result.status), headers, result.body

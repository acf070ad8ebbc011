"""Reading one request from the WSGI environ: the first step of an API call.

The body is capped before it is read whole (``Content-Length`` over the limit
is refused at once) and again after gzip/deflate decoding (a small bomb must
not inflate past the limit); headers are lower-cased like
:class:`~bentoml.inference.HTTPRequest` wants them.
"""
from __future__ import annotations

import zlib
from typing import Optional
from urllib.parse import parse_qsl

from bentoml.exceptions import BadInput
from bentoml.inference import HTTPRequest


class RequestTooLarge(BadInput):
    """The body (or its decompressed form) is over ``--max-request-size``."""

    def __init__(self, message: str):
        super().__init__(message, status=413)


def read_request(environ: dict, max_request_size: int) -> HTTPRequest:
    """The request ``environ`` describes, its body at most ``max_request_size`` bytes.

    Raises :class:`~bentoml.exceptions.BadInput` (its ``status`` is the answer:
    400, 413 as :class:`RequestTooLarge`, 415 for an unsupported Content-Encoding).
    """
    length = environ.get("CONTENT_LENGTH")
    try:
        content_length = int(length) if length else None
    except ValueError:
        raise BadInput("invalid Content-Length") from None
    body = _read_body(environ["wsgi.input"], content_length, environ.get("HTTP_CONTENT_ENCODING", ""),
                      max_request_size)
    headers = {key[5:].replace("_", "-").lower(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    content_type = environ.get("CONTENT_TYPE")
    if content_type:  # WSGI keeps it out of the HTTP_ keys
        headers["content-type"] = content_type
    query = environ.get("QUERY_STRING")
    return HTTPRequest(body, headers, dict(parse_qsl(query)) if query else {})


def _read_body(stream, content_length: Optional[int], content_encoding: str, max_size: int) -> bytes:
    if content_length is not None and content_length > max_size:
        raise RequestTooLarge(f"request body of {content_length} bytes is over the limit of {max_size} bytes")
    data = stream.read(max_size + 1)
    if len(data) > max_size:
        raise RequestTooLarge(f"request body is over the limit of {max_size} bytes")
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadInput(f"unsupported Content-Encoding {content_encoding!r} (use gzip or none)", status=415)
    return _decompress(data, encoding, max_size)


def _decompress(data: bytes, encoding: str, max_size: int) -> bytes:
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise BadInput(f"request body is not valid {encoding} data: {exc}") from None
    if len(out) > max_size or decoder.unconsumed_tail:
        raise RequestTooLarge(f"decompressed request body is over the limit of {max_size} bytes")
    if not decoder.eof:
        raise BadInput(f"request body is truncated {encoding} data")
    return out

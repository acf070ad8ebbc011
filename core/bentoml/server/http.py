"""Reading a request body safely: size cap before reading it whole, gzip with a cap."""
from __future__ import annotations

import zlib

from bentoml.exceptions import BadInput


class RequestTooLarge(BadInput):
    """The body (or its decompressed form) is over ``--max-request-size``."""

    def __init__(self, message: str):
        super().__init__(message, status=413)


def read_body(stream, content_length, content_encoding: str, max_size: int) -> bytes:
    """The request body, decompressed when gzip-encoded; never more than ``max_size`` bytes."""
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

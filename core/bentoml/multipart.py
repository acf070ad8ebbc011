"""``multipart/form-data`` bodies: parse a request's parts, or encode parts into a body.

The API server hands adapters the raw body (it skips Flask's request parsing),
so adapters that accept uploads parse it here.  The parsing is werkzeug's
sans-io decoder; this module only turns its events into :class:`Part` objects
and its failures into :class:`~bentoml.exceptions.BadInput` messages.  The
server has already capped the body at ``--max-request-size``, so parsing it in
memory is bounded; ``MAX_PARTS`` bounds the work per request as well.

Example (an adapter accepting one upload in any field, or a raw body)::

    from bentoml.multipart import is_multipart, parse_multipart

    def _parse_http(self, request):
        if is_multipart(request):
            request = parse_multipart(request).single_upload("image").as_request()
        ...  # request.body, request.filename, request.content_type
"""
from __future__ import annotations

import mimetypes
import os
from typing import Dict, Iterable, List, Optional, Tuple

import attrs

from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.inference import HTTPRequest


MULTIPART_FORM_DATA = "multipart/form-data"
#: More parts than this in one request is a 400: no adapter needs that many, and
#: each part costs header parsing.
MAX_PARTS = 1000


@attrs.frozen
class Part:
    """One part of a form: its field ``name``, ``data``, and ``filename``/``content_type`` when sent.

    A part with a filename is an uploaded file (``curl -F image=@cat.jpg``);
    one without is a plain form field (``curl -F note=hello``).
    """

    name: str
    data: bytes
    filename: Optional[str] = None
    content_type: str = ""

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    def as_request(self) -> HTTPRequest:
        """This part as a request of its own, so adapters parse an upload like a raw body."""
        headers = {"content-type": self.content_type} if self.content_type else {}
        return HTTPRequest(self.data, headers, filename=self.filename)

    def describe(self) -> str:
        return f"{self.name!r} ({self.filename!r})" if self.filename else repr(self.name)


@attrs.frozen
class MultipartForm:
    """The parts of one ``multipart/form-data`` body, in the order they were sent."""

    parts: Tuple[Part, ...] = ()

    @property
    def files(self) -> List[Part]:
        """The parts that carry a filename (uploads)."""
        return [p for p in self.parts if p.is_file]

    @property
    def fields(self) -> Dict[str, str]:
        """Plain form fields (no filename), decoded as UTF-8; the last of a repeated name wins."""
        return {p.name: p.data.decode("utf-8", "replace") for p in self.parts if not p.is_file}

    def names(self) -> List[str]:
        return [p.name for p in self.parts]

    def get(self, name: str) -> Optional[Part]:
        """The part named ``name``; None when absent; BadInput when sent more than once."""
        found = [p for p in self.parts if p.name == name]
        if len(found) > 1:
            raise BadInput(f"multipart field {name!r} was sent {len(found)} times; send it once")
        return found[0] if found else None

    def single_upload(self, what: str = "file") -> Part:
        """The one upload of the form, whatever its field name.

        Files (parts with a filename) are preferred, so a form may carry extra
        plain fields; a form without files must consist of exactly one field.
        ``what`` names the expected thing in error messages ("image", "file").
        """
        candidates = self.files or list(self.parts)
        if not candidates:
            raise BadInput(f"the multipart body has no parts; upload one {what}")
        if len(candidates) > 1:
            sent = ", ".join(p.describe() for p in candidates)
            raise BadInput(f"expected one {what} per request, got {len(candidates)} parts: {sent}")
        return candidates[0]


def is_multipart(request: HTTPRequest) -> bool:
    """Whether the request says its body is ``multipart/form-data``."""
    return request.content_type == MULTIPART_FORM_DATA


def _boundary(content_type: str) -> bytes:
    from werkzeug.http import parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if not boundary:
        raise BadInput("the multipart/form-data Content-Type has no boundary parameter")
    if len(boundary) > 70:  # RFC 2046 section 5.1.1
        raise BadInput("the multipart boundary is longer than 70 characters")
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise BadInput("the multipart boundary must be ASCII") from None


def parse_multipart(request: HTTPRequest, max_parts: int = MAX_PARTS) -> MultipartForm:
    """Split a ``multipart/form-data`` request body into its parts.

    Raises :class:`BadInput` naming the problem for a missing boundary, a
    truncated or malformed body, a part without a name, or too many parts.
    """
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder

    if not is_multipart(request):
        raise BadInput(f"expected a multipart/form-data body, got Content-Type {request.content_type!r}")
    decoder = MultipartDecoder(_boundary(request.headers.get("content-type", "")), max_parts=max_parts)
    decoder.receive_data(request.body)
    decoder.receive_data(None)  # the whole body is here: the decoder may finish
    parts: List[Part] = []
    current: Optional[Tuple[str, Optional[str], str]] = None
    chunks: List[bytes] = []
    try:
        while True:
            event = decoder.next_event()
            if isinstance(event, (Field, File)):
                if not event.name:
                    raise BadInput(f"multipart part #{len(parts) + 1} has no name in its Content-Disposition")
                current = (event.name, getattr(event, "filename", None), event.headers.get("content-type", ""))
                chunks = []
            elif isinstance(event, Data):
                chunks.append(event.data)
                if not event.more_data and current is not None:
                    name, filename, ctype = current
                    parts.append(Part(name, b"".join(chunks), filename, ctype))
                    current = None
            elif isinstance(event, Epilogue):
                return MultipartForm(tuple(parts))
    except BadInput:
        raise
    except RequestEntityTooLarge:
        raise BadInput(f"the multipart body has more than {max_parts} parts") from None
    except UnicodeDecodeError:
        raise BadInput(f"malformed multipart body: the headers of part #{len(parts) + 1} are not UTF-8") from None
    except ValueError as exc:
        raise BadInput(f"malformed multipart body: {_explain(exc, decoder.state.name, parts, current)}") from None


def _explain(exc: Exception, state: str, parts: List[Part], current: Optional[tuple]) -> str:
    """werkzeug's message, or what its "cannot parse beyond STATE" means for a client."""
    if not str(exc).startswith("Invalid form-data cannot parse beyond"):
        return str(exc)
    if state == "PREAMBLE":
        return "no boundary line was found (does the boundary in Content-Type match the body?)"
    if state in ("DATA", "DATA_START") and current is not None:
        return f"part {current[0]!r} is not closed by a boundary line (truncated body?)"
    return f"it ends after {len(parts)} part(s) without the closing boundary (truncated body?)"


def encode_multipart(parts: Iterable[Part], boundary: Optional[str] = None) -> Tuple[str, bytes]:
    """Encode ``parts`` as a ``multipart/form-data`` body: ``(content_type, body)``.

    Used by ``bentoml run --input-file`` and by tests.  urllib3 does the
    encoding, with the HTML standard's escaping of names and filenames, and a
    random boundary unless one is given.
    """
    from urllib3.fields import RequestField
    from urllib3.filepost import encode_multipart_formdata

    fields = []
    for part in parts:
        if not isinstance(part, Part):
            raise InvalidArgument(f"encode_multipart takes Part objects, got {type(part).__name__}")
        field = RequestField(part.name, part.data, filename=part.filename)
        field.make_multipart(content_type=part.content_type or None)
        fields.append(field)
    body, content_type = encode_multipart_formdata(fields, boundary=boundary)
    return content_type, body


def file_part(name: str, path: str, data: bytes, content_type: Optional[str] = None) -> Part:
    """A file part for ``path``: the filename is its base name, the type guessed from it."""
    guessed = content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Part(name, data, os.path.basename(path), guessed)


__all__ = ["MAX_PARTS", "MULTIPART_FORM_DATA", "MultipartForm", "Part", "encode_multipart", "file_part",
           "is_multipart", "parse_multipart"]

"""FileInput: each request uploads one file; the API gets a list of file-like objects.

``from bentoml.adapters import FileInput`` resolves to the class below once
this distribution is installed.  It needs nothing beyond the standard library.
"""
from __future__ import annotations

import io
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter
from bentoml.hookspecs import hookimpl
from bentoml.multipart import is_multipart, parse_multipart

__all__ = ["FileInput"]

_BINARY = {"type": "string", "format": "binary"}
_EXAMPLE = b"any bytes: the content of the uploaded file\n"


def _file(data: bytes, filename: Optional[str]) -> io.BytesIO:
    stream = io.BytesIO(data)
    if filename:
        stream.name = os.path.basename(filename)  # what open() files have; models often sniff its extension
    return stream


class FileInput(InputAdapter):
    """One file per request: the API function receives a list of ``io.BytesIO`` objects.

    A request carries the file as its raw body (any content type) or as the one
    file of a ``multipart/form-data`` upload, in any field.  Each stream has a
    ``name`` (the base name) when the client sent a filename::

        @bentoml.api(input=FileInput())
        def predict(self, files):
            return [len(f.read()) for f in files]

    ::

        curl -F file=@report.pdf http://127.0.0.1:5000/predict
        curl --data-binary @report.pdf -H "Content-Type: application/pdf" http://127.0.0.1:5000/predict
        bentoml run Svc:latest predict --input-file report.pdf

    Each request is answered with the result at its position.  The streams are
    made fresh for every call of the API, so a retried batch reads from the start.
    """

    #: A request is a file, not a table row: batch jobs (`bentoml run --output`) refuse this adapter.
    takes_rows = False

    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        if is_multipart(request):
            upload = parse_multipart(request).single_upload("file")
            return InferenceTask(data=(upload.data, upload.filename))
        return InferenceTask(data=(request.body, request.filename))

    def _batch(self, tasks: Sequence[InferenceTask]) -> List[io.BytesIO]:
        data: List[Tuple[bytes, Optional[str]]] = [t.data for t in tasks]
        return [_file(body, filename) for body, filename in data]

    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        return {
            "application/octet-stream": {"schema": dict(_BINARY, description="the file's bytes"),
                                         "example": _EXAMPLE},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"],
                           "properties": {"file": dict(_BINARY, description="the file; any field name works")}},
                "example": {"file": _EXAMPLE},
            },
        }


@hookimpl
def register_input_adapters(register):
    register(FileInput, legacy_paths=("bentoml.adapters.file_input",))  # where BentoML 0.9-0.13 kept it

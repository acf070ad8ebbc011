"""StringInput: each request body is one text; the API gets a list of str.

``from bentoml.adapters import StringInput`` resolves to the class below once
this distribution is installed.  It needs nothing beyond the standard library.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter
from bentoml.hookspecs import hookimpl
from bentoml.multipart import is_multipart, parse_multipart

__all__ = ["StringInput"]

_EXAMPLE = "The weather is lovely today"


class StringInput(InputAdapter):
    """Text: the API function receives a list with one ``str`` per request.

    The body is decoded with the ``charset`` of its ``Content-Type`` (UTF-8 when
    none is given), whatever the media type; a ``multipart/form-data`` body
    carries the text as its one file or field, decoded by that part's charset::

        @bentoml.api(input=StringInput())
        def predict(self, texts):
            return [self.artifacts.model.predict(t) for t in texts]

    ::

        curl -H "Content-Type: text/plain; charset=utf-8" -d "best movie ever" http://127.0.0.1:5000/predict
        bentoml run Svc:latest predict --input "best movie ever"

    Bytes that are not valid in the charset, and an unknown charset, are a 400.
    Each request is answered with the result at its position.
    """

    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        if is_multipart(request):
            request = parse_multipart(request).single_upload("text").as_request()
        return InferenceTask(data=request.text())

    def _batch(self, tasks: Sequence[InferenceTask]) -> List[str]:
        return [t.data for t in tasks]

    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        return {
            "text/plain": {"schema": {"type": "string"}, "example": _EXAMPLE},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["text"], "properties": {"text": {
                    "type": "string", "description": "the text, as a field or a file; any field name works"}}},
                "example": {"text": _EXAMPLE},
            },
        }


@hookimpl
def register_input_adapters(register):
    register(StringInput, legacy_paths=("bentoml.adapters.string_input",))  # where BentoML 0.9-0.13 kept it

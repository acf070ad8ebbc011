"""JsonInput: each request is one JSON document; the API gets a list of them.

``from bentoml.adapters import JsonInput`` resolves to the class below once
this distribution is installed.  It needs nothing beyond the standard library.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter
from bentoml.exceptions import BadInput
from bentoml.hookspecs import hookimpl

__all__ = ["JsonInput", "LegacyJsonInput"]


class JsonInput(InputAdapter):
    """Arbitrary JSON: the API function receives a list with one parsed document per request.

    Each request is answered with the one result at its position, so the API
    returns a list as long as the list it received::

        @bentoml.api(input=JsonInput())
        def predict(self, parsed_json_list):
            return [self.artifacts.model.predict(doc["text"]) for doc in parsed_json_list]

    The body is read as JSON whatever its content type, because clients often
    send JSON without one (``curl -d``).
    """

    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        try:
            return InferenceTask(data=json.loads(request.text()))
        except json.JSONDecodeError as exc:
            raise BadInput(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None

    def _batch(self, tasks: Sequence[InferenceTask]) -> List[Any]:
        return [t.data for t in tasks]

    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        return {"application/json": {"schema": {"description": "any JSON document"},
                                     "example": {"text": "The weather is lovely today"}}}


class LegacyJsonInput(JsonInput):
    """BentoML 0.8-0.13's ``LegacyJsonInput``: the API function receives one parsed document
    and returns its one result, as JSON APIs did before 0.8 (``JsonInput`` with
    ``@api(..., batch=False)``; requests are still micro-batched, and the kernel calls the
    function once per document)::

        @bentoml.api(input=LegacyJsonInput())
        def predict(self, parsed_json):
            return self.artifacts.model.predict([parsed_json["features"]])[0]
    """

    batch_default = False


@hookimpl
def register_input_adapters(register):
    # Where BentoML 0.7-0.13 kept it: `from bentoml.handlers import JsonHandler` keeps working.
    register(JsonInput, legacy_paths=("bentoml.adapters.json_input", "bentoml.handlers:JsonHandler",
                                      "bentoml.handlers.json_handler:JsonHandler"))
    register(LegacyJsonInput, legacy_paths=("bentoml.adapters.legacy_json_input",))

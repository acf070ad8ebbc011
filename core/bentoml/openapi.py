"""The OpenAPI 3 document of a service: one ``POST /<api>`` per API plus the server's routes.

Adapters describe their requests with :meth:`InputAdapter.request_schema`.  For
uploads that is ``{"type": "string", "format": "binary"}`` (a raw body such as
``image/*``) or an object of such properties (``multipart/form-data``); Swagger
UI shows a file picker for both.  An adapter may give a binary example as
``bytes`` (so its contract test can send it); JSON cannot carry bytes, so they
are left out of the document here.
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Dict

from bentoml.server.routes import FEEDBACK, HEALTHZ, LIVEZ, METRICS, READYZ, Route

if TYPE_CHECKING:
    from bentoml.service import BentoService

_OMIT = object()


def _json_example(example: Any) -> Any:
    """``example`` without its bytes (a body, or multipart field values); ``_OMIT`` when nothing is left."""
    if isinstance(example, (bytes, bytearray)):
        return _OMIT
    if isinstance(example, dict):
        kept = {k: _json_example(v) for k, v in example.items()}
        kept = {k: v for k, v in kept.items() if v is not _OMIT}
        return kept if kept or not example else _OMIT
    return example


def request_content(adapter: Any) -> Dict[str, Any]:
    """The ``requestBody.content`` of an adapter, made JSON-safe (see the module docstring)."""
    content = {}
    for media_type, entry in adapter.request_schema().items():
        entry = dict(entry)
        if "example" in entry:
            example = _json_example(entry.pop("example"))
            if example is not _OMIT:
                entry["example"] = example
        content[media_type] = entry
    return content


_ERROR = {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}


def _server_route(route: Route, **operation: Any) -> Dict[str, Any]:
    """The path item of one of the server's own routes (``bentoml.server.routes``)."""
    return {route.path: {route.methods[0].lower(): {"summary": route.summary, "tags": ["infra"], **operation}}}


def openapi_spec(service: "BentoService") -> Dict[str, Any]:
    paths: Dict[str, Any] = {
        **_server_route(HEALTHZ, responses={"200": {"description": "The server is up"}}),
        **_server_route(LIVEZ, responses={"200": {"description": "The process is up"}}),
        **_server_route(READYZ, responses={
            "200": {"description": "Ready: the models are loaded"},
            "503": {"description": "Not ready: starting, or draining before a stop", "content": _ERROR}}),
        **_server_route(METRICS, responses={"200": {"description": "Metrics in Prometheus text format"}}),
        **_server_route(
            FEEDBACK,
            requestBody={"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["request_id"],
                           "properties": {"request_id": {"type": "string"}}},
                "example": {"request_id": "4a2e...", "value": "correct"}}}},
            responses={"200": {"description": "Recorded"}, "400": {"description": "Bad feedback", "content": _ERROR}}),
    }
    for api in service.inference_apis:
        paths[api.path] = {"post": {
            "summary": api.doc, "tags": ["app"],
            "operationId": f"{service.name}__{api.name}",
            "x-bentoml-input-type": api.input_adapter.input_type,
            "requestBody": {"required": True, "content": request_content(api.input_adapter)},
            "responses": {
                "200": {"description": "One result per input", "content": api.output_adapter.response_schema()},
                "400": {"description": "Bad input", "content": _ERROR},
                "413": {"description": "Request too large", "content": _ERROR},
                "415": {"description": "Unsupported content type", "content": _ERROR},
                "500": {"description": "The API raised an exception", "content": _ERROR},
                "503": {"description": "Could not be served within the latency budget", "content": _ERROR},
            },
        }}
    return {
        "openapi": "3.0.3",
        "info": {"title": service.name, "version": service.version or "unsaved",
                 "description": inspect.cleandoc(type(service).__doc__ or "") or f"BentoService {service.name}"},
        "tags": [{"name": "app", "description": "Inference APIs"}, {"name": "infra", "description": "Server"}],
        "paths": paths,
    }

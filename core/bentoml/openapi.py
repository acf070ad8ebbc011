"""The OpenAPI 3 document of a service: one ``POST /<api>`` per API plus the server's routes."""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Dict

if TYPE_CHECKING:
    from bentoml.service import BentoService

_ERROR = {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}


def openapi_spec(service: "BentoService") -> Dict[str, Any]:
    paths: Dict[str, Any] = {
        "/healthz": {"get": {"summary": "Health check", "tags": ["infra"],
                             "responses": {"200": {"description": "The server is up"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "tags": ["infra"],
                             "responses": {"200": {"description": "Metrics in Prometheus text format"}}}},
        "/feedback": {"post": {
            "summary": "Report feedback on a prediction", "tags": ["infra"],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["request_id"],
                           "properties": {"request_id": {"type": "string"}}},
                "example": {"request_id": "4a2e...", "value": "correct"}}}},
            "responses": {"200": {"description": "Recorded"}, "400": {"description": "Bad feedback", "content": _ERROR}}}},
    }
    for api in service.inference_apis:
        paths[f"/{api.name}"] = {"post": {
            "summary": api.doc, "tags": ["app"],
            "operationId": f"{service.name}__{api.name}",
            "x-bentoml-input-type": api.input_adapter.input_type,
            "requestBody": {"required": True, "content": api.input_adapter.request_schema()},
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

"""The OpenAPI 3 document of the YataiService HTTP API, served at ``/docs.json``."""
from __future__ import annotations

from typing import Any, Dict

from bentoml._version import __version__
from bentoml.yatai.protocol import API_PREFIX, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, SHA256_HEADER

_ERROR = {"description": "One line: {\"error\": \"...\"}",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_RECORD = {"description": "The bundle",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Bundle"}}}}
_TAG_PARAMS = [
    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
    {"name": "version", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "A version, or `latest`"},
]


def _op(summary: str, responses: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    return {"summary": summary, "responses": {**responses, "400": _ERROR, "500": _ERROR}, **extra}


def yatai_openapi() -> Dict[str, Any]:
    """The document: every route of :mod:`bentoml.yatai.api` with its answers."""
    bundle = f"{API_PREFIX}/bundles/{{name}}/{{version}}"
    session = f"{API_PREFIX}/uploads/{{session}}"
    session_param = [{"name": "session", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "BentoML YataiService", "version": __version__,
                 "description": "The team repository of saved bundles (HTTP/JSON; 0.x gRPC clients are "
                                "not supported)."},
        "paths": {
            "/healthz": {"get": _op("Health check", {"200": {"description": "ok"}})},
            "/readyz": {"get": _op("Readiness probe", {"200": {"description": "ok"}, "503": _ERROR})},
            "/metrics": {"get": _op("Prometheus metrics", {"200": {"description": "text exposition"}})},
            "/docs.json": {"get": _op("This document", {"200": {"description": "OpenAPI 3"}})},
            f"{API_PREFIX}/bundles": {"get": _op(
                "List bundles, newest first, one page at a time",
                {"200": {"description": "A page; `next_offset` is null on the last",
                         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}},
                parameters=[
                    {"name": "name", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT,
                                "default": DEFAULT_LIST_LIMIT}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                    {"name": "order_by", "in": "query", "schema": {"enum": ["created_at", "name"]}},
                    {"name": "ascending", "in": "query", "schema": {"type": "boolean", "default": False}},
                ])},
            bundle: {
                "get": _op("One bundle", {"200": _RECORD, "404": _ERROR}, parameters=_TAG_PARAMS),
                "delete": _op("Delete one version", {"200": _RECORD, "404": _ERROR}, parameters=_TAG_PARAMS),
            },
            f"{bundle}/checksum": {"get": _op(
                "The bundle's checksum (sha256 over its files' paths and sha256 sums)",
                {"200": {"description": "name, version, seq, checksum"}, "404": _ERROR}, parameters=_TAG_PARAMS)},
            f"{bundle}/archive": {"get": _op(
                "The bundle's files as a tar stream", {"200": {"description": "application/x-tar"}, "404": _ERROR},
                parameters=_TAG_PARAMS)},
            f"{API_PREFIX}/uploads": {"post": _op(
                "Open an upload session for NAME:VERSION",
                {"201": {"description": "session id and idle timeout (s)"}, "409": _ERROR},
                requestBody={"content": {"application/json": {"schema": {
                    "type": "object", "required": ["name", "version"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"}}}}}})},
            f"{session}/files/{{path}}": {"put": _op(
                f"One file of the bundle; {SHA256_HEADER} carries its sha256, X-File-Executable: 1 its mode",
                {"201": {"description": "stored"}, "404": _ERROR},
                parameters=session_param + [{"name": "path", "in": "path", "required": True,
                                             "schema": {"type": "string"}}],
                requestBody={"content": {"application/octet-stream": {}}})},
            f"{session}/commit": {"post": _op(
                "Verify every file against the manifest and register the bundle",
                {"201": _RECORD, "404": _ERROR, "409": _ERROR}, parameters=session_param,
                requestBody={"content": {"application/json": {"schema": {
                    "type": "object", "required": ["files"],
                    "properties": {"files": {"type": "object", "additionalProperties": {"type": "string"}}}}}}})},
            session: {"delete": _op("Abort an upload session", {"200": {"description": "aborted"}, "404": _ERROR},
                                    parameters=session_param)},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
            "Bundle": {"type": "object", "properties": {
                "seq": {"type": "integer"}, "name": {"type": "string"}, "version": {"type": "string"},
                "uri": {"type": "object", "properties": {"type": {"type": "string"}, "uri": {"type": "string"}}},
                "created_at": {"type": "string", "format": "date-time"}, "config": {"type": "object"}}},
            "Page": {"type": "object", "properties": {
                "bundles": {"type": "array", "items": {"$ref": "#/components/schemas/Bundle"}},
                "limit": {"type": "integer"}, "offset": {"type": "integer"},
                "next_offset": {"type": "integer", "nullable": True}}},
        }},
    }

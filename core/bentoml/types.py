"""The type names BentoML 0.10-0.13 services import for their annotations.

``from bentoml.types import JsonSerializable, FileLike`` keeps working: each
name is the type an API function here actually receives or returns.  0.x's
adapter internals (``HTTPResponse``, ``AwsLambdaEvent``, ...) belonged to its
custom-adapter interface, which this kernel replaced (see
:mod:`bentoml.adapters`); importing one says so.
"""
from __future__ import annotations

import io
from typing import Any, Dict, List, Union

from bentoml.inference import HTTPRequest, InferenceError, InferenceResult, InferenceTask

__all__ = ["FileLike", "HTTPRequest", "InferenceError", "InferenceResult", "InferenceTask", "JsonSerializable"]

#: What ``JsonInput`` passes per request and ``JsonOutput`` answers.
JsonSerializable = Union[bool, None, Dict[str, Any], List[Any], int, float, str]

#: What ``FileInput`` passes per request: a
#: binary stream with ``read()`` and the uploaded file's ``name``.
FileLike = io.BytesIO

_REPLACED = ("HTTPResponse", "HTTPHeaders", "AwsLambdaEvent", "ApiFuncArgs", "ApiFuncReturnValue",
             "BatchApiFuncArgs", "UserArgs", "Output", "InferenceCollection", "DefaultErrorContext")


def __getattr__(name: str) -> Any:
    if name in _REPLACED:
        raise ImportError(f"bentoml.types.{name} belonged to BentoML 0.x's custom adapter interface, which "
                          "this version replaced: write an adapter on bentoml.adapters.InputAdapter/OutputAdapter "
                          "(docs/migrating.md)")
    raise AttributeError(f"module 'bentoml.types' has no attribute {name!r}")

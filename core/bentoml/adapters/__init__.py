"""The adapter contract: request -> task -> batch -> API -> per-task results.

Data flows one way:

1. An :class:`InputAdapter` parses one HTTP request (or one CLI ``--input`` or
   ``--input-file``) into one :class:`InferenceTask`.  Bad input becomes a task
   carrying an :class:`InferenceError` (HTTP 400), never an exception that could
   reach the other requests of a batch.
2. The adapter's ``batch(tasks)`` turns the good tasks of a batch into the one
   argument the API function receives (DataframeInput: one DataFrame of all
   rows; JsonInput: a list of one parsed object per request).
3. The API returns one result per input.  ``split(result, tasks)`` cuts it back
   per task by each task's ``count``: ``None`` means the task is answered with
   the single item at its position; ``n`` means it owns the next ``n`` items
   and is answered with that slice.  A length that differs from the sum is a
   :class:`ResultLengthMismatch`.
4. An :class:`OutputAdapter` serializes each task's share into a response body.

A direct Python call (``svc.predict([[5.1, 3.5, 1.4, 0.2]])``) bypasses all of
this: the value reaches the API function unchanged.

The pieces live in submodules (``input_adapter``, ``output_adapter``,
``json_output``, ``split``, ``cli_input``; the records in
:mod:`bentoml.inference`); this package gathers them under one name.  Concrete
adapters come from plugins and are importable from here by name:
``from bentoml.adapters import DataframeInput``.
"""
from __future__ import annotations

from typing import Any

from bentoml.adapters.cli_input import cli_files_request, cli_request
from bentoml.adapters.input_adapter import InputAdapter
from bentoml.adapters.json_output import JsonOutput, to_jsonable
from bentoml.adapters.output_adapter import OutputAdapter
from bentoml.adapters.split import ResultLengthMismatch, split_results
from bentoml.inference import HTTPRequest, InferenceError, InferenceResult, InferenceTask
from bentoml.plugins import get_registry, module_getattr

__all__ = ["HTTPRequest", "InferenceError", "InferenceResult", "InferenceTask", "InputAdapter", "JsonOutput",
           "OutputAdapter", "ResultLengthMismatch", "cli_files_request", "cli_request", "split_results",
           "to_jsonable"]

_input_adapter = module_getattr("input_adapters", __name__)


def __getattr__(name: str) -> Any:
    """``DataframeInput`` and every other registered input or output adapter, by name."""
    if not name.startswith("_") and name in get_registry().names("output_adapters"):
        return get_registry().get("output_adapters", name)
    return _input_adapter(name)

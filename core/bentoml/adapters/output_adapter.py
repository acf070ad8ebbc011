"""The base class of output adapters: one task's share of the result -> one response."""
from __future__ import annotations

import abc
from typing import Any, ClassVar, Dict, Tuple

from bentoml.inference import InferenceResult, InferenceTask


class OutputAdapter(abc.ABC):
    """Base class of output adapters (``JsonOutput``, ...).

    Subclasses implement ``to_result`` and, when they answer other than JSON,
    ``response_schema``; constructor options go in ``config``.
    """

    requirement_imports: ClassVar[Tuple[str, ...]] = ()

    @property
    def output_type(self) -> str:
        return type(self).__name__

    @property
    def config(self) -> Dict[str, Any]:
        return {}

    @abc.abstractmethod
    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        """Serialize ``share`` (what ``split`` gave this task)."""

    def response_schema(self) -> Dict[str, Dict[str, Any]]:
        return {"application/json": {"schema": {}}}

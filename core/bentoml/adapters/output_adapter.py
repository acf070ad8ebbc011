"""The base class of output adapters: one task's share of the result -> one response."""
from __future__ import annotations

import abc
import json
from typing import Any, ClassVar, Dict, Tuple

from bentoml.exceptions import BentoMLException
from bentoml.inference import InferenceResult, InferenceTask


class NotJsonAnswer(BentoMLException):
    """An output adapter's answer is not JSON, so a batch job cannot make columns of it."""


class OutputAdapter(abc.ABC):
    """Base class of output adapters (``JsonOutput``, ...).

    Subclasses implement ``to_result`` and, when they answer other than JSON,
    ``response_schema``; constructor options go in ``config``.  ``to_values``
    (what a batch job writes) follows from ``to_result``; an adapter may give
    a faster way to the same values.
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

    def to_values(self, share: Any, task: InferenceTask) -> Any:
        """``share`` as the JSON values ``to_result``'s body holds, for an offline batch job.

        The default decodes ``to_result``'s body, so the values are exactly
        what a client of the API server reads.  An override may return a
        1-D or 2-D numpy array of numbers (bool, int64 or float64, every
        float finite) in place of the list of numbers, or of lists, that the
        JSON would hold.  An answer that is not JSON raises
        :class:`NotJsonAnswer`.
        """
        result = self.to_result(share, task)
        if "json" not in result.content_type:
            raise NotJsonAnswer(f"{self.output_type} answers {result.content_type}; "
                                "a batch job writes JSON results as columns")
        return json.loads(result.body)

    def response_schema(self) -> Dict[str, Dict[str, Any]]:
        return {"application/json": {"schema": {}}}

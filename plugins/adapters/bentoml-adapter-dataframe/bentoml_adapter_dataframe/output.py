"""DataframeOutput (BentoML 0.10-0.13): a returned DataFrame or Series as JSON in a pandas orient.

The kernel's ``JsonOutput`` already answers a DataFrame as records; this
adapter adds 0.10's ``output_orient`` for clients that expect another
layout.  Anything that is not a DataFrame or Series is answered as
``JsonOutput`` answers it.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from bentoml.adapters import InferenceResult, InferenceTask, JsonOutput, to_jsonable
from bentoml.exceptions import InvalidArgument

#: pandas ``to_json`` orients, as 0.10-0.13 accepted them.
OUTPUT_ORIENTS = ("records", "columns", "index", "split", "values", "table")
# the to_dict orient giving the same layout as to_json's (values and table have none)
_TO_DICT = {"records": "records", "columns": "dict", "index": "index", "split": "split"}


class DataframeOutput(JsonOutput):
    """A DataFrame (or Series) result as JSON in ``output_orient`` (default ``records``).

    :param output_orient: one of :data:`OUTPUT_ORIENTS`, pandas' names.  Values
        follow ``JsonOutput``'s rules (times as epoch milliseconds, NaN as null);
        ``table`` is pandas' own Table Schema document.
    """

    def __init__(self, output_orient: str = "records", ensure_ascii: bool = True,
                 cors: Optional[str] = "*") -> None:
        if output_orient not in OUTPUT_ORIENTS:
            raise InvalidArgument(f"DataframeOutput(output_orient=...) must be one of {OUTPUT_ORIENTS}, "
                                  f"got {output_orient!r}")
        super().__init__(ensure_ascii=ensure_ascii, cors=cors)
        self.output_orient = output_orient

    @property
    def config(self) -> Dict[str, Any]:
        return {**super().config, "output_orient": self.output_orient}

    def to_result(self, share: Any, task: InferenceTask) -> InferenceResult:
        if hasattr(share, "iloc") and hasattr(share, "to_frame"):  # a Series: one column, as 0.10 did
            share = share.to_frame(name=0 if share.name is None else share.name)
        if not hasattr(share, "columns"):
            return super().to_result(share, task)
        if self.output_orient == "table":
            body = json.loads(share.to_json(orient="table"))
        elif self.output_orient == "values":
            body = to_jsonable(share.to_numpy().tolist())
        else:
            body = to_jsonable(share.to_dict(orient=_TO_DICT[self.output_orient]))
        return InferenceResult(200, json.dumps(body, allow_nan=False, ensure_ascii=self.ensure_ascii).encode())

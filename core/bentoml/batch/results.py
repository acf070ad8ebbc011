"""Per-row results of an API (as its output adapter answers them) -> columns of a table.

The rule, applied to the JSON values the output adapter gives for the rows of
one chunk:

- every value a scalar (number, string, boolean, null): one column, ``result``;
- every value an object (a dict): one column per key, in the order keys are
  first seen (a key a row lacks is empty there);
- every value a list: one column per position, named ``0``, ``1``, ...
  (a shorter list leaves the last columns empty).

Nested values inside a dict or list stay as they are (a writer of CSV writes
them as JSON text).  A chunk mixing these kinds is refused.  A numeric array
(see ``OutputAdapter.to_values``) stands for the list of numbers, or of lists
of numbers, that its JSON holds: 1-D is the ``result`` column, 2-D columns
``0..n-1``.
"""
from __future__ import annotations

from typing import Any

from bentoml.exceptions import BentoMLException

_NUMBERS = {bool, int, float}

#: The column of scalar results.
RESULT_COLUMN = "result"


class MixedResults(BentoMLException):
    """The results of one chunk are of different kinds (scalars and objects, ...)."""


def _kind(cls: type) -> str:
    if issubclass(cls, dict):
        return "object"
    if issubclass(cls, list):
        return "list"
    return "scalar"


def results_frame(values: Any, index: Any = None) -> Any:
    """A pandas DataFrame of one row per value (a list, or a numeric array), by the rule in this module's docstring."""
    import numpy as np
    import pandas as pd

    if isinstance(values, np.ndarray):
        if values.ndim == 1:
            return pd.DataFrame({RESULT_COLUMN: values}, index=index)
        return pd.DataFrame(values, index=index, columns=[str(i) for i in range(values.shape[1])])
    types = set(map(type, values))
    kinds = {_kind(cls) for cls in types}  # one check per type, not per row
    if len(kinds) > 1:
        raise MixedResults(f"the API's results mix {' and '.join(sorted(kinds))}s; "
                           "a batch job writes results of one kind (see bentoml.batch.results)")
    kind = kinds.pop() if kinds else "scalar"
    if kind == "scalar":
        # Plain numbers convert in one C loop; pandas' own inference of a list is far slower.
        column = np.asarray(values) if types and types <= _NUMBERS and types != {bool, int} else values
        return pd.DataFrame({RESULT_COLUMN: column}, index=index)
    if kind == "object":
        return pd.DataFrame.from_records(values, index=index)
    frame = pd.DataFrame(values, index=index)
    frame.columns = [str(c) for c in frame.columns]
    return frame

"""The rows of a table chunk as JSON documents, as a client would send them one per request.

Offline batch jobs (``bentoml run --output``, :mod:`bentoml.batch`) read tables;
an input adapter without a faster path of its own parses each row as the JSON
request a client would send for it (see :meth:`InputAdapter.from_frame`).
"""
from __future__ import annotations

from typing import Any, List


def _plain(value: Any) -> Any:
    """A cell as a JSON value: numpy scalars as Python ones, NaN/NaT/None as None."""
    if isinstance(value, (list, dict, str, bool, int)) or value is None:
        return value
    if hasattr(value, "tolist"):  # numpy scalars and arrays (a Parquet list cell)
        value = value.tolist()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):  # timestamps, dates
        return None if value != value else value.isoformat()
    return value


def row_documents(frame: Any) -> List[Any]:
    """One JSON document per row of ``frame`` (a pandas DataFrame).

    The rule: a frame whose columns are the integers ``0..n-1`` (rows read
    from JSON lines that are arrays) gives each row as a list of its values;
    any other gives each row as an object of column name -> value.  Missing
    values (NaN, NaT, None) become ``null``; a JSON line's nested objects and
    arrays are kept as they are.
    """
    names = list(frame.columns)
    rows = frame.itertuples(index=False, name=None)
    if names == list(range(len(names))):
        return [[_plain(v) for v in row] for row in rows]
    keys = [str(name) for name in names]
    return [{k: _plain(v) for k, v in zip(keys, row)} for row in rows]

"""Input schemas: the columns (names and types) a model takes, recorded from an example.

``svc.pack("model", clf, input_example=df)`` records the columns of ``df`` (a
pandas DataFrame, a 2-D numpy array or a list of rows) as the artifact's
:class:`InputSchema`, kept in ``bentoml.yml`` with the artifact.  An input
adapter that understands schemas (``DataframeInput``) then checks each request
against it before the API function runs (400 naming the column, the width or
the type) and documents it in OpenAPI, with the example's first row as the
request example.  Column types are MLflow's names (its signatures inferred
from an input example are the model for this): ``boolean``, ``integer``
(int32), ``long`` (int64), ``float`` (float32), ``double`` (float64),
``string``, ``binary`` and ``datetime``.

The kernel imports no numpy or pandas: examples are read by duck typing.
"""
from __future__ import annotations

import datetime
import math
import numbers
from typing import Any, Dict, List, Optional, Sequence

import attrs

from bentoml.exceptions import InvalidArgument

__all__ = ["COLUMN_TYPES", "ColumnSpec", "InputSchema", "column_type_of_dtype"]

#: Column type -> the numpy dtype a column of that type is converted to.
COLUMN_TYPES: Dict[str, str] = {
    "boolean": "bool", "integer": "int32", "long": "int64", "float": "float32", "double": "float64",
    "string": "object", "binary": "object", "datetime": "datetime64[ns]",
}
NUMERIC_TYPES = ("integer", "long", "float", "double")
#: Column type -> JSON Schema, for OpenAPI.
_JSON_TYPES: Dict[str, Dict[str, Any]] = {
    "boolean": {"type": "boolean"}, "integer": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"}, "float": {"type": "number", "format": "float"},
    "double": {"type": "number", "format": "double"}, "string": {"type": "string"},
    "binary": {"type": "string"}, "datetime": {"type": "string", "format": "date-time"},
}
#: Example values for columns of a schema recorded without an example row.
_DEFAULT_VALUES = {"boolean": False, "integer": 0, "long": 0, "float": 0.0, "double": 0.0,
                   "string": "", "binary": "", "datetime": "2020-01-01T00:00:00"}


def _check_type(instance: Any, attribute: Any, value: Optional[str]) -> None:
    if value is not None and value not in COLUMN_TYPES:
        raise InvalidArgument(f"column type {value!r} is not one of {', '.join(COLUMN_TYPES)}")


@attrs.frozen
class ColumnSpec:
    """One column: its type (None: not known) and its name (None: columns are known by position)."""

    name: Optional[str] = None
    type: Optional[str] = attrs.field(default=None, validator=_check_type)

    def json_schema(self) -> Dict[str, Any]:
        """The JSON Schema of one value of this column."""
        return dict(_JSON_TYPES[self.type]) if self.type else {}


@attrs.frozen
class InputSchema:
    """The columns a model takes, in order, and optionally one example row (JSON values).

    All columns are named, or none is (a numpy array's columns are known by position).
    """

    columns: List[ColumnSpec]
    example: Optional[List[Any]] = None

    def __attrs_post_init__(self) -> None:
        if not self.columns:
            raise InvalidArgument("an input schema needs at least one column")
        named = [c.name is not None for c in self.columns]
        if any(named) and not all(named):
            raise InvalidArgument("the columns of an input schema are all named, or none is")
        names = [c.name for c in self.columns if c.name is not None]
        if len(set(names)) != len(names):
            raise InvalidArgument(f"an input schema names each column once, got {names}")
        if self.example is not None and len(self.example) != len(self.columns):
            raise InvalidArgument(f"the example row has {len(self.example)} values for {len(self.columns)} columns")

    @property
    def names(self) -> Optional[List[str]]:
        """The column names, or None when the columns are known by position."""
        return None if self.columns[0].name is None else [c.name for c in self.columns]  # type: ignore[misc]

    @property
    def width(self) -> int:
        return len(self.columns)

    @property
    def fully_typed(self) -> bool:
        return all(c.type is not None for c in self.columns)

    def example_row(self) -> Optional[List[Any]]:
        """The recorded example row, else one made of each type's plain value; None when a type is unknown."""
        if self.example is not None:
            return list(self.example)
        if not self.fully_typed:
            return None
        return [_DEFAULT_VALUES[c.type] for c in self.columns]  # type: ignore[index]

    def describe(self) -> str:
        """``sepal_length (double), ...`` or ``4 columns (double, double, ...)``, for messages and docs."""
        types = [c.type or "any type" for c in self.columns]
        if self.names is None:
            return f"{self.width} columns ({', '.join(types)})"
        return ", ".join(f"{n} ({t})" for n, t in zip(self.names, types))

    # -- inference -------------------------------------------------------------------------
    @classmethod
    def infer(cls, example: Any, what: str = "input_example") -> "InputSchema":
        """The schema of ``example``: a pandas DataFrame, a 2-D numpy array, or a list of rows
        (lists, or dicts of column -> value).

        :raises InvalidArgument: naming ``what`` when the example is not tabular, is empty,
            or holds a column whose type cannot be told (no values, or values of several types).
        """
        if hasattr(example, "columns") and hasattr(example, "dtypes") and hasattr(example, "iloc"):
            return cls._from_frame(example, what)
        if hasattr(example, "shape") and hasattr(example, "dtype"):
            return cls._from_array(example, what)
        if isinstance(example, (list, tuple)):
            return cls._from_rows(list(example), what)
        raise InvalidArgument(f"{what} must be a pandas DataFrame, a 2-D numpy array or a list of rows, "
                              f"got {type(example).__module__}.{type(example).__qualname__}")

    @classmethod
    def _from_frame(cls, df: Any, what: str) -> "InputSchema":
        labels = list(df.columns)
        if not labels or not len(df):
            raise InvalidArgument(f"{what} is an empty DataFrame; give at least one row of the model's input")
        if len(set(map(str, labels))) != len(labels):
            raise InvalidArgument(f"{what} has duplicate column names: {labels}")
        named = all(isinstance(n, str) for n in labels)
        columns = [ColumnSpec(name=str(label) if named else None,
                              type=_column_type(df[label].dtype, df[label].tolist(), f"column {label!r} of {what}"))
                   for label in labels]
        return cls(columns, _example_row([df[label].iloc[0] for label in labels]))

    @classmethod
    def _from_array(cls, array: Any, what: str) -> "InputSchema":
        shape = tuple(array.shape)
        if len(shape) != 2 or not shape[0] or not shape[1]:
            raise InvalidArgument(f"{what} must be a 2-D array of rows and columns with at least one row; "
                                  f"got shape {shape}")
        rows = array.tolist()
        columns = [ColumnSpec(type=_column_type(array.dtype, [r[i] for r in rows], f"column {i} of {what}"))
                   for i in range(shape[1])]
        return cls(columns, _example_row(rows[0]))

    @classmethod
    def _from_rows(cls, rows: List[Any], what: str) -> "InputSchema":
        if not rows:
            raise InvalidArgument(f"{what} is an empty list; give at least one row of the model's input")
        if all(isinstance(r, dict) for r in rows):
            names: List[Any] = []
            for row in rows:
                names += [k for k in row if k not in names]
            if not all(isinstance(n, str) for n in names):
                raise InvalidArgument(f"{what}: column names must be strings, got {names}")
            columns = [ColumnSpec(name=n, type=_column_type(None, [r.get(n) for r in rows],
                                                            f"column {n!r} of {what}"))
                       for n in names]
            return cls(columns, _example_row([rows[0].get(n) for n in names]))
        if all(isinstance(r, (list, tuple)) for r in rows):
            widths = sorted({len(r) for r in rows})
            if len(widths) != 1 or not widths[0]:
                raise InvalidArgument(f"{what}: every row must have the same number of values, got widths {widths}")
            columns = [ColumnSpec(type=_column_type(None, [r[i] for r in rows], f"column {i} of {what}"))
                       for i in range(widths[0])]
            return cls(columns, _example_row(list(rows[0])))
        raise InvalidArgument(f"{what} must be a list of rows: all lists, or all dicts of column -> value")


def column_type_of_dtype(dtype: Any) -> Optional[str]:
    """The column type of a numpy/pandas dtype (``float64`` -> ``double``), or None for object-like ones."""
    kind = getattr(dtype, "kind", None)
    size = getattr(dtype, "itemsize", 8) or 8
    if kind == "b":
        return "boolean"
    if kind == "i":
        return "integer" if size <= 4 else "long"
    if kind == "u":
        return "integer" if size <= 2 else "long"
    if kind == "f":
        return "float" if size <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind == "U":
        return "string"
    if kind == "S":
        return "binary"
    return None


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _column_type(dtype: Any, values: Sequence[Any], what: str) -> str:
    found = column_type_of_dtype(dtype) if dtype is not None else None
    if found is not None:
        return found
    present = [v for v in values if not _is_missing(v)]
    if not present:
        raise InvalidArgument(f"{what} holds only missing values; the example must show each column's type")
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in present):
        return "long"
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present):
        return "double"
    if all(isinstance(v, str) for v in present):
        return "string"
    if all(isinstance(v, (bytes, bytearray)) for v in present):
        return "binary"
    if all(isinstance(v, (datetime.datetime, datetime.date)) for v in present):
        return "datetime"
    kinds = sorted({type(v).__name__ for v in present})
    raise InvalidArgument(f"{what} mixes values of types {', '.join(kinds)}; a column holds one type")


def _example_value(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # a numpy scalar
        value = value.item()
    if _is_missing(value):
        return None
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _example_row(values: Sequence[Any]) -> Optional[List[Any]]:
    """The first row as JSON values, or None when a value has no JSON form (bytes)."""
    try:
        return [_example_value(v) for v in values]
    except TypeError:
        return None

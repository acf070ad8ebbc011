"""DataframeInput and input schemas: checking requests against one, and documenting it.

A schema (:class:`bentoml.schema.InputSchema`) comes from an artifact packed
with ``input_example`` (bound with ``DataframeInput.with_schema``) or, for the
docs only, from the adapter's own ``columns`` and ``input_dtypes``.  A request
fits when it has the schema's columns (by name; by position for rows without
names, or a schema without names) and each column's values convert to its type
without changing (:func:`bentoml.casting.lossless_cast`: ``3`` into a double,
never ``3.7`` into a long, ``"abc"`` into anything numeric).  Missing values
(JSON ``null``, an empty CSV field) are NaN in floating columns, which the
model may take or refuse; in integer and boolean columns they are refused.
Columns the schema does not name are dropped, as MLflow's schema enforcement
does.
"""
from __future__ import annotations

import csv
import io
import json
import numbers
from typing import Any, Dict, List, Optional, Sequence, Union

from bentoml.casting import lossless_cast
from bentoml.exceptions import BadInput
from bentoml.model_errors import one_line
from bentoml.schema import COLUMN_TYPES, NUMERIC_TYPES, ColumnSpec, InputSchema, column_type_of_dtype


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def conform(df: Any, schema: InputSchema) -> Any:
    """``df`` with exactly the schema's columns, in its order and types; BadInput naming what does not fit."""
    labels = list(df.columns)
    names = schema.names
    if names is None or labels == list(range(len(labels))):  # by position
        if len(labels) != schema.width:
            raise BadInput(f"rows have {_plural(len(labels), 'value')} but the model takes "
                           f"{_plural(schema.width, 'column')}: {schema.describe()}")
        df = df.copy()
        df.columns = names if names is not None else list(range(schema.width))
    else:
        by_text = {str(label): label for label in labels}
        missing = [n for n in names if n not in by_text]
        if missing:
            extra = [str(label) for label in labels if str(label) not in names]
            also = f"; the request has {', '.join(map(repr, extra))} instead" if extra else ""
            raise BadInput(f"missing columns {', '.join(map(repr, missing))}; the model takes "
                           f"{schema.describe()}{also}")
        df = df[[by_text[n] for n in names]].copy()
        df.columns = names
    for position, spec in enumerate(schema.columns):
        label = df.columns[position]
        df[label] = _column(df[label], spec, f"column {label!r}")
    return df


def _column(values: Any, spec: ColumnSpec, what: str) -> Any:
    import numpy as np
    import pandas as pd

    kind = spec.type
    if kind is None:
        return values
    array = values.to_numpy()
    if kind in NUMERIC_TYPES:
        if array.dtype.kind == "O":
            items = array.tolist()
            if all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in items):
                array = np.array([np.nan if v is None else v for v in items], dtype=np.float64)
        if kind in ("integer", "long") and array.dtype.kind == "f" and np.isnan(array).any():
            raise BadInput(f"{what} holds a missing value (JSON null or an empty CSV field) but the model "
                           f"takes {kind} ({COLUMN_TYPES[kind]}) values there")
        return lossless_cast(array, COLUMN_TYPES[kind], what)
    if kind == "boolean":
        if array.dtype.kind == "O" and all(isinstance(v, (bool, np.bool_)) for v in array.tolist()):
            return array.astype(bool)
        return lossless_cast(array, "bool", what)
    if kind == "datetime":
        try:
            return pd.to_datetime(values, errors="raise")
        except (ValueError, TypeError, OverflowError) as exc:
            raise BadInput(f"{what} holds values that are not dates and times: {one_line(exc, 120)}") from None
    texts = (str, bytes) if kind == "binary" else (str,)
    items = array.tolist()
    wrong = [v for v in items if not (v is None or isinstance(v, texts) or (isinstance(v, float) and v != v))]
    if wrong:
        raise BadInput(f"{what} holds {type(wrong[0]).__name__} values (e.g. {wrong[0]!r}) but the model takes "
                       f"{'strings' if kind == 'string' else 'text or bytes'} there")
    if kind == "binary":
        items = [v.encode("utf-8") if isinstance(v, str) else v for v in items]
    return pd.Series([None if isinstance(v, float) else v for v in items], index=values.index, dtype=object)


def string_columns(schema: InputSchema) -> Optional[Dict[str, type]]:
    """CSV columns to read as text (a zip code ``02139`` stays ``"02139"``), for ``read_csv(dtype=...)``."""
    if schema.names is None:
        return None
    found = {c.name: str for c in schema.columns if c.type in ("string", "binary")}
    return found or None  # type: ignore[return-value]


def declared_schema(columns: Optional[Sequence[Any]], input_dtypes: Union[None, str, type, Dict[Any, Any]]
                    ) -> Optional[InputSchema]:
    """The schema ``DataframeInput(columns=..., input_dtypes=...)`` declares (for the docs), or None."""
    if not columns:
        return None
    import numpy as np

    def kind(dtype: Any) -> Optional[str]:
        try:
            return column_type_of_dtype(np.dtype(dtype))
        except TypeError:  # "category", "string": no numpy dtype, and no type we can document
            return None

    if isinstance(input_dtypes, dict):
        by_text = {str(k): v for k, v in input_dtypes.items()}
        types = [kind(by_text[str(c)]) if str(c) in by_text else None for c in columns]
    elif input_dtypes is not None:
        types = [kind(input_dtypes)] * len(columns)
    else:
        types = [None] * len(columns)
    return InputSchema([ColumnSpec(name=str(c), type=t) for c, t in zip(columns, types)])


# -- OpenAPI --------------------------------------------------------------------------------


def _keys(schema: InputSchema) -> List[str]:
    return schema.names if schema.names is not None else [str(i) for i in range(schema.width)]


def _row_schema(schema: InputSchema) -> Dict[str, Any]:
    types = {json.dumps(c.json_schema(), sort_keys=True) for c in schema.columns}
    items = schema.columns[0].json_schema() if len(types) == 1 else {}
    return {"type": "array", "items": items, "minItems": schema.width, "maxItems": schema.width,
            "description": f"one row: {schema.describe()}"}


def _record_schema(schema: InputSchema) -> Dict[str, Any]:
    keys = _keys(schema)
    return {"type": "object", "required": keys,
            "properties": {k: c.json_schema() for k, c in zip(keys, schema.columns)}}


def json_schema(schema: InputSchema, orient: Optional[str]) -> Dict[str, Any]:
    """The JSON Schema of a request body in ``orient`` (None: any layout DataframeInput detects)."""
    rows = {"type": "array", "items": _row_schema(schema)}
    records = {"type": "array", "items": _record_schema(schema)}
    if orient == "values":
        return rows
    if orient == "records":
        return records
    if orient == "split":
        return {"type": "object", "required": ["data"],
                "properties": {"columns": {"type": "array", "items": {"type": "string"}}, "data": rows}}
    if orient == "columns":
        return {"type": "object", "required": _keys(schema),
                "properties": {k: {"type": "array", "items": c.json_schema()}
                               for k, c in zip(_keys(schema), schema.columns)}}
    if orient == "index":
        return {"type": "object", "additionalProperties": _record_schema(schema)}
    if orient == "table":
        return {"type": "object", "required": ["schema", "data"]}
    alternatives = [rows, records, _record_schema(schema)] if schema.names is not None else [rows]
    return {"oneOf": alternatives} if len(alternatives) > 1 else rows


def json_example(schema: InputSchema, orient: Optional[str]) -> Any:
    """A request body in ``orient`` of the schema's example row, or None when it has none."""
    row = schema.example_row()
    if row is None:
        return None
    keys = _keys(schema)
    record = dict(zip(keys, row))
    if orient == "values" or (orient is None and schema.names is None):
        return [row]
    if orient in (None, "records"):
        return [record]
    if orient == "split":
        return {"columns": keys, "data": [row]} if schema.names is not None else {"data": [row]}
    if orient == "columns":
        return {k: [v] for k, v in record.items()}
    if orient == "index":
        return {"0": record}
    import pandas as pd

    return json.loads(pd.DataFrame([row], columns=keys).to_json(orient="table"))


def csv_example(schema: InputSchema) -> Optional[str]:
    """A CSV request (header and the example row), or None when the schema has no example."""
    row = schema.example_row()
    if row is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_keys(schema))
    writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()

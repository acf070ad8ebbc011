"""DataframeInput: JSON or CSV requests become one pandas DataFrame per batch.

``from bentoml.adapters import DataframeInput`` resolves to the class below once
this distribution is installed.  pandas is imported only when a request is
parsed or a batch is built.
"""
from __future__ import annotations

import copy
import csv
import io
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter
from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.hookspecs import hookimpl

from bentoml_adapter_dataframe import _schema
from bentoml_adapter_dataframe.output import DataframeOutput

if TYPE_CHECKING:
    from bentoml.schema import InputSchema

__all__ = ["DataframeInput", "DataframeOutput"]

ORIENTS = ("records", "values", "split", "columns", "index", "table")
_JSON_TYPES = ("application/json", "text/json")
_CSV_TYPES = ("text/csv", "application/csv")
# Clients that forget a content type (``curl -d`` sends form-urlencoded) get JSON.
_SNIFF_TYPES = ("", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_value(field: str) -> bool:
    """A CSV field no one names a column: a number, a boolean or nothing."""
    field = field.strip()
    if not field or field.lower() in ("true", "false"):
        return True
    try:
        float(field)
    except ValueError:
        return False
    return True


def _dtype_name(dtype: Any) -> str:
    return getattr(dtype, "__name__", None) or str(dtype)


def _detect_orient(obj: Any) -> str:
    """Which JSON layout ``obj`` is in, when the adapter was given no ``orient``."""
    if isinstance(obj, list):
        if obj and all(isinstance(row, dict) for row in obj):
            return "records"
        if not any(isinstance(row, dict) for row in obj):
            return "values"
        raise BadInput("a JSON list must hold either only objects (records) or only rows/values, not both")
    if isinstance(obj, dict):
        if "data" in obj and set(obj) <= {"columns", "data", "index", "name"}:
            return "split"
        if obj and all(_is_scalar(v) for v in obj.values()):
            return "record"  # one record given as a bare object
        return "columns"
    raise BadInput(f"expected a JSON list or object, got {type(obj).__name__}")


def _width_text(width: Optional[int]) -> str:
    return "one value (not a list)" if width is None else f"{width} value{'s' if width != 1 else ''}"


def _check_rectangular(rows: List[Any]) -> None:
    """Rows given as lists must all have one length (pandas would pad short ones with NaN)."""
    widths = [len(r) if isinstance(r, list) else None for r in rows]
    for i, width in enumerate(widths):
        if width != widths[0]:
            raise BadInput(f"ragged rows: row 0 has {_width_text(widths[0])} but row {i} has "
                           f"{_width_text(width)}; every row needs one value per column")


class _Rows:
    """Rows of one request not yet made a DataFrame: ``columns`` None means values orient."""

    __slots__ = ("columns", "rows")

    def __init__(self, columns: Optional[tuple], rows: List[list]):
        self.columns, self.rows = columns, rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0])

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(self.columns) if self.columns else None)


class DataframeInput(InputAdapter):
    """Tabular input: the API function receives one ``pandas.DataFrame`` of every row in the batch.

    A request body is JSON (``Content-Type: application/json``, or no content
    type) or CSV with a header row (``text/csv``; without one only when the
    columns are known, see ``_csv_has_header``).  With ``orient=None`` the
    JSON layout is detected:

    - a list of objects is ``records``: ``[{"a": 1, "b": 2}, ...]``;
    - a list of lists (or of scalars) is ``values``: ``[[5.1, 3.5, 1.4, 0.2]]``,
      giving integer column names ``0..n-1``;
    - an object with ``data`` (and ``columns``/``index``) is ``split``;
    - an object whose values are all scalars is a single record: ``{"a": 1}``;
    - any other object is ``columns``: ``{"a": [1, 2]}`` or ``{"a": {"0": 1}}``.

    A given ``orient`` (one of pandas' ``records``, ``values``, ``split``,
    ``columns``, ``index``, ``table``) is enforced instead.  Each request counts
    as its number of rows, so the API must return one result per row.

    :param orient: the JSON layout, or None to detect it.
    :param typ: ``"frame"`` (DataFrame) or ``"series"`` (Series).
    :param input_dtypes: column -> dtype, applied with ``astype``; a single dtype
        applies to every column.  A value that does not convert is a 400.
    :param dtype: BentoML 0.9-0.13's name of ``input_dtypes`` (give one of them).
    :param columns: expected column names.  Rows without names (values, or a
        list for a series) are given these names; named input is reordered to
        them and must contain all of them.  Setting it also lets requests with
        differently ordered columns share a batch.

    Schemas: an adapter declared without ``columns`` and ``input_dtypes`` takes
    the columns a model was packed with (``svc.pack("model", clf,
    input_example=df)``, see :meth:`with_schema`): each request must then have
    those columns (by name, or by position for rows without names), each
    converting to its type without a value changing, or it is a 400 naming the
    column; the OpenAPI document shows the columns, and the example's first row
    as the request example.  With neither, ``request_schema()`` shows the
    accepted layouts and no example (there is no row it could truthfully show).
    """

    requirement_imports = ("pandas",)
    #: A request may carry several inputs: the API always gets a batch (no @api(batch=False)).
    single_mode_supported = False

    def __init__(self, orient: Optional[str] = None, typ: str = "frame",
                 input_dtypes: Union[None, str, Dict[Any, Any]] = None,
                 columns: Optional[Sequence[Any]] = None, dtype: Union[None, str, Dict[Any, Any]] = None):
        if dtype is not None:
            if input_dtypes is not None:
                raise InvalidArgument("DataframeInput takes dtype= or input_dtypes= (its older name), not both")
            input_dtypes = dtype
        if orient is not None and orient not in ORIENTS:
            raise InvalidArgument(f"DataframeInput(orient=...) must be None or one of {ORIENTS}, got {orient!r}")
        if typ not in ("frame", "series"):
            raise InvalidArgument(f"DataframeInput(typ=...) must be 'frame' or 'series', got {typ!r}")
        if input_dtypes is not None and not isinstance(input_dtypes, (dict, str, type)):
            raise InvalidArgument(
                "DataframeInput(input_dtypes=...) must be a dict of column -> dtype or one dtype, "
                f"got {input_dtypes!r}")
        if columns is not None and (isinstance(columns, str) or len(set(columns)) != len(columns)):
            raise InvalidArgument(f"DataframeInput(columns=...) must be a list of distinct names, got {columns!r}")
        self.orient = orient
        self.typ = typ
        self.input_dtypes = input_dtypes
        self.columns = list(columns) if columns is not None else None
        self._schema: Optional["InputSchema"] = None  # bound by with_schema

    def with_schema(self, schema: "InputSchema") -> "DataframeInput":
        """A copy that checks requests against ``schema`` and documents it (see :mod:`._schema`).

        Only a frame adapter declared without ``columns`` and ``input_dtypes``
        takes one: a declaration of the API's own wins over the model's.
        """
        if self.columns is not None or self.input_dtypes is not None or self.typ != "frame":
            return self
        bound = copy.copy(self)
        bound._schema = schema
        return bound

    @property
    def config(self) -> Dict[str, Any]:
        dtypes = self.input_dtypes
        if isinstance(dtypes, dict):
            dtypes = {str(k): _dtype_name(v) for k, v in dtypes.items()}
        elif dtypes is not None:
            dtypes = _dtype_name(dtypes)
        return {"orient": self.orient, "typ": self.typ, "input_dtypes": dtypes,
                "columns": self.columns, "is_batch_input": True}

    # -- request -> task -------------------------------------------------------
    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        ctype = request.content_type
        if ctype in _CSV_TYPES:
            data = self._from_csv(request.text())
        elif ctype in _JSON_TYPES or ctype.endswith("+json") or ctype in _SNIFF_TYPES:
            data = self._from_json(request.text(), sniffed=ctype in _SNIFF_TYPES)
        else:
            raise BadInput(f"content type {ctype!r} is not supported; send application/json or text/csv", 415)
        data = self._apply_dtypes(self._apply_columns(data))
        if self._schema is not None:
            data = _schema.conform(data, self._schema)
        return InferenceTask(data=data, count=len(data))

    def _from_json(self, text: str, sniffed: bool) -> Any:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            hint = " (for CSV, send Content-Type: text/csv)" if sniffed else ""
            raise BadInput(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}") from None
        if self.typ == "series":
            return self._series(obj)
        rows = self._plain_rows(obj)
        return rows if rows is not None else self._frame(obj, text)

    def _plain_rows(self, obj: Any) -> Optional["_Rows"]:
        """Uniform ``values``/``records`` rows kept as Python lists, or None.

        Building one DataFrame per request and concatenating them costs far more
        than the model call for small requests; such rows are turned into a
        DataFrame once per batch instead (same result as ``pandas.DataFrame(obj)``).
        """
        if (self.columns is not None or self.input_dtypes is not None or self._schema is not None
                or not isinstance(obj, list) or not obj):
            return None
        orient = self.orient
        first = obj[0]
        if isinstance(first, list) and orient in (None, "values"):
            width = len(first)
            if width and all(type(r) is list and len(r) == width and all(map(_is_scalar, r)) for r in obj):
                return _Rows(None, obj)
        elif isinstance(first, dict) and orient in (None, "records"):
            keys = tuple(first)
            if keys and all(type(r) is dict and tuple(r) == keys and all(map(_is_scalar, r.values()))
                            for r in obj):
                return _Rows(keys, [list(r.values()) for r in obj])
        return None

    def _frame(self, obj: Any, text: str) -> Any:
        import pandas as pd

        orient = self.orient or _detect_orient(obj)
        if orient in ("records", "values"):
            if not isinstance(obj, list):
                raise BadInput(f"orient={orient!r} expects a JSON list, got {type(obj).__name__}")
            if not obj:
                raise BadInput("the JSON list is empty; send at least one row")
            if orient == "records" and not all(isinstance(r, dict) for r in obj):
                raise BadInput("orient='records' expects a list of objects, one per row")
            if orient == "values" and any(isinstance(r, dict) for r in obj):
                raise BadInput("orient='values' expects a list of rows (lists), not objects")
            if orient == "values":
                _check_rectangular(obj)
            return pd.DataFrame(obj)
        if not isinstance(obj, dict):
            raise BadInput(f"orient={orient!r} expects a JSON object, got {type(obj).__name__}")
        if orient == "record":
            return pd.DataFrame([obj])
        if orient == "split":
            if not isinstance(obj.get("data"), list):
                raise BadInput("orient='split' expects an object with a 'data' list (and optional 'columns', 'index')")
            _check_rectangular(obj["data"])
            return pd.DataFrame(obj["data"], columns=obj.get("columns"), index=obj.get("index"))
        if orient == "columns":
            return pd.DataFrame(obj)
        if orient == "index":
            return pd.DataFrame.from_dict(obj, orient="index")
        return pd.read_json(io.StringIO(text), orient="table")

    def _series(self, obj: Any) -> Any:
        import pandas as pd

        if isinstance(obj, dict) and "data" in obj and set(obj) <= {"data", "index", "name"}:
            return pd.Series(obj["data"], index=obj.get("index"), name=obj.get("name"))
        if isinstance(obj, (list, dict)) and obj:
            return pd.Series(obj)
        raise BadInput(f"typ='series' expects a non-empty JSON list or object, got {json.dumps(obj)[:40]}")

    def _from_csv(self, text: str) -> Any:
        import pandas as pd

        text_columns = _schema.string_columns(self._schema) if self._schema is not None else None
        has_header = self._csv_has_header(text)
        if not has_header and text_columns is not None:  # read by position: name -> index
            names = self._schema.names or []
            text_columns = {names.index(n): t for n, t in text_columns.items()}  # type: ignore[misc]
        try:
            df = pd.read_csv(io.StringIO(text), dtype=text_columns, header=0 if has_header else None)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise BadInput(f"body is not valid CSV: {str(exc).strip()}") from None
        if not isinstance(df.index, pd.RangeIndex):
            # pandas takes surplus leading fields of the first row as an index.
            raise BadInput("body is not valid CSV: rows have more fields than the header")
        if df.empty:
            raise BadInput("the CSV has a header but no rows")
        if self.typ == "series":
            if df.shape[1] != 1:
                raise BadInput(f"typ='series' expects CSV with one column, got {df.shape[1]}")
            return df.iloc[:, 0]
        return df

    def _csv_has_header(self, text: str) -> bool:
        """Whether the CSV's first row names the columns rather than holding values.

        A first row of values only (numbers, booleans, empty fields) is data
        when the API knows its columns (``columns=`` or a packed input example)
        and the row is not those very names; with no columns known it is
        refused, never read as a header (which would drop a row of input
        without a word).
        """
        first = next(csv.reader(io.StringIO(text[:65536])), None)
        if not first or not all(_is_value(field) for field in first):
            return True
        if self.columns is not None:
            known: Optional[List[str]] = [str(c) for c in self.columns]
        elif self._schema is not None:  # columns known by position are named 0..n-1
            known = self._schema.names or [str(i) for i in range(self._schema.width)]
        else:
            known = None
        if known is not None:
            return [f.strip() for f in first] == known
        shown = ",".join(first)[:60]
        raise BadInput(f"the CSV's first row ({shown}) holds only values: send a header row naming "
                       "the columns (CSV without a header is read only when the API knows its columns: "
                       "DataframeInput(columns=...) or pack(..., input_example=...))")

    def _apply_columns(self, data: Any) -> Any:
        if self.columns is None or self.typ == "series":
            return data
        names = list(data.columns)
        if names == list(range(len(names))):  # unnamed rows: name them
            if len(names) != len(self.columns):
                raise BadInput(
                    f"rows have {len(names)} values but {len(self.columns)} columns are expected: {self.columns}")
            data.columns = self.columns
            return data
        missing = [c for c in self.columns if c not in names]
        if missing:
            raise BadInput(f"missing columns {missing}; expected {self.columns}")
        return data[self.columns].copy()

    def _apply_dtypes(self, data: Any) -> Any:
        dtypes = self.input_dtypes
        if dtypes is None:
            return data
        if not isinstance(dtypes, dict) or self.typ == "series":
            try:
                return data.astype(dtypes)
            except (ValueError, TypeError) as exc:
                raise BadInput(f"input cannot be converted to {_dtype_name(dtypes)}: {exc}") from None
        by_name = {str(c): c for c in data.columns}
        for key, dtype in dtypes.items():
            # Keys read back from JSON are strings; values-orient columns are ints.
            column = key if key in data.columns else by_name.get(str(key))
            if column is None:
                continue
            try:
                data[column] = data[column].astype(dtype)
            except (ValueError, TypeError) as exc:
                raise BadInput(f"column {column!r} cannot be converted to {_dtype_name(dtype)}: {exc}") from None
        return data

    # -- a table chunk -> task (offline batch) ------------------------------------
    def _frame_tasks(self, frame: Any) -> List[InferenceTask]:
        """The whole chunk as one task: its columns, dtypes and schema applied as to a request's rows."""
        # Only the columns/dtypes options change the frame in place: the caller's chunk stays as it was.
        data = frame if self.columns is None and self.input_dtypes is None else frame.copy()
        if self.typ == "series":
            if data.shape[1] != 1:
                raise BadInput(f"typ='series' expects a table with one column, got {data.shape[1]}")
            data = data.iloc[:, 0]
        data = self._apply_dtypes(self._apply_columns(data))
        if self._schema is not None:
            data = _schema.conform(data, self._schema)
        return [InferenceTask(data=data, count=len(data))]

    # -- tasks -> API argument ---------------------------------------------------
    def _batch(self, tasks: Sequence[InferenceTask]) -> Any:
        import pandas as pd

        parts: List[Any] = [t.data for t in tasks]
        # Values rows of different widths must not share a frame: pandas would pad the short
        # ones with NaN, and a model that takes NaN would answer them as if that were sent.
        if all(isinstance(p, _Rows) and p.columns == parts[0].columns and p.width == parts[0].width
               for p in parts):
            rows = parts[0].rows if len(parts) == 1 else [row for p in parts for row in p.rows]
            return pd.DataFrame(rows, columns=list(parts[0].columns) if parts[0].columns else None)
        parts = [p.frame() if isinstance(p, _Rows) else p for p in parts]
        if self.typ == "frame" and parts:
            first = list(parts[0].columns)
            for i, part in enumerate(parts[1:], 1):
                names = list(part.columns)
                if names == first:
                    continue
                if len(names) != len(first) or set(names) != set(first):
                    raise BadInput(f"requests in one batch have different columns: {first} and {names}")
                parts[i] = part[first]  # same columns, other order
        if len(parts) == 1 and parts[0].index.equals(pd.RangeIndex(len(parts[0]))):
            return parts[0]  # one task (a batch job's chunk): concat would only copy it
        return pd.concat(parts, ignore_index=True)

    # -- documentation ---------------------------------------------------------------
    def documented_schema(self) -> Optional["InputSchema"]:
        """The columns this adapter documents: the model's (bound), else its own ``columns``/``input_dtypes``."""
        if self.typ != "frame":
            return None
        return self._schema or _schema.declared_schema(self.columns, self.input_dtypes)

    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        csv_entry: Dict[str, Any] = {"schema": {"type": "string", "description": "CSV with a header row"}}
        if self.typ == "series":
            return {"application/json": {"schema": {"oneOf": [{"type": "array", "items": {}},
                                                              {"type": "object"}]}},
                    "text/csv": {"schema": {"type": "string", "description": "CSV with one column"}}}
        schema = self.documented_schema()
        if schema is None:
            return {"application/json": {"schema": self._json_schema()}, "text/csv": csv_entry}
        json_entry: Dict[str, Any] = {"schema": _schema.json_schema(schema, self.orient)}
        example = _schema.json_example(schema, self.orient)
        if example is not None:
            json_entry["example"] = example
            csv_entry = {"schema": {"type": "string", "description": f"CSV with a header row: {schema.describe()}"},
                         "example": _schema.csv_example(schema)}
        return {"application/json": json_entry, "text/csv": csv_entry}

    def _json_schema(self) -> Dict[str, Any]:
        row = {"type": "array", "items": {}}
        record = {"type": "object", "additionalProperties": True}
        if self.orient == "values":
            return {"type": "array", "items": row}
        if self.orient == "records":
            return {"type": "array", "items": record}
        if self.orient is None:
            return {"oneOf": [{"type": "array", "items": row}, {"type": "array", "items": record}, record]}
        return record


@hookimpl
def register_input_adapters(register):
    # Where BentoML 0.7-0.13 kept it: `from bentoml.handlers import DataframeHandler` keeps working.
    register(DataframeInput, legacy_paths=("bentoml.adapters.dataframe_input", "bentoml.handlers:DataframeHandler",
                                           "bentoml.handlers.dataframe_handler:DataframeHandler"))


@hookimpl
def register_output_adapters(register):
    """Provide BentoML 0.10-0.13's ``DataframeOutput`` to ``bentoml.adapters``."""
    register(DataframeOutput, legacy_paths=("bentoml.adapters.dataframe_output",))

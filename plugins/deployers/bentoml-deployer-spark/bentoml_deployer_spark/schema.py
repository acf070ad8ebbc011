"""The Spark schema of an API's results: given (a DDL string or a DataType), or inferred.

Inference runs the API on the driver over a few rows (the first rows of the
DataFrame for :func:`bentoml_spark.run`, the Bento's recorded input example for
:func:`bentoml_spark.udf`) and reads the types of the result columns through
Arrow, the way Spark itself converts pandas results.
"""
from __future__ import annotations

from typing import Any, List

from bentoml.exceptions import InvalidArgument


def parse_output_schema(value: Any) -> Any:
    """A Spark ``DataType`` from ``value``: a DataType, or DDL (``"long"``, ``"label string, p double"``)."""
    from pyspark.sql.types import DataType

    if isinstance(value, DataType):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"output_schema must be a Spark DataType or a DDL string such as "
                              f"'prediction long', got {value!r}")
    from pyspark.sql.types import _parse_datatype_string  # DDL -> DataType in every pyspark 3.3+

    try:
        return _parse_datatype_string(value)
    except Exception as exc:  # pyspark raises ParseException and friends, no common base
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidArgument(f"output_schema {value!r} is not a Spark type: {first_line}") from None


def as_struct(data_type: Any, default_name: str) -> Any:
    """``data_type`` as a StructType: a bare type becomes one field named ``default_name``."""
    from pyspark.sql.types import StructField, StructType

    if isinstance(data_type, StructType):
        return data_type
    return StructType([StructField(default_name, data_type)])


def infer_from_results(frame: Any) -> Any:
    """The StructType of a pandas DataFrame of results (column names as strings)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    try:
        arrow_schema = pa.Schema.from_pandas(frame, preserve_index=False)
        return from_arrow_schema(arrow_schema)
    except Exception as exc:  # pyarrow's and pyspark's type errors share no base
        raise InvalidArgument(f"cannot infer a Spark schema from the API's results "
                              f"({dict(frame.dtypes.astype(str))}): {exc}; pass output_schema=") from None


def field_names(struct: Any) -> List[str]:
    """The names of a StructType's fields, in order."""
    return [field.name for field in struct.fields]

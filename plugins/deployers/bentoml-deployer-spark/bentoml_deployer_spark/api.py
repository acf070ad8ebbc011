"""``udf`` and ``run``: a Bento's API on a Spark DataFrame, in-process on every executor.

No server runs anywhere: the Bento is shipped once per SparkContext
(:mod:`.shipping`), each Python worker loads it once and calls the API on
Arrow batches through the kernel's :class:`bentoml.batch.BatchRunner`
(:mod:`.on_executor`), exactly as ``bentoml run --output`` does on one machine.
"""
from __future__ import annotations

import sys
from typing import Any, Dict, Optional

from bentoml.exceptions import InvalidArgument

from bentoml_deployer_spark import on_executor
from bentoml_deployer_spark.schema import (as_struct, field_names, infer_from_results,
                                           parse_output_schema)
from bentoml_deployer_spark.shipping import ShippedBento, ship

#: Rows of the DataFrame the driver runs the API on to infer the output schema.
SAMPLE_ROWS = 20

_pickled_by_value = False
_driver_services: Dict[str, Any] = {}


def _pickle_executor_code_by_value() -> None:
    """Executors need the Bento's distributions, not this plugin: send :mod:`.on_executor` itself."""
    global _pickled_by_value
    if not _pickled_by_value:
        from pyspark import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[on_executor.__name__])
        _pickled_by_value = True


def _driver_runner(shipped: ShippedBento) -> Any:
    """A runner of the Bento loaded on the driver (once per process), to infer the output schema."""
    from bentoml.batch import BatchRunner

    service = _driver_services.get(shipped.driver_path)
    if service is None:
        from bentoml.bundle.load import load_from_dir

        service = _driver_services[shipped.driver_path] = load_from_dir(shipped.driver_path)
    return BatchRunner(service, shipped.api_name, chunk_size=shipped.chunk_size)


def run(bento: Any, df: Any, api_name: Optional[str] = None, output_schema: Any = None,
        chunk_size: Optional[int] = None) -> Any:
    """A DataFrame of the API's results for every row of ``df`` (lazy, like any DataFrame).

    ``df``'s columns are the API's input, by name (``DataframeInput`` gets the
    rows as a DataFrame of those columns).  The result has the API's result
    columns (``bentoml.batch.results``: a scalar result is the column
    ``result``), one row per input row, partition by partition; to keep other
    columns next to the results use :func:`udf`.

    :param bento: a bundle path, ``NAME:VERSION`` or ``NAME:latest``.
    :param api_name: the API to call; may be left out when the Bento has one.
    :param output_schema: the results' Spark schema (a ``StructType`` or DDL,
        ``"result long"``); by default inferred by running the API on the
        driver over the first rows of ``df``.
    :param chunk_size: rows per API call (default: Spark's Arrow batch size,
        ``spark.sql.execution.arrow.maxRecordsPerBatch``).
    """
    shipped = ship(df.sparkSession, bento, api_name, chunk_size)
    if output_schema is None:
        sample = df.limit(SAMPLE_ROWS).toPandas()
        if sample.empty:
            raise InvalidArgument(f"cannot infer the output schema of {shipped.tag} {shipped.api_name} "
                                  "from an empty DataFrame; pass output_schema=")
        schema = infer_from_results(_driver_runner(shipped).run_frame(sample))
    else:
        schema = as_struct(parse_output_schema(output_schema), "result")
    _pickle_executor_code_by_value()
    function = on_executor.map_in_pandas_function(shipped.as_dict(), field_names(schema))
    return df.mapInPandas(function, schema)


def _example_results(shipped: ShippedBento) -> Any:
    """The API's results for the Bento's recorded input example (``pack(..., input_example=)``)."""
    import pandas as pd

    runner = _driver_runner(shipped)
    schema = runner.service._api_input_schema()
    if schema is None or schema.example is None:
        raise InvalidArgument(
            f"udf() cannot infer what {shipped.tag} {shipped.api_name} returns: the Bento records "
            "no input example; pass output_schema= (e.g. 'long', or 'label string, score double')")
    return runner.run_frame(pd.DataFrame([schema.example], columns=schema.names))


def udf(bento: Any, api_name: Optional[str] = None, output_schema: Any = None,
        chunk_size: Optional[int] = None, spark: Any = None) -> Any:
    """A Spark pandas UDF calling the Bento's API on batches of rows.

    Give it one ``struct`` of the input columns (``f(struct(*cols))``: the API
    gets them by name) or the columns themselves (``f("a", "b")``: by
    position, columns ``0..n-1``, as ``DataframeInput`` names rows given as
    lists)::

        from pyspark.sql.functions import struct
        predict = bentoml_spark.udf("IrisClassifier:latest", output_schema="long")
        df.withColumn("label", predict(struct(*feature_columns)))

    The UDF returns a column of ``output_schema`` (a bare type when the API's
    result is one column, a struct otherwise).  Without ``output_schema`` it is
    inferred from the Bento's recorded input example.

    :param spark: the SparkSession to ship the Bento with (default: the active one).
    """
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import pandas_udf
    from pyspark.sql.types import StructType

    session = spark or SparkSession.getActiveSession()
    if session is None:
        raise InvalidArgument("udf() needs a SparkSession: start one first or pass spark=")
    shipped = ship(session, bento, api_name, chunk_size)
    if output_schema is None:
        struct = infer_from_results(_example_results(shipped))
        return_type = struct if len(struct.fields) > 1 else struct.fields[0].dataType
    else:
        return_type = parse_output_schema(output_schema)
    is_struct = isinstance(return_type, StructType)
    columns = field_names(return_type) if is_struct else ["result"]
    _pickle_executor_code_by_value()
    function = on_executor.scalar_iter_function(shipped.as_dict(), columns, is_struct)
    return pandas_udf(function, return_type)

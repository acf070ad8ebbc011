"""``bentoml batch``: run an API of a Bento over a CSV, JSON lines or Parquet input on Spark."""
from __future__ import annotations

import os
import re
import sys
from typing import Any, Optional, Sequence, Tuple

import click

from bentoml.exceptions import BentoMLException

#: File formats by extension; Spark reads and writes each of them natively.
#: (the names and extensions of ``bentoml run --output``; ``.json`` is JSON lines too, as in Spark)
FORMATS = {".csv": "csv", ".json": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
           ".pq": "parquet"}
_FORMAT_CHOICE = click.Choice(["csv", "jsonl", "parquet"])
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")
_LOG_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log4j2.properties")


def _format_of(path: str, given: Optional[str], option: str) -> str:
    if given:
        return given
    found = FORMATS.get(os.path.splitext(path.rstrip("/"))[1].lower())
    if found is None:
        raise click.BadParameter(f"cannot tell the format of {path!r} from its extension "
                                 f"({', '.join(FORMATS)}); give {option} csv, jsonl or parquet",
                                 param_hint=option)
    return found


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def _conf_pair(value: str) -> Tuple[str, str]:
    key, sep, setting = value.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--conf")
    return key.strip(), setting


def _session(master: str, chunk_size: Optional[int], name: str,
             conf: Sequence[Tuple[str, str]]) -> Tuple[Any, bool]:
    """A SparkSession for one job (quiet logs, no UI, loopback for a local master), and whether
    the job owns it: run where a session is already active (a notebook, a test), the command
    uses that one, with its settings, and leaves it running."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False

    builder = (SparkSession.builder.master(master).appName(f"bentoml batch {name}")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_LOG_CONFIG}"))
    if master.startswith("local"):
        # local workers are this machine's: by default the Python running bentoml, which has the
        # Bento's plugins (pyspark reads only the variable, at SparkContext start)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # else Spark picks the host's address
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    if chunk_size is not None:
        builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
    for key, value in conf:  # last: the user's settings win
        builder = builder.config(key, value)
    return builder.getOrCreate(), True


def _read(spark: Any, path: str, fmt: str) -> Any:
    if fmt == "csv":
        return spark.read.csv(path, header=True, inferSchema=True)
    if fmt == "jsonl":
        return spark.read.json(path)  # JSON lines: one object per line
    return spark.read.parquet(path)


def _write(frame: Any, path: str, fmt: str, overwrite: bool) -> None:
    writer = frame.write.mode("overwrite" if overwrite else "errorifexists")
    if fmt == "csv":
        writer.csv(path, header=True)
    elif fmt == "jsonl":
        writer.json(path)
    else:
        writer.parquet(path)


def _one_line(exc: BaseException) -> str:
    """A failed job's message: what a worker raised for the user, else Spark's first line."""
    from bentoml_deployer_spark.errors import user_message

    found = user_message(exc)
    if found is not None:
        return found
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # a worker's traceback inside Spark's error: its last "SomeError: why" line says what failed
    raised = [line for line in lines if _RAISED.match(line)]
    if raised:
        return f"a Spark worker failed: {raised[-1]}"
    return lines[0] if lines else type(exc).__name__


@click.command()
@click.argument("bento")
@click.argument("api_name")
@click.option("--input", "input_path", required=True, metavar="PATH",
              help="Input rows: a CSV file with a header, JSON lines, or Parquet (a file or a folder of parts)")
@click.option("--output", "output_path", required=True, metavar="PATH",
              help="Where Spark writes the results: a folder of part files in the output format")
@click.option("--input-format", type=_FORMAT_CHOICE, help="The input's format (default: from its extension)")
@click.option("--output-format", type=_FORMAT_CHOICE, help="The output's format (default: from its extension)")
@click.option("--master", "--spark", "master", default="local[*]", show_default=True, metavar="URL",
              help="The Spark master: local[2], spark://HOST:7077, yarn, ...")
@click.option("--chunk-size", type=click.IntRange(min=1), metavar="ROWS",
              help="Rows per API call (Spark's Arrow batch size; default 10000)")
@click.option("--output-schema", metavar="DDL",
              help="The results' Spark schema, e.g. 'result long' (default: inferred from the first rows)")
@click.option("--keep-columns", metavar="COLS",
              help="Comma-separated input columns to write before the results (e.g. an id); "
                   "the API gets the other columns")
@click.option("--conf", "conf", multiple=True, metavar="KEY=VALUE",
              help="A Spark setting, as spark-submit's --conf (repeat it)")
@click.option("--overwrite", is_flag=True, help="Replace an existing output")
def batch(bento: str, api_name: str, input_path: str, output_path: str, input_format: Optional[str],
          output_format: Optional[str], master: str, chunk_size: Optional[int], output_schema: Optional[str],
          keep_columns: Optional[str], conf: Tuple[str, ...], overwrite: bool) -> None:
    """Run an API of a Bento (a path, NAME:VERSION or NAME:latest) over every row of --input on Spark,
    in-process on the executors, and write the results to --output."""
    from bentoml_deployer_spark.shipping import resolve_bento

    in_format = _format_of(input_path, input_format, "--input-format")
    out_format = _format_of(output_path, output_format, "--output-format")
    if _is_local(input_path) and not os.path.exists(input_path.replace("file://", "", 1)):
        raise click.BadParameter(f"no such file or folder {input_path!r}", param_hint="--input")
    if _is_local(output_path) and os.path.exists(output_path.replace("file://", "", 1)) and not overwrite:
        raise click.BadParameter(f"{output_path!r} exists; remove it or pass --overwrite", param_hint="--output")
    settings = [_conf_pair(value) for value in conf]
    bundle = resolve_bento(bento)  # before Spark starts: a bad tag fails in a second
    spark, owned = _session(master, chunk_size, os.path.basename(bundle), settings)
    try:
        _run_job(spark, bundle, api_name, input_path, in_format, output_path, out_format, output_schema,
                 keep_columns, overwrite)
    finally:
        if owned:
            spark.stop()


def _run_job(spark: Any, bundle: str, api_name: str, input_path: str, in_format: str, output_path: str,
             out_format: str, output_schema: Optional[str], keep_columns: Optional[str], overwrite: bool) -> None:
    from bentoml_deployer_spark.api import run, udf

    try:
        frame = _read(spark, input_path, in_format)
        if keep_columns:
            from pyspark.sql.functions import struct

            kept = [c.strip() for c in keep_columns.split(",") if c.strip()]
            unknown = [c for c in kept if c not in frame.columns]
            if unknown:
                raise click.BadParameter(f"no column {', '.join(map(repr, unknown))} in the input "
                                         f"(columns: {', '.join(frame.columns)})", param_hint="--keep-columns")
            features = [c for c in frame.columns if c not in kept]
            sample = frame.select(*features)
            schema = output_schema or run(bundle, sample.limit(20), api_name).schema
            predict = udf(bundle, api_name, output_schema=schema, spark=spark)
            result = frame.select(*kept, predict(struct(*features)).alias("_r")).select(*kept, "_r.*")
        else:
            result = run(bundle, frame, api_name, output_schema=output_schema)
        _write(result, output_path, out_format, overwrite)
    except (BentoMLException, click.ClickException):
        raise
    except Exception as exc:  # Spark's errors (Py4J, PythonException, AnalysisException)
        raise click.ClickException(_one_line(exc)) from None

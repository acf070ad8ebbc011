"""Batch inference on Spark local[2]: bentoml_spark against the limit and against MLflow, in one run.

    bench/setup_spark_peers.sh                       # once: bench/.venvs/spark-mlflow
    bench/.venvs/spark-mlflow/bin/python bench/spark_bench.py [--rows 400000] [--rounds 3]

One SparkSession (local[2]), one model (the spec's iris ``SVC(gamma='scale')``,
bench/peers/models.py, or ``--model rf``), the same cached input DataFrame of
``--rows`` rows in ``--partitions`` partitions.  Each job is timed to a ``noop``
sink (every row computed, nothing written), after one untimed warm-up run of
each (the Python workers start and load their models), alternating the jobs
over ``--rounds`` and taking the median:

- ``hand``:   a hand-written ``mapInPandas`` calling ``model.predict`` on each Arrow batch
              (the model captured in the closure), on the pandas DataFrame it gets, the call
              the spec's IrisClassifier makes (and bench/batch_bench.py's limit): the limit;
- ``hand-np``: the same on ``batch.to_numpy()``, which skips scikit-learn's checks of a
              DataFrame's feature names (about 8% of predict on 10,000 iris rows): what a
              service written that way would gain, shown for reference;
- ``ours``:   ``bentoml_spark.run(bundle, df, "predict", output_schema="result long")``;
- ``ours-udf``: ``bentoml_spark.udf`` in a ``select``;
- ``mlflow``: ``mlflow.pyfunc.spark_udf(spark, model, result_type="long", env_manager="local")``
              on the same model saved with ``mlflow.sklearn.save_model``.

Prints wall time, rows/s and the CPU seconds Spark used (its JVM and Python workers,
from /proc) for each, and the ratios ours/hand (aim: at least 0.9) and ours/mlflow
(aim: above 1), of throughput and of CPU per row: each round's, and their median.  On a shared machine trust the CPU
ratio: wall times swing with other programs' load, CPU seconds much less.  Spark's Arrow batch size is ``--chunk-size`` for every job.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))


def _session(chunk_size: int):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (SparkSession.builder.master("local[2]").appName("spark_bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.port", "18290").config("spark.blockManager.port", "18295")
             .config("spark.driver.memory", "2g")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _input_frame(rows: int, seed: int = 0):
    """``rows`` iris-like rows: the 150 iris rows resampled with a little noise."""
    import numpy as np
    import pandas as pd
    from sklearn import datasets

    iris = datasets.load_iris()
    rng = np.random.default_rng(seed)
    picked = iris.data[rng.integers(0, len(iris.data), rows)] + rng.normal(0, 0.05, (rows, 4))
    return pd.DataFrame(picked.round(2), columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])


def _save_ours(model, where: str) -> str:
    from iris_classifier import IrisClassifier  # bench/peers: the spec's service

    service = IrisClassifier()
    service.pack("model", model)
    return service.save_to_dir(os.path.join(where, "IrisClassifier-bench"), version="bench")


def _save_mlflow(model, where: str) -> str:
    import mlflow.sklearn

    path = os.path.join(where, "mlflow-model")
    # cloudpickle: the format 2.x used by default (3.x defaults to skops, another dependency)
    mlflow.sklearn.save_model(model, path, serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE)
    return path


def _jobs(spark, df, model, bundle: str, mlflow_model: str):
    import pandas as pd
    from pyspark.sql.functions import struct

    import bentoml_spark

    columns = df.columns

    def hand(batches):
        for batch in batches:
            yield pd.DataFrame({"result": model.predict(batch)})

    def hand_numpy(batches):
        for batch in batches:
            yield pd.DataFrame({"result": model.predict(batch.to_numpy())})

    jobs = {
        "hand": lambda: df.mapInPandas(hand, "result long"),
        "hand-np": lambda: df.mapInPandas(hand_numpy, "result long"),
        "ours": lambda: bentoml_spark.run(bundle, df, "predict", output_schema="result long"),
    }
    ours_udf = bentoml_spark.udf(bundle, "predict", output_schema="long", spark=spark)
    jobs["ours-udf"] = lambda: df.select(ours_udf(struct(*columns)).alias("result"))
    try:
        import mlflow.pyfunc
    except ImportError:
        print("mlflow is not installed here: run bench/setup_spark_peers.sh and this venv's python",
              file=sys.stderr)
    else:
        mlflow_udf = mlflow.pyfunc.spark_udf(spark, mlflow_model, result_type="long", env_manager="local")
        jobs["mlflow"] = lambda: df.select(mlflow_udf(*columns).alias("result"))
    return jobs


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds() -> float:
    """CPU used so far by Spark's JVM and its Python workers (the daemon and the workers it
    forked; a reaped worker's time is in the daemon's cutime): unlike wall time, it does not
    grow when other programs share the cores."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ours_jvm = b"java" in cmdline.split(b"\0")[0] and int(fields[1]) == os.getpid()  # our Spark driver
        if b"pyspark.daemon" in cmdline or ours_jvm:
            total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / _TICKS


def _time(job) -> tuple:
    """(wall seconds, CPU seconds of Spark) of one job to the noop sink."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    job().write.format("noop").mode("overwrite").save()
    return time.perf_counter() - start, _cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--model", choices=("svc", "rf"), default="svc")
    args = parser.parse_args()

    import models

    os.environ.setdefault("BENTOML_HOME", tempfile.mkdtemp(prefix="spark-bench-home-"))
    model = models.train(args.model)
    work = tempfile.mkdtemp(prefix="spark-bench-")
    bundle, mlflow_model = _save_ours(model, work), _save_mlflow(model, work)
    spark = _session(args.chunk_size)
    df = spark.createDataFrame(_input_frame(args.rows)).repartition(args.partitions).cache()
    assert df.count() == args.rows
    jobs = _jobs(spark, df, model, bundle, mlflow_model)

    reference = [r.result for r in jobs["hand"]().limit(1000).collect()]
    for name, job in jobs.items():  # warm-up, and every job answers what the model answers
        assert [r.result for r in job().limit(1000).collect()] == reference, name
        _time(job)
    wall = {name: [] for name in jobs}
    cpu = {name: [] for name in jobs}
    for round_ in range(args.rounds):
        order = list(jobs) if round_ % 2 == 0 else list(reversed(jobs))
        for name in order:
            seconds, used = _time(jobs[name])
            wall[name].append(seconds)
            cpu[name].append(used)
    spark.stop()

    median = {name: statistics.median(s) for name, s in wall.items()}
    median_cpu = {name: statistics.median(s) for name, s in cpu.items()}
    print(f"Spark local[2], {args.rows} rows in {args.partitions} partitions, Arrow batches of "
          f"{args.chunk_size}, model {args.model}, median of {args.rounds} rounds; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'job':10} {'wall s':>7} {'rows/s':>9} {'CPU s':>7}  wall runs / CPU runs")
    for name in jobs:
        runs = ", ".join(f"{s:.2f}" for s in wall[name]) + " / " + ", ".join(f"{s:.2f}" for s in cpu[name])
        print(f"{name:10} {median[name]:7.2f} {args.rows / median[name]:9.0f} {median_cpu[name]:7.2f}  {runs}")
    # Ratios of each round's pair (jobs of a round run seconds apart) and their median: this
    # machine's speed drifts over minutes, so ratios of medians mix runs of different moments.
    for ours in ("ours", "ours-udf"):
        peers = [("hand", ">= 0.9"), ("hand-np", "reference")] + ([("mlflow", "> 1")] if "mlflow" in median else [])
        for peer, aim in peers:
            pace = [p / o for p, o in zip(wall[peer], wall[ours])]
            per_row = [p / o for p, o in zip(cpu[peer], cpu[ours])]
            print(f"{ours}/{peer}: throughput median {statistics.median(pace):.2f} "
                  f"({', '.join(f'{x:.2f}' for x in pace)}), CPU per row median {statistics.median(per_row):.2f} "
                  f"({', '.join(f'{x:.2f}' for x in per_row)}) (aim {aim})")


if __name__ == "__main__":
    main()

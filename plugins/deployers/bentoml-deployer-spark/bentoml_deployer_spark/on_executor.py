"""What runs on Spark's Python workers: load the shipped Bento once, run Arrow batches through it.

This module is pickled *by value* (``cloudpickle.register_pickle_by_value``):
an executor needs the Bento's own distributions (the kernel and its plugins,
which the Bento carries in ``wheels/``), never this plugin.  So nothing here
imports ``bentoml`` or this package at module level; the functions import the
kernel when they run, and a worker where it is missing gets an error naming
the missing distributions instead of a pickling traceback.

Errors meant for the user start with :data:`ERROR_PREFIX`, which the driver
finds in Spark's ``PythonException`` text (:func:`bentoml_deployer_spark.errors.user_message`).
"""
import sys
import types

#: Starts every message a worker raises for the user (the driver looks for it).
ERROR_PREFIX = "[bentoml-spark] "

# A module in sys.modules outlives the function copies Spark unpickles for
# each task, so a reused Python worker loads each Bento once, not once a task.
_CACHE_MODULE = "_bentoml_spark_worker_cache"


def _worker_cache():
    module = sys.modules.get(_CACHE_MODULE)
    if module is None:
        module = sys.modules[_CACHE_MODULE] = types.ModuleType(_CACHE_MODULE)
        module.services = {}  # SparkFiles name -> the loaded service: one load per Bento
        module.runners = {}  # (SparkFiles name, API, chunk size) -> its BatchRunner
    return module


def _missing_distributions(distributions):
    from importlib import metadata

    missing = []
    for dist in distributions:
        try:
            metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            missing.append(dist)
    return missing


def _fail(message):
    raise RuntimeError(ERROR_PREFIX + message)


def load_runner(bento):
    """A runner of ``bento``'s API (``bento`` is a ``ShippedBento.as_dict()``); the Bento is
    loaded once per worker process, whichever APIs and chunk sizes the tasks ask for, and
    each runner made once (so a model's warning is shown once per worker, not per partition)."""
    cache = _worker_cache()
    key = (bento["file_name"], bento["api_name"], bento["chunk_size"])
    if key in cache.runners:
        return cache.runners[key]
    services = cache.services
    service = services.get(bento["file_name"])
    if service is None:
        missing = _missing_distributions(bento["distributions"])
        if missing:
            _fail(f"the Spark workers' Python ({sys.executable}) lacks {', '.join(missing)}, which "
                  f"the Bento {bento['tag']} needs; install the Bento's own wheels there: "
                  f"pip install {bento['driver_path']}/wheels/*.whl (or set PYSPARK_PYTHON / "
                  "spark.pyspark.python to a Python that has them)")
        try:
            from pyspark import SparkFiles

            from bentoml.bundle.load import load_from_dir

            service = services[bento["file_name"]] = load_from_dir(SparkFiles.get(bento["file_name"]))
        except ImportError as exc:  # a plugin of a version without what the Bento needs, a framework
            _fail(f"loading the Bento {bento['tag']} on a Spark worker ({sys.executable}): {exc}")
    from bentoml.batch import BatchRunner

    runner = cache.runners[key] = BatchRunner(service, bento["api_name"], chunk_size=bento["chunk_size"])
    return runner


def _partition_label():
    from pyspark import TaskContext

    context = TaskContext.get()
    return f"partition {context.partitionId()}" if context is not None else "a partition"


def _fit_columns(result, columns, bento):
    """Results named as the output schema: by name when they carry its names, else by position."""
    names = [str(c) for c in result.columns]
    if set(names) <= set(columns):
        result.columns = names
        return result.reindex(columns=columns)  # a key some rows of a chunk lack is empty
    if len(names) != len(columns):
        _fail(f"the API {bento['api_name']} of {bento['tag']} gave {len(names)} result columns "
              f"{names}, the output schema has {len(columns)}: {columns}; pass an output_schema "
              "matching the results")
    result.columns = columns
    return result


def run_batches(bento, frames, columns):
    """Each pandas DataFrame of ``frames`` (Arrow batches of one partition) -> the API's results.

    The batches are cut to the Bento's chunk size and run in order with the
    kernel's ``BatchRunner``.  A bad row stops the task naming the partition
    and the row's 1-based number within it, counted over the partition's
    batches (a partition does not know its offset in the whole DataFrame).
    ``columns`` are the output schema's field names.
    """
    runner = load_runner(bento)
    from bentoml.exceptions import BentoMLException

    results = runner.run_chunks(frame.reset_index(drop=True) for frame in frames)
    while True:
        try:
            result = next(results)
        except StopIteration:
            return
        except BentoMLException as exc:
            _fail(f"{_partition_label()}, {exc}")
        yield _fit_columns(result, columns, bento)


def map_in_pandas_function(bento, columns):
    """The function ``DataFrame.mapInPandas`` runs: every partition through the Bento's API."""

    def run_partition(frames):
        return run_batches(bento, frames, columns)

    return run_partition


def _as_frame(batch):
    """A pandas UDF's argument batch (one Series, a tuple of them, or a struct's DataFrame) as a frame."""
    import pandas as pd

    if isinstance(batch, pd.DataFrame):
        return batch
    if isinstance(batch, pd.Series):
        batch = (batch,)
    # positional columns 0..n-1, as DataframeInput names rows given as lists
    return pd.concat([s.reset_index(drop=True) for s in batch], axis=1, ignore_index=True)


def scalar_iter_function(bento, columns, as_struct):
    """The function of ``udf()``'s pandas UDF: batches in, a Series (or a struct's frame) out."""

    def predict(batches):
        for result in run_batches(bento, (_as_frame(b) for b in batches), columns):
            yield result if as_struct else result[columns[0]]

    # The hints (set here, on the driver) make it an iterator UDF: pyspark calls it once per
    # partition with every batch, instead of once per batch.
    from typing import Iterator

    import pandas as pd

    predict.__annotations__ = {"batches": Iterator[pd.Series], "return": Iterator[pd.Series]}
    return predict


"""Batch inference of a Bento on Apache Spark, with no server in between.

- :func:`bentoml_spark.run` (``bentoml_deployer_spark.run``): a DataFrame of an
  API's results for every row of a DataFrame (``mapInPandas``);
- :func:`bentoml_spark.udf`: a pandas UDF of the API, to use in ``select``/``withColumn``;
- ``bentoml batch BENTO API --input PATH --output PATH [--master URL]`` over
  CSV, JSON lines and Parquet (:mod:`.cli`);
- the deployment target ``spark`` (:class:`SparkDeployer`).

The Bento is shipped once per SparkContext (``SparkContext.addFile``), loaded
once per Python worker and called on Arrow batches in-process.  Executors need
the Bento's own distributions (its ``wheels/``), not this plugin.  pyspark is
imported only when one of these runs.
"""
from __future__ import annotations

from bentoml.hookspecs import hookimpl

# api imports no pyspark until a function runs: loading the plugin stays cheap
from bentoml_deployer_spark.api import run, udf
from bentoml_deployer_spark.deployer import SparkDeployer

__all__ = ["run", "udf", "SparkDeployer"]


@hookimpl
def register_deployers(register):
    """The ``spark`` target."""
    register(SparkDeployer, SparkDeployer.name)


@hookimpl
def register_commands(cli):
    """``bentoml batch``."""
    from bentoml_deployer_spark.cli import batch

    cli.add_command(batch)
